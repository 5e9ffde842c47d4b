// Tables over the 256 raw bytes of an int8 or uint8 tensor. Where a kernel's result (or one operand's share
// of it) depends on a single input byte, prepare runs the reference arithmetic once per byte and eval looks
// the answer up in the tensor's raw bytes: the same numbers, without the fixed-point work per element.

/** f of the value each raw byte 0..255 holds in a tensor of `dtype` (int8 bytes are two's complement). */
export function perByteTable(dtype: 'int8' | 'uint8', f: (value: number) => number): Int32Array {
  const table = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) table[byte] = f(dtype === 'int8' ? (byte << 24) >> 24 : byte);
  return table;
}

/** out[i] = table[in[i]] over raw bytes; storing a negative entry in a byte keeps its two's complement. */
export function lookUpBytes(table: Int32Array, from: Uint8Array, to: Uint8Array): void {
  for (let i = 0; i < from.length; i++) to[i] = table[from[i]];
}
