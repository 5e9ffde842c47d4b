// Elementwise SIMD kernels, 16 bytes a step: table lookups over raw bytes (ops/byte-table.ts), and rows of
// quantized MUL, ADD and SUB.
//
// A lookup holds the 256-byte table in 16 vectors; i8x16.swizzle gives 0 for an index of 16 or more, so
// OR-ing swizzle(vector t, byte - 16t) over t picks the one vector whose range holds each byte.
//
// MUL (ops/mul.ts) runs on the rows of the broadcast walk of ops/broadcast.ts: each
// operand either runs along the row (step 1) or stays on one element (step 0), as in a squeeze-excite block's
// [1,H,W,C] × [1,1,1,C]. Same arithmetic as mulQuantizedRow, byte for byte:
//   out = clamp(MultiplyByQuantizedMultiplier((a - zpA) · (b - zpB), m, shift) + zpOut)
// The centred values fit int16 (|q - zp| ≤ 255) and their product int32; the requantization is the exact one of
// ops/wasm/requantize.ts with the one multiplier in every lane.
import type { FunctionBuilder, Local, ModuleBuilder } from '../../src/wasm/assembler.js';
import type { SimdMemory, WasmKernelModule } from '../../src/wasm/runtime.js';
import { emitHalfConstant, emitRequantize4, prepareRequantTable, REQUANT_HEADER_BYTES } from './requantize.js';

type Row = (a: number, aStep: number, b: number, bStep: number, out: number, n: number, table: number, zpA: number, zpB: number) => number;
type AddRow = (a: number, aStep: number, b: number, bStep: number, out: number, n: number, table: number) => number;

interface Exports {
  mul_int8: Row;
  mul_uint8: Row;
  add_int8: AddRow;
  add_uint8: AddRow;
  look_up_bytes: (from: number, to: number, n: number, table: number) => number;
}

/** A byte table placed in SIMD memory, and the lookup function. */
export interface SimdLookup {
  lookUp: Exports['look_up_bytes'];
  table: number;
}

/** Places `table` (256 entries, stored as bytes: a negative entry as its two's complement) in SIMD memory. */
export function prepareSimdLookup(simd: SimdMemory, table: Int32Array): SimdLookup {
  return { lookUp: simd.exports<Exports>(elementwiseKernels).look_up_bytes, table: simd.place(Uint8Array.from(table, (v) => v & 0xff)) };
}

/**
 * to[i] = table[from[i]] for i < n in whole steps of 16; returns how many it did: none unless both arrays are views
 * of the SIMD memory (`to`, in the arena, always is; a constant input lives in the model).
 */
export function simdLookUpBytes(l: SimdLookup, from: Uint8Array, to: Uint8Array, n: number): number {
  return from.buffer === to.buffer ? l.lookUp(from.byteOffset, to.byteOffset, n, l.table) : 0;
}

/**
 * A binary op's SIMD form, bound to its tables: (a, aStep, b, bStep, out, n) by byte address, computing whole steps
 * of 16 and returning how many it computed.
 */
export interface SimdBinary {
  run(a: number, aStep: number, b: number, bStep: number, out: number, n: number): number;
}

export interface SimdMulSource {
  dtype: 'int8' | 'uint8';
  multiplier: number;
  shift: number;
  outputOffset: number;
  min: number;
  max: number;
  zeroPointA: number;
  zeroPointB: number;
}

export function prepareSimdMul(simd: SimdMemory, s: SimdMulSource): SimdBinary {
  const stage = {
    multipliers: Int32Array.of(s.multiplier), shifts: Int32Array.of(s.shift), rounding: 'double' as const,
    outputOffset: s.outputOffset, min: s.min, max: s.max,
  };
  // One channel's entries, repeated in all four lanes of the table's first group.
  const table = prepareRequantTable(simd, stage, 1);
  const exports = simd.exports<Exports>(elementwiseKernels);
  const row = s.dtype === 'int8' ? exports.mul_int8 : exports.mul_uint8;
  const { zeroPointA, zeroPointB } = s;
  return { run: (a, aStep, b, bStep, out, n) => row(a, aStep, b, bStep, out, n, table, zeroPointA, zeroPointB) };
}

/**
 * A row of the broadcast walk (ops/broadcast.ts) on the SIMD tier: out[outStart + i] for i < n from
 * a[aStart + i·aStep] and b[bStart + i·bStep], in whole steps of 16; returns how many it computed, and the caller
 * finishes the row. It computes none unless both operands are views of the SIMD memory, as `out` (in the arena)
 * always is: a constant operand lives in the model.
 */
