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

/** A double and its two 32-bit halves, for reading exponent bits in frexp (a DataView costs ~100 ns a call). */
const doubleSlot = new Float64Array(1);
const doubleWords = new Uint32Array(doubleSlot.buffer);
/** Which word holds the sign and exponent: 1 on little-endian hosts. */
const HIGH_WORD = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** std::frexp: x = q * 2^exp with 0.5 <= |q| < 1. */
export function frexp(x: number): { q: number; exp: number } {
  if (x === 0 || !Number.isFinite(x)) return { q: x, exp: 0 };
  // A normal double is 1.m * 2^(e - 1023) for its 11 exponent bits e: exp = e - 1022, and q is x with those bits
  // set to 1022. Thousands of channel multipliers are made at every load: bit reads, no log2 and no pow.
  doubleSlot[0] = x;
  const high = doubleWords[HIGH_WORD];
  const biased = (high >>> 20) & 0x7ff;
  if (biased !== 0) {
    doubleWords[HIGH_WORD] = (high & 0x800fffff) | (1022 << 20);
    return { q: doubleSlot[0], exp: biased - 1022 };
  }
  // Subnormal: scaled by 2^64 it is normal, exactly.
  const scaled = frexp(x * 2 ** 64);
  return { q: scaled.q, exp: scaled.exp - 64 };
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
  quantizeMultiplierInto(realMultiplier, oneMultiplier, oneShift, 0);
  return { multiplier: oneMultiplier[0], shift: oneShift[0] };
}

const oneMultiplier = new Int32Array(1);
const oneShift = new Int32Array(1);

/**
 * quantizeMultiplier into multipliers[at] and shifts[at], allocating nothing: a model's load makes one per output
 * channel, thousands of them.
 */
export function quantizeMultiplierInto(realMultiplier: number, multipliers: Int32Array, shifts: Int32Array, at: number): void {
  multipliers[at] = 0;
  shifts[at] = 0;
  // A zero output scale makes the multiplier infinite (or NaN). In TFLM, frexp(inf) gives exponent 0 and the
  // cast of inf to int64 yields INT64_MIN on x86, whose low 32 bits are 0: the multiplier becomes 0. Match it.
  if (realMultiplier === 0 || !Number.isFinite(realMultiplier)) return;
  const { q, exp } = frexp(realMultiplier);
  let shift = exp;
  let qFixed = roundHalfAwayFromZero(q * 2147483648);
  if (qFixed === 2147483648) {
    qFixed /= 2;
    shift++;
  }
  if (shift < -31) return;
  multipliers[at] = qFixed;
  shifts[at] = shift;
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
 * static_cast<int32_t>(x) of a float or double as x86-64 compiles it (cvttss2si / cvttsd2si): truncation
 * toward zero, and INT32_MIN for NaN and for values outside the int32 range, which C++ leaves undefined.
 * TFLM meets those when a zero scale turns a quantized bound such as round(6.0f / scale) into infinity.
 */
export function truncateToInt32(x: number): number {
  return x > -2147483649 && x < 2147483648 ? x | 0 : INT32_MIN;
}

/** CalculateInputRadius (quantization_util.cc): the largest input difference that survives the rescale unclipped. */
export function calculateInputRadius(inputIntegerBits: number, inputLeftShift: number, totalSignedBits = 31): number {
  return Math.floor(((2 ** inputIntegerBits - 1) * 2 ** (totalSignedBits - inputIntegerBits)) / 2 ** inputLeftShift);
}

// gemmlowp fixed-point (fixedpoint/fixedpoint.h, copied by TFLM as micro/kernels/internal/fixedpoint.h) on raw
// int32 values. A FixedPoint<int32, I> holds x / 2^(31 - I); its + and - wrap, its * is the doubling high multiply.

/** gemmlowp RoundingHalfSum: (a + b) / 2, rounded half away from zero. */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b;
  return sum >= 0 ? Math.floor((sum + 1) / 2) : Math.ceil((sum - 1) / 2);
}

/**
 * gemmlowp SaturatingRoundingMultiplyByPOT: x * 2^exponent, saturating to the int32 range when exponent > 0
 * and rounding (RoundingDivideByPOT) when exponent < 0.
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = 2 ** (31 - exponent) - 1;
  return x > threshold ? INT32_MAX : x < -threshold ? INT32_MIN : x * 2 ** exponent;
}

/** gemmlowp Rescale: a raw value with `fromIntegerBits` integer bits re-expressed with `toIntegerBits`. */
export function rescale(x: number, fromIntegerBits: number, toIntegerBits: number): number {
  return saturatingRoundingMultiplyByPOT(x, fromIntegerBits - toIntegerBits);
}

/** gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: exp(a), a in [-1/4, 0), both Q0.31. */
export function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const expMinusOneEighth = 1895147668;
  const oneThird = 715827883;
  // A 4th-order Taylor expansion around -1/8: x = a + 1/8.
  const x = (a + (1 << 28)) | 0;
  const x2 = saturatingRoundingDoublingHighMul(x, x);
  const x3 = saturatingRoundingDoublingHighMul(x2, x);
  const x4 = saturatingRoundingDoublingHighMul(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const x4Over24PlusX3Over6PlusX2Over2 = roundingDivideByPOT(
    (saturatingRoundingDoublingHighMul((x4Over4 + x3) | 0, oneThird) + x2) | 0,
    1,
  );
  return (
    expMinusOneEighth + saturatingRoundingDoublingHighMul(expMinusOneEighth, (x + x4Over24PlusX3Over6PlusX2Over2) | 0)
  ) | 0;
}

/** exp(-2^k) in Q0.31 for k = -2 .. 4: the barrel shifter's factors in exp_on_negative_values. */
const EXP_OF_MINUS_POWERS_OF_TWO = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];

/**
 * gemmlowp exp_on_negative_values: exp(a) for a <= 0 held with `integerBits` integer bits; the result is Q0.31.
 * exp of the fractional part modulo 1/4 comes from the Taylor expansion, then one factor exp(-2^k) per set bit
 * of the remainder.
 */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const aModQuarterMinusOneQuarter = ((a & (oneQuarter - 1)) - oneQuarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;
  for (let k = -2; k <= 4 && k < integerBits; k++) {
    if (remainder & (1 << (fractionalBits + k))) {
      result = saturatingRoundingDoublingHighMul(result, EXP_OF_MINUS_POWERS_OF_TWO[k + 2]);
    }
  }
  // Below -32, exp rounds to 0 in Q0.31; only formats with more than 5 integer bits can hold such inputs.
  if (integerBits > 5 && a < -(2 ** (36 - integerBits))) result = 0;
  return a === 0 ? INT32_MAX : result;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a in [0, 1), Q0.31, by three Newton-Raphson steps. */
export function oneOverOnePlusXForXIn01(a: number): number {
  const halfDenominator = roundingHalfSum(a, INT32_MAX);
  // Initial guess 48/17 - 32/17 * d, in Q2.29.
  let x = (1515870810 + saturatingRoundingDoublingHighMul(halfDenominator, -1010580540)) | 0;
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x);
    const oneMinusHalfDenominatorTimesX = ((1 << 29) - halfDenominatorTimesX) | 0;
    x = (x + rescale(saturatingRoundingDoublingHighMul(x, oneMinusHalfDenominatorTimesX), 4, 2)) | 0;
  }
  // x / 2 as Q1.30 read back as Q0.31.
  return rescale(x, 1, 0);
}

/** gemmlowp logistic: 1 / (1 + exp(-a)) for `a` held with `integerBits` integer bits; the result is Q0.31. */
export function logisticFixedPoint(a: number, integerBits: number): number {
  if (a === 0) return 1 << 30;
  const absolute = a > 0 ? a : -a | 0;
  const ofAbsolute = oneOverOnePlusXForXIn01(expOnNegativeValues(-absolute | 0, integerBits));
  return a > 0 ? ofAbsolute : (INT32_MAX - ofAbsolute) | 0;
}

/**
 * GetReciprocal (common.h) for x > 0 with x_integer_digits integer bits: 1/x as a Q0.31 mantissa. The matching
 * num_bits_over_unit is x_integer_digits - Math.clz32(x).
 */
export function reciprocalMantissa(x: number): number {
  // x normalized so its top bit is the unit, minus that unit: the "x" of 1 / (1 + x).
  const shiftedMinusOne = (x << Math.clz32(x)) & INT32_MAX;
  return oneOverOnePlusXForXIn01(shiftedMinusOne);
}

/** gemmlowp SaturatingRoundingDoublingHighMul for int16 raw values: the high 16 bits of 2*a*b, rounded. */
export function saturatingRoundingDoublingHighMulInt16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  const ab = a * b;
  return ((ab + (ab >= 0 ? 16384 : -16383)) / 32768) | 0;
}

/**
 * gemmlowp RoundingDivideByPOT instantiated for int16: the mask (2^exponent - 1) and every intermediate are
 * int16. From exponent 16 on the mask wraps to -1, and the result degenerates to (x >> exponent) + 1 for
 * x >= 0 and -1 below, as the C++ computes it.
 */
export function roundingDivideByPOTInt16(x: number, exponent: number): number {
  const mask = (((2 ** exponent - 1) & 0xffff) << 16) >> 16;
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (((x >> exponent) + (remainder > threshold ? 1 : 0)) << 16) >> 16;
}
