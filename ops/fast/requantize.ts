// Requantization of int32 accumulators for the fast convolution kernels (and the output multiply of quantized ADD
// and SUB), bit-identical to src/quant.ts (multiplyByQuantizedMultiplier, TFLM's double rounding, and
// multiplyByQuantizedMultiplierSingleRounding).
//
// Both roundings are, for a given channel, floor((x·S + c) / 2^e) of the accumulator x with integer constants: S is
// the multiplier (times 2^shift for a left shift), and c holds the rounding nudges. Single rounding is that form by
// definition. Double rounding, SaturatingRoundingDoublingHighMul then RoundingDivideByPOT(r), folds into it too:
// the first step is H = floor((x·M + 2^30) / 2^31), and rounding H / 2^r half away from zero is
// floor((H + 2^(r-1)) / 2^r) for H >= 0 and floor((H + 2^(r-1) - 1) / 2^r) for H < 0; nested floors of integer
// divisions merge, so the result is floor((x·M + 2^30 + 2^(30+r) - [x < 0]·2^31) / 2^(31+r)) for r >= 1 (the sign
// of x stands in for the sign of H: when they differ, H is 0 and both nudges give 0) and H itself for r = 0.
//
// The closed form is one float64 multiply-add and one floor, exact while |x·S| + c < 2^53, which prepare turns
// into a bound on |x| per channel: about 2^22 for a typical multiplier, far above a typical accumulator. Beyond
// it (a tiny output scale with big accumulators, or a huge bias), the wide form splits M into 16-bit halves so
// that every term stays exact for any int32 x.
import { multiplyByQuantizedMultiplierSingleRounding, type Rounding } from '../../src/quant.js';
import type { QuantizedArray } from '../conv-common.js';

const TWO_POW_16 = 2 ** 16;
const TWO_POW_MINUS_16 = 2 ** -16;

/** 2^e for integer e, looked up in [-128, 128]: V8's 2 ** e calls pow (~70 ns), and prepare needs thousands. */
const POWERS_OF_TWO = Float64Array.from({ length: 257 }, (_, i) => 2 ** (i - 128));
const pow2 = (e: number): number => (e >= -128 && e <= 128 ? POWERS_OF_TWO[e + 128] : 2 ** e);

/** How a layer turns its accumulators into output values. */
export interface OutputStage {
  multipliers: Int32Array;
  shifts: Int32Array;
  rounding: Rounding;
  outputOffset: number;
  min: number;
  max: number;
}

/** An OutputStage with its per-channel constants of the closed form, prepared once. */
export interface Requantizer {
  /** S: the multiplier, times 2^shift for a left shift under double rounding. */
  scales: Float64Array;
  /** c for x >= 0. */
  nudges: Float64Array;
  /** Added to c for x < 0: -2^31 under double rounding with a right shift, else 0. */
  negativeNudges: Int32Array;
  /** 2^-e. */
  units: Float64Array;
  /** |x| <= limit: the closed form is exact (-1: never). */
  limits: Int32Array;
  /** For the accumulators beyond the limit. */
  rounding: Rounding;
  multipliers: Int32Array;
  shifts: Int32Array;
  /** The activation clamp, on the value before the output offset is added: to [lowest, lowest + range]. */
  lowest: number;
  range: number;
  /** The activation minimum: lowest + the output offset. */
  min: number;
}

export function prepareRequantizer(stage: OutputStage, channels: number): Requantizer {
  const scales = new Float64Array(channels);
  const nudges = new Float64Array(channels);
  const negativeNudges = new Int32Array(channels);
  const units = new Float64Array(channels);
  const limits = new Int32Array(channels);
  const single = stage.rounding === 'single';
  for (let n = 0; n < channels; n++) {
    const multiplier = stage.multipliers[n];
    const shift = stage.shifts[n];
    // Double rounding shifts x left first, wrapping in int32: the bound keeps x·2^left inside int32.
    const left = !single && shift > 0 ? shift : 0;
    const right = single ? 31 - shift : 31 + (shift < 0 ? -shift : 0);
    scales[n] = multiplier * pow2(left);
    nudges[n] = single || shift >= 0 ? pow2(right - 1) : 2 ** 30 + pow2(right - 1);
    negativeNudges[n] = single || shift >= 0 ? 0 : -2147483648;
    units[n] = pow2(-right);
    // |x·S| + c stays below 2^53 (with room for the negative nudge), and the result below 2^30 in magnitude, so
    // that it needs neither int32 saturation nor care in the clamp.
    const room = Math.min(2 ** 53 - 2 ** 31, pow2(30 + right)) - nudges[n] - 1;
    limits[n] = room < 0 ? -1 : Math.min(Math.floor(room / Math.max(scales[n], 1)), Math.floor(2147483647 / pow2(left)));
  }
  return {
    scales, nudges, negativeNudges, units, limits, rounding: stage.rounding,
    multipliers: stage.multipliers, shifts: stage.shifts,
    lowest: stage.min - stage.outputOffset, range: stage.max - stage.min, min: stage.min,
  };
}

