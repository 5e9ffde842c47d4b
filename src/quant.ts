// Fixed-point arithmetic of TFLite's integer kernels, shared by every op.
//
// TFLM (tensorflow/lite/kernels/internal/common.h, quantization_util.cc) multiplies an int32 accumulator
// by a real multiplier encoded as a Q31 `multiplier` and a power-of-two `shift`. The products need 64 bits;
// JS numbers are exact only to 2^53, so every 31x31-bit product here is split into 16-bit halves so that
// each partial product stays below 2^48 and float64 arithmetic is exact. No BigInt: it is ~10x slower.

const TWO_POW_16 = 65536;
const TWO_POW_15 = 32768;
const TWO_POW_30 = 1073741824;
export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/** A real multiplier as TFLite encodes it: value = multiplier * 2^(shift - 31). */
export interface QuantizedMultiplier {
  multiplier: number;
  shift: number;
}

/** std::frexp: x = q * 2^exp with 0.5 <= |q| < 1. */
export function frexp(x: number): { q: number; exp: number } {
  if (x === 0 || !Number.isFinite(x)) return { q: x, exp: 0 };
  let exp = Math.max(-1073, Math.floor(Math.log2(Math.abs(x))) + 1);
  let q = x * 2 ** -exp;
  while (Math.abs(q) >= 1) {
    q /= 2;
    exp++;
  }
  while (Math.abs(q) < 0.5) {
    q *= 2;
    exp--;
  }
  return { q, exp };
}

/** TfLiteRound / std::round: half away from zero. */
export function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/**
 * QuantizeMultiplier (quantization_util.cc), without TFLITE_SINGLE_ROUNDING: the build TFLM's reference
 * kernels use. Multipliers below 2^-31 flush to zero, as in TFLM.
 */
export function quantizeMultiplier(realMultiplier: number): QuantizedMultiplier {
  // A zero output scale makes the multiplier infinite (or NaN). In TFLM, frexp(inf) gives exponent 0 and the
  // cast of inf to int64 yields INT64_MIN on x86, whose low 32 bits are 0: the multiplier becomes 0. Match it.
  if (realMultiplier === 0 || !Number.isFinite(realMultiplier)) return { multiplier: 0, shift: 0 };
  const { q, exp } = frexp(realMultiplier);
  let shift = exp;
  let qFixed = roundHalfAwayFromZero(q * 2147483648);
  if (qFixed === 2147483648) {
    qFixed /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: qFixed, shift };
}

/**
 * gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded. Its nudge (2^30, or
 * 1 - 2^30 for negative products) with C++'s truncating division makes it floor((a*b + 2^30) / 2^31) for
 * every int32 a, b: ties round upward (-1.5 -> -1). That floor is what we compute, exactly.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const bLow = b & 0xffff;
  const bHigh = b >> 16;
  const partial = a * bLow + TWO_POW_30;
  return Math.floor((a * bHigh + Math.floor(partial / TWO_POW_16)) / TWO_POW_15);
}

/** gemmlowp RoundingDivideByPOT: x / 2^exponent, rounded half away from zero. 0 <= exponent <= 31. */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = ((1 << exponent) - 1) | 0;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * MultiplyByQuantizedMultiplier as TFLM's reference kernels do it: two roundings, first in the doubling
 * high multiply, then in the power-of-two division. A positive shift is applied to x first, wrapping in
 * int32 as the C++ does.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(Math.imul(x, 1 << leftShift), multiplier), rightShift);
}

/**
 * The single-rounding variant (TFLITE_SINGLE_ROUNDING, and ruy's requantization, which TFLite's built-in
 * per-channel convolution goes through): (x * multiplier + 2^(30-shift)) >> (31 - shift), saturated to int32.
 */
export function multiplyByQuantizedMultiplierSingleRounding(x: number, multiplier: number, shift: number): number {
  const totalShift = 31 - shift;
  const mLow = multiplier & 0xffff;
  const mHigh = multiplier >>> 16;
  const high = x * mHigh; // x*multiplier = high*2^16 + low, each part exact
  const low = x * mLow;
  let result: number;
  if (totalShift > 16) {
    const roundHigh = 2 ** (totalShift - 17); // 2^(totalShift-1) / 2^16
    result = Math.floor((high + roundHigh + Math.floor(low / TWO_POW_16)) / 2 ** (totalShift - 16));
  } else {
    result = high * 2 ** (16 - totalShift) + Math.floor((low + 2 ** (totalShift - 1)) / 2 ** totalShift);
  }
  return result < INT32_MIN ? INT32_MIN : result > INT32_MAX ? INT32_MAX : result;
}

/** How an op requantizes its accumulators: TFLM's reference kernels ('double') or TFLite's ruy path ('single'). */
export type Rounding = 'double' | 'single';

export function requantizer(rounding: Rounding): (x: number, multiplier: number, shift: number) => number {
  return rounding === 'single' ? multiplyByQuantizedMultiplierSingleRounding : multiplyByQuantizedMultiplier;
}

/** Fused activation functions, as the schema numbers them. */
export const enum FusedActivation {
  NONE = 0,
  RELU = 1,
  RELU_N1_TO_1 = 2,
  RELU6 = 3,
  TANH = 4,
  SIGN_BIT = 5,
}

/** Integer range of a quantized type. */
export function typeRange(type: 'int8' | 'uint8' | 'int16' | 'int32'): { min: number; max: number } {
  switch (type) {
    case 'int8':
      return { min: -128, max: 127 };
    case 'uint8':
      return { min: 0, max: 255 };
    case 'int16':
      return { min: -32768, max: 32767 };
    case 'int32':
      return { min: INT32_MIN, max: INT32_MAX };
  }
}

/**
 * CalculateActivationRangeQuantized (kernel_util.cc): the clamp a fused activation imposes on a quantized
 * output, intersected with the type's range. Returns null for activations that have no integer form.
 */
export function activationRangeQuantized(
  activation: number,
  type: 'int8' | 'uint8' | 'int16',
  scale: number,
  zeroPoint: number,
): { min: number; max: number } | null {
  const range = typeRange(type);
  const quantize = (v: number) => zeroPoint + roundHalfAwayFromZero(Math.fround(v / scale));
  switch (activation) {
    case FusedActivation.NONE:
      return range;
    case FusedActivation.RELU:
      return { min: Math.max(range.min, quantize(0)), max: range.max };
    case FusedActivation.RELU6:
      return { min: Math.max(range.min, quantize(0)), max: Math.min(range.max, quantize(6)) };
    case FusedActivation.RELU_N1_TO_1:
      return { min: Math.max(range.min, quantize(-1)), max: Math.min(range.max, quantize(1)) };
    default:
      return null;
  }
}

/** CalculateActivationRange for float kernels. */
export function activationRangeFloat(activation: number): { min: number; max: number } | null {
  switch (activation) {
    case FusedActivation.NONE:
      return { min: -Infinity, max: Infinity };
    case FusedActivation.RELU:
      return { min: 0, max: Infinity };
    case FusedActivation.RELU6:
      return { min: 0, max: 6 };
    case FusedActivation.RELU_N1_TO_1:
      return { min: -1, max: 1 };
    default:
      return null;
  }
}