export function simdBinaryRow(
  m: SimdBinary,
  a: Uint8Array,
  aStart: number,
  aStep: number,
  b: Uint8Array,
  bStart: number,
  bStep: number,
  out: Uint8Array,
  outStart: number,
  n: number,
): number {
  if (a.buffer !== out.buffer || b.buffer !== out.buffer) return 0;
  return m.run(a.byteOffset + aStart, aStep, b.byteOffset + bStart, bStep, out.byteOffset + outStart, n);
}

/**
 * ADD and SUB (ops/add.ts), whose three multipliers are per tensor, so every lane shares one shift:
 *   scaled_i = MultiplyByQuantizedMultiplierSmallerThanOneExp((q_i - zp_i) · 2^20, m_i)
 *   out      = clamp(MultiplyByQuantizedMultiplierSmallerThanOneExp(scaled_1 ± scaled_2, m_out) + zp_out)
 * Each multiply is SaturatingRoundingDoublingHighMul (64-bit lane products, as in requantize.ts) then
 * RoundingDivideByPOT by the tensor's one exponent, which i32x4 shifts take as they are.
 */
export interface SimdAddSource {
  dtype: 'int8' | 'uint8';
  /** 1 for ADD, -1 for SUB. */
  input2Sign: number;
  zeroPointA: number;
  zeroPointB: number;
  input1Multiplier: number;
  input1Shift: number;
  input2Multiplier: number;
  input2Shift: number;
  outputMultiplier: number;
  outputShift: number;
  outputOffset: number;
  min: number;
  max: number;
}

// The ADD table: i32x4 vectors at these byte offsets (each value in all four lanes), then the three exponents.
const ADD_ZERO_A = 0;
const ADD_ZERO_B = 16;
const ADD_MULTIPLIER_A = 32;
const ADD_MULTIPLIER_B = 48;
const ADD_MULTIPLIER_OUT = 64;
const ADD_OFFSET = 80;
const ADD_MIN = 96;
const ADD_MAX = 112;
const ADD_SIGN = 128;
const ADD_EXPONENTS = 144;

export function prepareSimdAdd(simd: SimdMemory, s: SimdAddSource): SimdBinary {
  const table = new Int32Array(ADD_EXPONENTS / 4 + 4);
  const vectors: [number, number][] = [
    [ADD_ZERO_A, s.zeroPointA], [ADD_ZERO_B, s.zeroPointB], [ADD_MULTIPLIER_A, s.input1Multiplier],
    [ADD_MULTIPLIER_B, s.input2Multiplier], [ADD_MULTIPLIER_OUT, s.outputMultiplier], [ADD_OFFSET, s.outputOffset],
    [ADD_MIN, s.min - s.outputOffset], [ADD_MAX, s.max - s.outputOffset], [ADD_SIGN, s.input2Sign],
  ];
  for (const [at, value] of vectors) table.fill(value, at / 4, at / 4 + 4);
  table.set([-s.input1Shift, -s.input2Shift, -s.outputShift], ADD_EXPONENTS / 4);
  const exports = simd.exports<Exports>(elementwiseKernels);
  const row = s.dtype === 'int8' ? exports.add_int8 : exports.add_uint8;
  const address = simd.place(table);
  return { run: (a, aStep, b, bStep, out, n) => row(a, aStep, b, bStep, out, n, address) };
}

export const elementwiseKernels: WasmKernelModule = {
  name: 'ops/wasm/elementwise.ts',
  emit(module: ModuleBuilder) {
    for (const signed of [true, false]) {
      emitMul(module, signed);
      emitAdd(module, signed);
    }
    emitLookUp(module);
  },
};

/**
 * Emits MultiplyByQuantizedMultiplierSmallerThanOneExp of the i32x4 in local `x` by the multiplier vector at
 * `table + multiplierAt` and the exponent in local `exponent` (the right shift, 0..31; `mask` holds 2^exponent - 1
 * in every lane), leaving the result on the stack. `low`, `high` are scratch; `half` holds 2^30 in both i64 lanes.
 */
