// A fast, bit-exact CONV_2D for the pointwise case (1x1 filter, stride 1, no padding, one group) on int8 and
// uint8: most of a MobileNet's multiply-adds. Same results as convQuantizedRow in ops/conv2d.ts, byte for byte.
//
// TFLM accumulates sum_c (w + filterOffset) * (x + inputOffset) in int32, adds the bias and wraps. Wrapping to
// int32 commutes with addition, so any exact evaluation of that sum wrapped once at the end gives the same int32.
// We expand it, with w = ws + weightShift (ws is the weight recentred to [-128, 127]; weightShift is 128 for
// uint8, 0 for int8) and f = filterOffset + weightShift:
//
//   sum_c (ws + f) * (x + inputOffset) = sum_c ws*x  +  f * sum_c x  +  [inputOffset * sum_c ws  +  K * f * inputOffset]
//
// The bracket does not depend on the input and is folded into the bias at prepare; f * sum_c x is one sum per
// pixel (and vanishes for int8, where f = 0); sum_c ws*x is the dot product.
//
// The dot product packs two output channels into one float64: p = ws[n] + ws[n+1] * 2^26. Then
// sum_c x * p = S[n] + S[n+1] * 2^26 exactly, as long as every partial sum stays an integer below 2^53 and
// |S[n]| < 2^25 so the two parts can be told apart: prepare checks max|x| * sum_c |ws| < 2^25 for every
// channel (2^25 · (2^26 + 1) < 2^53 then bounds the whole sum) and otherwise leaves the layer to the reference
// kernel. A step of the inner loop reads 2 pixels and 4 channels' weights (two packed pairs) and does 16
// multiply-adds in 4 float64 multiply-adds. The row's int32 totals then go through requantizeRow.
import { requantizeRow, type OutputStage } from './requantize.js';

const PACK = 2 ** 26;
const HALF_PACK = 2 ** 25;
const INVERSE_PACK = 2 ** -26;
/** Output channels per block: two packed pairs. */
const BLOCK = 4;

type QuantizedArray = Int8Array | Uint8Array;

/** Everything one pointwise layer needs at eval, precomputed from its weights and quantization. */
export interface PointwiseConv {
  width: number;
  /** Input channels: the dot product's length. */
  depth: number;
  outDepth: number;
  /** outDepth rounded up to whole blocks: the accumulators' pixel stride. */
  paddedDepth: number;
  /** Per block of 4 channels and input channel c: [ws[4b] + ws[4b+1]·2^26, ws[4b+2] + ws[4b+3]·2^26]. */
  packed: Float64Array;
  /** Per channel (paddedDepth): bias + inputOffset·sum_c ws + K·f·inputOffset. */
  constants: Float64Array;
  /** f of the expansion: multiplies each pixel's input sum. 0 for int8. */
  pixelSumFactor: number;
  /** Each pixel's f·(input sum) within the row being computed. */
  pixelSums: Float64Array;
  /** The row's int32 totals, pixel-major with stride paddedDepth. */
  accumulators: Int32Array;
  stage: OutputStage;
}

export interface PointwiseSource {
  dtype: 'int8' | 'uint8';
  width: number;
  depth: number;
  outDepth: number;
  /** [outDepth, 1, 1, depth]. */
  filter: QuantizedArray;
  bias: Int32Array | null;
  inputOffset: number;
  filterOffset: number;
  stage: OutputStage;
}

