// Tables over the 256 raw bytes of an int8 or uint8 tensor. Where a kernel's result (or one operand's share
// of it) depends on a single input byte, prepare runs the reference arithmetic once per byte and eval looks
// the answer up in the tensor's raw bytes: the same numbers, without the fixed-point work per element. On the SIMD
// tier the lookup runs 16 bytes a step (ops/wasm/elementwise.ts).
import type { PrepareContext } from '../src/op.js';
import { prepareSimdLookup, simdLookUpBytes, type SimdLookup } from './wasm/elementwise.js';

/** f of the value each raw byte 0..255 holds in a tensor of `dtype` (int8 bytes are two's complement). */
export function perByteTable(dtype: 'int8' | 'uint8', f: (value: number) => number): Int32Array {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) table[byte] = f(dtype === 'int8' ? (byte << 24) >> 24 : byte);
  return table;
}

/** A table of output bytes, with its SIMD form when the SIMD tier is on. */
export interface ByteLookup {
  table: Int32Array;
  simd: SimdLookup | null;
}

export function byteLookup(table: Int32Array, context: PrepareContext): ByteLookup {
  return { table, simd: context.simd ? prepareSimdLookup(context.simd, table) : null };
}

/** out[i] = table[in[i]] over raw bytes; storing a negative entry in a byte keeps its two's complement. */
export function lookUpBytes(lookup: ByteLookup, from: Uint8Array, to: Uint8Array): void {
  const { table, simd } = lookup;
  const done = simd ? simdLookUpBytes(simd, from, to, from.length) : 0;
  for (let i = done; i < from.length; i++) to[i] = table[from[i]];
}