export function emitUniformMultiply(
  f: FunctionBuilder, x: Local, table: Local, multiplierAt: number, exponent: Local, mask: Local, low: Local, high: Local, half: Local,
): void {
  // SaturatingRoundingDoublingHighMul: bits 31..62 of x·M + 2^30, from each 64-bit lane shifted left once.
  f.get(x).get(table).mem('v128.load', multiplierAt).op('i64x2.extmul_low_i32x4_s').set(low);
  f.get(x).get(table).mem('v128.load', multiplierAt).op('i64x2.extmul_high_i32x4_s').set(high);
  for (const v of [low, high]) f.get(v).get(half).op('i64x2.add').i32(1).op('i64x2.shl').set(v);
  f.get(low).get(high).shuffle([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]).set(x);
  // RoundingDivideByPOT: (x >> e) + [(x & mask) > (mask >> 1) + (x < 0)], the comparison's true being -1.
  f.get(x).get(exponent).op('i32x4.shr_s');
  f.get(x).get(mask).op('v128.and');
  f.get(mask).i32(1).op('i32x4.shr_s').get(x).i32(31).op('i32x4.shr_u', 'i32x4.add');
  f.op('i32x4.gt_s', 'i32x4.sub');
}

function emitAdd(module: ModuleBuilder, signed: boolean): void {
  module.addFunction(signed ? 'add_int8' : 'add_uint8', ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'], ['i32'], (f) => {
    const [a, aStep, b, bStep, out, n, table] = f.params;
    const i = f.local('i32');
    const exponents = [f.local('i32'), f.local('i32'), f.local('i32')];
    const masks = [f.local('v128'), f.local('v128'), f.local('v128')];
    const bytesA = f.local('v128');
    const bytesB = f.local('v128');
    const x = f.local('v128');
    const y = f.local('v128');
    const low = f.local('v128');
    const high = f.local('v128');
    const half = f.local('v128');
    const results = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
    emitHalfConstant(f, half);
    exponents.forEach((e, k) => {
      f.get(table).mem('i32.load', ADD_EXPONENTS + 4 * k).set(e);
      // (1 << e) - 1 in every lane.
      f.i32(1).get(e).op('i32.shl').i32(1).op('i32.sub', 'i32x4.splat').set(masks[k]);
    });
    const operand = (base: Local, step: Local, into: Local) => {
      f.get(step).if(
        () => f.get(base).get(i).op('i32.add').mem('v128.load').set(into),
        () => f.get(base).mem('v128.load8_splat').set(into),
      );
    };
    const extend16 = signed ? (['i16x8.extend_low_i8x16_s', 'i16x8.extend_high_i8x16_s'] as const) : (['i16x8.extend_low_i8x16_u', 'i16x8.extend_high_i8x16_u'] as const);
    const extend32 = ['i32x4.extend_low_i16x8_s', 'i32x4.extend_high_i16x8_s'] as const;
    // Lanes 4k..4k+3 of an operand's bytes, (q - zp) · 2^20, into `into`.
    const shifted = (bytes: Local, zeroAt: number, k: number, into: Local) => {
      f.get(bytes).op(extend16[k >> 1], extend32[k & 1]);
      f.get(table).mem('v128.load', zeroAt).op('i32x4.sub').i32(20).op('i32x4.shl').set(into);
    };
    f.forLoop(i, () => f.i32(0), () => f.get(n).i32(15).op('i32.sub'), 16, () => {
      operand(a, aStep, bytesA);
      operand(b, bStep, bytesB);
      for (let k = 0; k < 4; k++) {
        shifted(bytesA, ADD_ZERO_A, k, x);
        emitUniformMultiply(f, x, table, ADD_MULTIPLIER_A, exponents[0], masks[0], low, high, half);
        f.set(y);
        shifted(bytesB, ADD_ZERO_B, k, x);
        emitUniformMultiply(f, x, table, ADD_MULTIPLIER_B, exponents[1], masks[1], low, high, half);
        // scaled_1 ± scaled_2, wrapping as TFLM's int32 sum.
        f.get(table).mem('v128.load', ADD_SIGN).op('i32x4.mul').get(y).op('i32x4.add').set(x);
        emitUniformMultiply(f, x, table, ADD_MULTIPLIER_OUT, exponents[2], masks[2], low, high, half);
        f.get(table).mem('v128.load', ADD_MIN).op('i32x4.max_s');
        f.get(table).mem('v128.load', ADD_MAX).op('i32x4.min_s');
        f.get(table).mem('v128.load', ADD_OFFSET).op('i32x4.add').set(results[k]);
      }
      f.get(out).get(i).op('i32.add');
      f.get(results[0]).get(results[1]).op('i16x8.narrow_i32x4_s').get(results[2]).get(results[3]).op('i16x8.narrow_i32x4_s');
      f.op(signed ? 'i8x16.narrow_i16x8_s' : 'i8x16.narrow_i16x8_u').mem('v128.store');
    });
    f.get(i);
  });
}

