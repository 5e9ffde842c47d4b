// The inputs of ../shared/golden (golden/README.md, "Inputs"): a xorshift byte stream per input, mapped to the
// input's type. `compare` feeds them when no input file is given, so its results line up with the goldens.
import type { DType } from '../schema/tflite.js';
import { InputError } from '../src/errors.js';

type ElementArray = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array;

/** Per input type: the typed array that holds it, and the value of stream byte b. */
const RULES: Partial<Record<DType, { array: new (length: number) => ElementArray; value: (b: number) => number }>> = {
  uint8: { array: Uint8Array, value: (b) => b },
  int8: { array: Int8Array, value: (b) => b - 128 },
  float32: { array: Float32Array, value: (b) => (b / 255) * 2 - 1 },
  int16: { array: Int16Array, value: (b) => (b - 128) * 64 },
  int32: { array: Int32Array, value: (b) => b },
};

/** Raw little-endian bytes of input `k` with `elements` elements of `dtype`, by the golden rule. */
export function goldenRuleInput(dtype: DType, elements: number, k: number): Uint8Array {
  const rule = RULES[dtype];
  if (!rule) throw new InputError(`the golden input rule has no mapping for ${dtype} inputs`);
  const values = new rule.array(elements);
  let s = (0x12345678 + k) >>> 0;
  for (let i = 0; i < elements; i++) {
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    values[i] = rule.value(s & 0xff);
  }
  return new Uint8Array(values.buffer);
}