/**
 * Writes output[outputStart + p * channels + n] for pixels p < pixels and the block of channels
 * firstChannel <= n < endChannel from the accumulator (already including the bias) at
 * acc[(n - firstChannel) * pixels + p]: channel-major, so that each channel's accumulators are read in order while
 * its constants stay in registers. A kernel requantizes each block of channels as soon as it has computed it,
 * while its accumulators are in the L1 cache.
 *
 * The loop takes the closed form for every accumulator and only notes, without a branch, whether one was beyond
 * the limit; a channel where one was is then done again the wide way. The loop thus has neither a branch nor a
 * call, which would make V8 check the arrays again at every element.
 */
export function requantizeChannels(
  acc: Int32Array,
  pixels: number,
  channels: number,
  r: Requantizer,
  output: QuantizedArray,
  outputStart: number,
  firstChannel: number,
  endChannel: number,
): void {
  const { scales, nudges, negativeNudges, units, limits } = r;
  const lowest = r.lowest | 0;
  const range = r.range | 0;
  const min = r.min | 0;
  for (let n = firstChannel; n < endChannel; n++) {
    const scale = scales[n];
    const nudge = nudges[n];
    const negativeNudge = negativeNudges[n];
    const unit = units[n];
    const limit = limits[n];
    // Negative once some |x| > limit: the sign bit of limit - x or of x + limit (in int32, where a wrap also means
    // beyond).
    let beyond = 0;
    const start = (n - firstChannel) * pixels;
    const end = start + pixels;
    let a = start;
    let o = outputStart + n;
    // Two pixels a step, which halves the loop's own checks per pixel.
    for (; a + 1 < end; a += 2, o += 2 * channels) {
      const x = acc[a];
      const y = acc[a + 1];
      beyond |= (limit - x) | (x + limit) | (limit - y) | (y + limit);
      output[o] = requantizeWithin(x, scale, nudge, negativeNudge, unit, lowest, range, min);
      output[o + channels] = requantizeWithin(y, scale, nudge, negativeNudge, unit, lowest, range, min);
    }
    if (a < end) {
      const x = acc[a];
      beyond |= (limit - x) | (x + limit);
      output[o] = requantizeWithin(x, scale, nudge, negativeNudge, unit, lowest, range, min);
    }
    if (beyond < 0) {
      for (let a = start, o = outputStart + n; a < end; a++, o += channels) output[o] = requantizeAny(r, n, acc[a]);
    }
  }
}

/**
 * The output value of accumulator x (int32, |x| <= the channel's limit) by the closed form, with the channel's
 * scale, nudge, negative nudge and unit and the layer's clamp.
 */
export function requantizeWithin(
  x: number,
  scale: number,
  nudge: number,
  negativeNudge: number,
  unit: number,
  lowest: number,
  range: number,
  min: number,
): number {
  return clampToOutput(Math.floor((x * scale + ((x >> 31) & negativeNudge) + nudge) * unit) | 0, lowest, range, min);
}

/** The output value of any int32 accumulator x in channel n: the wide form, or for single rounding src/quant.ts. */
export function requantizeAny(r: Requantizer, n: number, x: number): number {
  const multiplier = r.multipliers[n];
  const shift = r.shifts[n];
  let v;
  if (r.rounding === 'single') {
    v = multiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift);
  } else {
    const left = shift > 0 ? 1 << shift : 1;
    v = multiplyWide(Math.imul(x, left), multiplier, r.nudges[n], r.negativeNudges[n], r.units[n]);
  }
  // Halving a value beyond ±2^30 keeps it beyond the clamp, and keeps it inside clampToOutput's range.
  v >>= (v >> 30) ^ (v >> 31);
  return clampToOutput(v, r.lowest, r.range, r.min);
}

/**
 * MultiplyByQuantizedMultiplier (double rounding) of any int32 x, its left shift already applied, exactly and
 * without branches, from the closed form's nudge, negative nudge and unit: with M = high·2^16 + low, and the
 * nudges multiples of 2^16, floor((x·M + c) / 2^e) = floor((x·high + c/2^16 + floor(x·low / 2^16)) / 2^(e-16)),
 * every term an exact double (|x·high| < 2^46, |x·low| < 2^47).
 */
export function multiplyWide(x: number, multiplier: number, nudge: number, negativeNudge: number, unit: number): number {
  const high = x * (multiplier >> 16) + (nudge + ((x >> 31) & negativeNudge)) * TWO_POW_MINUS_16;
  return Math.floor((high + Math.floor(x * (multiplier & 0xffff) * TWO_POW_MINUS_16)) * unit * TWO_POW_16) | 0;
}

/**
 * min(max(v, lowest), lowest + range) + the output offset, for |v| <= 2^30, as lowest + the output offset = min.
 * Without branches: the clamp's bounds are hit at random (ReLU zeros), and a mispredicted branch per element
 * costs more than the whole multiply.
 */
export function clampToOutput(v: number, lowest: number, range: number, min: number): number {
  let above = (v - lowest) | 0;
  above &= ~(above >> 31);
  const over = (range - above) | 0;
  return above + (over & (over >> 31)) + min;
}
