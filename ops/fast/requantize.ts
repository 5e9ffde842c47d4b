// Requantization of a row of int32 accumulators for the fast convolution kernels, channel by channel so each
// channel's multiplier is split once and then applied across the row. Bit-identical to src/quant.ts
// (multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierSingleRounding), which it restates in line for
// speed: the same float64-exact 16-bit split of the multiplier, with the per-channel parts hoisted.
import { multiplyByQuantizedMultiplierSingleRounding, type Rounding } from '../../src/quant.js';

const TWO_POW_MINUS_16 = 2 ** -16;
const TWO_POW_MINUS_15 = 2 ** -15;

type QuantizedArray = Int8Array | Uint8Array;

/** How a layer turns its accumulators into output values. */
export interface OutputStage {
  multipliers: Int32Array;
  shifts: Int32Array;
  rounding: Rounding;
  outputOffset: number;
  min: number;
  max: number;
}

/**
 * Writes output[outputStart + p * channels + n] for pixels p < pixels, channels n < channels, from the
 * accumulator (already including the bias) at acc[p * accStride + n].
 */
export function requantizeRow(
  acc: Int32Array,
  pixels: number,
  accStride: number,
  channels: number,
  stage: OutputStage,
  output: QuantizedArray,
  outputStart: number,
): void {
  const { multipliers, shifts, outputOffset, min, max } = stage;
  const single = stage.rounding === 'single';
  for (let n = 0; n < channels; n++) {
    const multiplier = multipliers[n];
    const shift = shifts[n];
    let o = outputStart + n;
    let a = n;
    if (single) {
      for (let p = 0; p < pixels; p++, a += accStride, o += channels) {
        const v = multiplyByQuantizedMultiplierSingleRounding(acc[a], multiplier, shift) + outputOffset;
        output[o] = v < min ? min : v > max ? max : v;
      }
      continue;
    }
    // multiplyByQuantizedMultiplier: x·2^left wrapped to int32, then SaturatingRoundingDoublingHighMul
    // = floor((x·M + 2^30) / 2^31) (M < 2^31, so it never saturates), then RoundingDivideByPOT(right).
    const leftFactor = shift > 0 ? 1 << shift : 1;
    const right = shift > 0 ? 0 : -shift;
    const mLow = multiplier & 0xffff;
    const mHigh = multiplier >> 16;
    const mask = ((1 << right) - 1) | 0;
    const halfMask = mask >> 1;
    for (let p = 0; p < pixels; p++, a += accStride, o += channels) {
      const x = Math.imul(acc[a], leftFactor);
      // Multiplying by 2^-16 and 2^-15 is exact, and cheaper than dividing.
      const high = Math.floor((x * mHigh + Math.floor((x * mLow + 1073741824) * TWO_POW_MINUS_16)) * TWO_POW_MINUS_15);
      // remainder > threshold, both in [0, 2^31): the sign bit of threshold - remainder, without a branch.
      const v = (high >> right) + ((halfMask + (high >>> 31) - (high & mask)) >>> 31) + outputOffset;
      output[o] = v < min ? min : v > max ? max : v;
    }
  }
}