function emitLookUp(module: ModuleBuilder): void {
  module.addFunction('look_up_bytes', ['i32', 'i32', 'i32', 'i32'], ['i32'], (f) => {
    const [from, to, n, table] = f.params;
    const i = f.local('i32');
    const bytes = f.local('v128');
    const result = f.local('v128');
    const parts = Array.from({ length: 16 }, () => f.local('v128'));
    parts.forEach((part, t) => f.get(table).mem('v128.load', 16 * t).set(part));
    f.forLoop(i, () => f.i32(0), () => f.get(n).i32(15).op('i32.sub'), 16, () => {
      f.get(from).get(i).op('i32.add').mem('v128.load').set(bytes);
      f.get(parts[0]).get(bytes).op('i8x16.swizzle').set(result);
      for (let t = 1; t < 16; t++) {
        f.get(parts[t]).get(bytes).i32(16 * t).op('i8x16.splat', 'i8x16.sub', 'i8x16.swizzle');
        f.get(result).op('v128.or').set(result);
      }
      f.get(to).get(i).op('i32.add').get(result).mem('v128.store');
    });
    f.get(i);
  });
}

function emitMul(module: ModuleBuilder, signed: boolean): void {
  const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
  module.addFunction(signed ? 'mul_int8' : 'mul_uint8', [...params], ['i32'], (f) => {
    const [a, aStep, b, bStep, out, n, table, zpA, zpB] = f.params;
    const i = f.local('i32');
    const group = f.local('i32');
    const zeroA = f.local('v128');
    const zeroB = f.local('v128');
    const x = f.local('v128');
    const y = f.local('v128');
    const acc = f.local('v128');
    const low = f.local('v128');
    const high = f.local('v128');
    const half = f.local('v128');
    const r = [f.local('v128'), f.local('v128'), f.local('v128')];
    emitHalfConstant(f, half);
    f.get(zpA).op('i16x8.splat').set(zeroA);
    f.get(zpB).op('i16x8.splat').set(zeroB);
    f.get(table).i32(REQUANT_HEADER_BYTES).op('i32.add').set(group);
    const extendLow = signed ? 'i16x8.extend_low_i8x16_s' : 'i16x8.extend_low_i8x16_u';
    const extendHigh = signed ? 'i16x8.extend_high_i8x16_s' : 'i16x8.extend_high_i8x16_u';
    // 16 bytes of an operand at element i: loaded, or its one element splatted when its step is 0.
    const operand = (base: Local, step: Local) => {
      f.get(step).if(
        () => f.get(base).get(i).op('i32.add').mem('v128.load').set(x),
        () => f.get(base).mem('v128.load8_splat').set(x),
      );
    };
    const centred = (v: Local, zero: Local, extend: typeof extendLow | typeof extendHigh) => f.get(v).op(extend).get(zero).op('i16x8.sub');
    f.forLoop(i, () => f.i32(0), () => f.get(n).i32(15).op('i32.sub'), 16, () => {
      operand(a, aStep);
      f.get(x).set(y);
      operand(b, bStep);
      // y = a's 16 values, x = b's. Products of the centred int16 halves, four i32x4 of them.
      const products: [typeof extendLow | typeof extendHigh, 'i32x4.extmul_low_i16x8_s' | 'i32x4.extmul_high_i16x8_s'][] = [
        [extendLow, 'i32x4.extmul_low_i16x8_s'], [extendLow, 'i32x4.extmul_high_i16x8_s'],
        [extendHigh, 'i32x4.extmul_low_i16x8_s'], [extendHigh, 'i32x4.extmul_high_i16x8_s'],
      ];
      products.forEach(([extend, product], k) => {
        centred(y, zeroA, extend);
        centred(x, zeroB, extend);
        f.op(product).set(acc);
        emitRequantize4(f, acc, table, group, low, high, half);
        if (k < 3) f.set(r[k]);
      });
      f.set(acc);
      f.get(out).get(i).op('i32.add');
      f.get(r[0]).get(r[1]).op('i16x8.narrow_i32x4_s').get(r[2]).get(acc).op('i16x8.narrow_i32x4_s');
      f.op(signed ? 'i8x16.narrow_i16x8_s' : 'i8x16.narrow_i16x8_u').mem('v128.store');
    });
    // The loop leaves i at the first element it did not compute (0 when n < 16).
    f.get(i);
  });
}