/** The prepared layer, or null when the packed dot product could be inexact for these weights. */
export function preparePointwiseConv(s: PointwiseSource): PointwiseConv | null {
  const { depth: K, outDepth, filter } = s;
  const weightShift = s.dtype === 'uint8' ? 128 : 0;
  const maxInput = s.dtype === 'uint8' ? 255 : 128;
  const f = s.filterOffset + weightShift;
  const paddedDepth = Math.ceil(outDepth / BLOCK) * BLOCK;
  const packed = new Float64Array(paddedDepth * K / 2);
  const constants = new Float64Array(paddedDepth);
  // One pair of filter rows at a time, both read in order and each packed slot written once (lanes 0 and 1 of
  // a block share slot 0 as low and high, lanes 2 and 3 slot 1): several times faster than scattering channel
  // by channel. An odd last channel pairs with itself at weight 0 in the high half, as an absent lane must be.
  // Math.abs, not a sign test: weight signs are random, a branch on them mispredicts.
  for (let n = 0; n < outDepth; n += 2) {
    const paired = n + 1 < outDepth;
    const low = n * K;
    const high = paired ? low + K : low;
    const highScale = paired ? PACK : 0;
    let sumLow = 0;
    let sumHigh = 0;
    let absLow = 0;
    let absHigh = 0;
    for (let c = 0, w = ((n / BLOCK) | 0) * K * 2 + ((n >> 1) & 1); c < K; c++, w += 2) {
      const wsLow = filter[low + c] - weightShift;
      const wsHigh = filter[high + c] - weightShift;
      sumLow += wsLow;
      sumHigh += wsHigh;
      absLow += Math.abs(wsLow);
      absHigh += Math.abs(wsHigh);
      packed[w] = wsLow + wsHigh * highScale;
    }
    if (maxInput * Math.max(absLow, absHigh) >= HALF_PACK) return null;
    constants[n] = (s.bias ? s.bias[n] : 0) + s.inputOffset * sumLow + K * f * s.inputOffset;
    if (paired) constants[n + 1] = (s.bias ? s.bias[n + 1] : 0) + s.inputOffset * sumHigh + K * f * s.inputOffset;
  }
  return {
    width: s.width, depth: K, outDepth, paddedDepth, packed, constants, pixelSumFactor: f,
    pixelSums: new Float64Array(s.width), accumulators: new Int32Array(s.width * paddedDepth), stage: s.stage,
  };
}

/** RowEvaluation.evalRow for a pointwise layer: output row `oy` reads input row `oy`. */
export function pointwiseConvRow(
  p: PointwiseConv,
  input: QuantizedArray,
  inputStart: number,
  inputRows: number,
  output: QuantizedArray,
  outputStart: number,
  oy: number,
): void {
  const { width, depth: K, paddedDepth, packed, constants, pixelSumFactor, pixelSums, accumulators: acc } = p;
  const rowStart = inputStart + (oy % inputRows) * width * K;
  if (pixelSumFactor !== 0) {
    for (let ox = 0, i = rowStart; ox < width; ox++) {
      let sum = 0;
      for (let c = 0; c < K; c++) sum += input[i++];
      pixelSums[ox] = sum * pixelSumFactor;
    }
  }
  for (let n = 0; n < paddedDepth; n += BLOCK) {
    const weights = (n / BLOCK) * K * 2;
    const c0 = constants[n];
    const c1 = constants[n + 1];
    const c2 = constants[n + 2];
    const c3 = constants[n + 3];
    // Two pixels a step; an odd last pixel is computed as both, and stored once.
    for (let ox = 0; ox < width; ox += 2) {
      const i0 = rowStart + ox * K;
      const i1 = ox + 1 < width ? i0 + K : i0;
      let a0 = 0;
      let b0 = 0;
      let a1 = 0;
      let b1 = 0;
      for (let c = 0, w = weights; c < K; c++, w += 2) {
        const x0 = input[i0 + c];
        const x1 = input[i1 + c];
        const pa = packed[w];
        const pb = packed[w + 1];
        a0 += x0 * pa;
        b0 += x0 * pb;
        a1 += x1 * pa;
        b1 += x1 * pb;
      }
      // Unpack: low = total - high·2^26 with high = floor((total + 2^25) / 2^26), since |low| < 2^25. The exact
      // sums wrap to int32 as the Int32Array stores them: TFLM's (acc + bias) in int32.
      let sum = pixelSums[ox];
      let hA = Math.floor((a0 + HALF_PACK) * INVERSE_PACK);
      let hB = Math.floor((b0 + HALF_PACK) * INVERSE_PACK);
      let o = ox * paddedDepth + n;
      acc[o] = a0 - hA * PACK + sum + c0;
      acc[o + 1] = hA + sum + c1;
      acc[o + 2] = b0 - hB * PACK + sum + c2;
      acc[o + 3] = hB + sum + c3;
      if (ox + 1 < width) {
        sum = pixelSums[ox + 1];
        hA = Math.floor((a1 + HALF_PACK) * INVERSE_PACK);
        hB = Math.floor((b1 + HALF_PACK) * INVERSE_PACK);
        o += paddedDepth;
        acc[o] = a1 - hA * PACK + sum + c0;
        acc[o + 1] = hA + sum + c1;
        acc[o + 2] = b1 - hB * PACK + sum + c2;
        acc[o + 3] = hB + sum + c3;
      }
    }
  }
  requantizeRow(acc, width, paddedDepth, p.outDepth, p.stage, output, outputStart);
}
