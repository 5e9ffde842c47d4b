// A fast, bit-exact CONV_2D for int8 and uint8, any filter size, stride, dilation and padding, one group: the
// pointwise layers that hold most of a MobileNet's multiply-adds, and its first 3x3 layer. Same results as
// convQuantizedRow in ops/conv2d.ts, byte for byte.
//
// Each output row is a matrix product. First the row's patches are staged: per output pixel the K values its
// taps read, in the filter's (filter row, filter column, input channel) order, as doubles (for a pointwise layer,
// the input pixel itself). A tap outside the input stages the input zero point, whose x + inputOffset is 0: it
// adds nothing, as TFLM, which skips the tap, adds nothing.
//
// TFLM accumulates sum_k (w + filterOffset) * (x + inputOffset) in int32, adds the bias and wraps. Wrapping to
// int32 commutes with addition, so any exact evaluation of that sum wrapped once at the end gives the same int32.
// We expand it, with w = ws + weightShift (ws is the weight recentred to [-128, 127]; weightShift is 128 for
// uint8, 0 for int8) and f = filterOffset + weightShift:
//
//   sum_k (ws + f) * (x + inputOffset) = sum_k ws*x  +  f * sum_k x  +  [inputOffset * sum_k ws  +  K * f * inputOffset]
//
// The bracket does not depend on the input and is folded into the bias at prepare; f * sum_k x is one sum per
// pixel (and vanishes for int8, where f = 0); sum_k ws*x is the dot product.
//
// The dot product packs two output channels into one float64: p = ws[n] + ws[n+1] * 2^26. Then
// sum_k x * p = S[n] + S[n+1] * 2^26 exactly, as long as every partial sum stays an integer below 2^53 and
// |S[n]| < 2^25 so the two parts can be told apart: prepare checks max|x| * sum_k |ws| < 2^25 for every
// channel (2^25 · (2^26 + 1) < 2^53 then bounds the whole sum) and otherwise leaves the layer to the reference
// kernel.
//
// A step of the inner loop reads 2 pixels' values and 3 packed pairs (6 channels), and does 24 multiply-adds in
// 6 float64 multiply-adds; it is unrolled twice. What limits pure JS here is not arithmetic but the bounds-checked
// typed-array loads around it, about six instructions each, so the block shares each load among as many
// multiply-adds as it can before V8 runs out of registers (2 pixels × 6 channels measured fastest; larger blocks
// spill accumulators to the stack), the staged patches live in the same Float64Array as the weights (one array's
// checks per step, not two), and the indices are wrapped with `| 0`, which spares an overflow check per load.
// Channel blocks are the outer loop and pixels the inner one, so a block's weights (3K doubles) stay in the L1
// cache while the row's patches pass under them; each block's int32 totals then go through requantizeChannels
// while they are in the L1 cache too.
import { fillTapRows, type FastKernelWeights, type QuantizedArray, type WindowData } from '../conv-common.js';
import { prepareRequantizer, requantizeChannels, type Requantizer } from './requantize.js';

const PACK = 2 ** 26;
const HALF_PACK = 2 ** 25;
const INVERSE_PACK = 2 ** -26;
/** Packed channel pairs per block. */
const PAIRS = 3;
/** Output channels per block. */
const BLOCK = 2 * PAIRS;


/** Everything one layer needs at eval, precomputed from its weights and quantization. */
export interface ConvPatches {
  /** Values per patch, filterHeight · filterWidth · inDepth: the dot product's length. */
  depth: number;
  outDepth: number;
  /** outDepth rounded up to whole blocks. */
  paddedDepth: number;
  /**
   * Per block of 6 channels and tap k: [ws[6b] + ws[6b+1]·2^26, ws[6b+2] + ws[6b+3]·2^26, ws[6b+4] + ws[6b+5]·2^26];
   * from index `patches` on, the row's staged patches, outWidth · depth values.
   */
  values: Float64Array;
  patches: number;
  /** Staged for a tap outside the input: the input zero point. */
  zeroPoint: number;
  /** Per channel (paddedDepth): bias + inputOffset·sum_k ws + K·f·inputOffset. */
  constants: Float64Array;
  /** f of the expansion: multiplies each pixel's sum of staged values. 0 for int8. */
  pixelSumFactor: number;
  /** Each pixel's f·(sum of its staged values), within the row being computed. */
  pixelSums: Float64Array;
  /** A block's int32 totals for the row, channel-major: its channel j's pixels from j · outWidth. */
  accumulators: Int32Array;
  requantizer: Requantizer;
}

/** The filter is [outDepth, filterHeight, filterWidth, inDepth]: one row of `depth` weights per output channel. */
export interface ConvPatchesSource extends FastKernelWeights {
  dtype: 'int8' | 'uint8';
  outWidth: number;
  /** Values per patch: filterHeight · filterWidth · inDepth. */
  depth: number;
  outDepth: number;
}

/** The prepared layer, or null when the packed dot product could be inexact for these weights. */
export function prepareConvPatches(s: ConvPatchesSource): ConvPatches | null {
  const { depth: K, outDepth, outWidth, filter } = s;
  const weightShift = s.dtype === 'uint8' ? 128 : 0;
  const maxInput = s.dtype === 'uint8' ? 255 : 128;
  const f = s.filterOffset + weightShift;
  const paddedDepth = Math.ceil(outDepth / BLOCK) * BLOCK;
  const patches = (paddedDepth / 2) * K;
  const values = new Float64Array(patches + outWidth * K);
  const constants = new Float64Array(paddedDepth);
  // The bound holds for any weights when K · 128 · maxInput < 2^25 (MobileNets' layers); otherwise each
  // channel's sum of |ws| is checked.
  if (K * 128 * maxInput >= HALF_PACK) {
    for (let n = 0; n < outDepth; n++) {
      let sum = 0;
      for (let k = n * K, end = k + K; k < end; k++) sum += Math.abs(filter[k] - weightShift);
      if (maxInput * sum >= HALF_PACK) return null;
    }
  }
  // One block of 6 filter rows at a time, read in order, its packed values written in order. A channel past
  // outDepth (in the last block) reads the last row at weight 0, as an absent channel must be.
  const scale = (n: number) => (n < outDepth ? (n % 2 === 0 ? 1 : PACK) : 0);
  const rowOf = (n: number) => Math.min(n, outDepth - 1) * K;
  for (let n = 0, w = 0; n < outDepth; n += BLOCK) {
    const [row0, row1, row2, row3, row4, row5] = [0, 1, 2, 3, 4, 5].map((j) => rowOf(n + j));
    const [scale0, scale1, scale2, scale3, scale4, scale5] = [0, 1, 2, 3, 4, 5].map((j) => scale(n + j));
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    let sum4 = 0;
    let sum5 = 0;
    for (let k = 0; k < K; k++, w += PAIRS) {
      const ws0 = filter[row0 + k] - weightShift;
      const ws1 = filter[row1 + k] - weightShift;
      const ws2 = filter[row2 + k] - weightShift;
      const ws3 = filter[row3 + k] - weightShift;
      const ws4 = filter[row4 + k] - weightShift;
      const ws5 = filter[row5 + k] - weightShift;
      sum0 += ws0;
      sum1 += ws1;
      sum2 += ws2;
      sum3 += ws3;
      sum4 += ws4;
      sum5 += ws5;
      values[w] = ws0 * scale0 + ws1 * scale1;
      values[w + 1] = ws2 * scale2 + ws3 * scale3;
      values[w + 2] = ws4 * scale4 + ws5 * scale5;
    }
    // bias + inputOffset·sum_k ws + K·f·inputOffset (padding channels get one too, and are never stored).
    const offsetTerm = K * f * s.inputOffset;
    const biasOf = (m: number) => (s.bias && m < outDepth ? s.bias[m] : 0);
    constants[n] = biasOf(n) + s.inputOffset * sum0 + offsetTerm;
    constants[n + 1] = biasOf(n + 1) + s.inputOffset * sum1 + offsetTerm;
    constants[n + 2] = biasOf(n + 2) + s.inputOffset * sum2 + offsetTerm;
    constants[n + 3] = biasOf(n + 3) + s.inputOffset * sum3 + offsetTerm;
    constants[n + 4] = biasOf(n + 4) + s.inputOffset * sum4 + offsetTerm;
    constants[n + 5] = biasOf(n + 5) + s.inputOffset * sum5 + offsetTerm;
  }
  return {
    depth: K, outDepth, paddedDepth, values, patches, zeroPoint: -s.inputOffset, constants, pixelSumFactor: f,
    pixelSums: new Float64Array(outWidth), accumulators: new Int32Array(BLOCK * outWidth),
    requantizer: prepareRequantizer(s.stage, outDepth),
  };
}

/** RowEvaluation.evalRow for such a layer, with the layer's (possibly PAD-folded) window `d`. */
export function convPatchesRow(
  p: ConvPatches,
  d: WindowData,
  input: QuantizedArray,
  inputStart: number,
  inputRows: number,
  output: QuantizedArray,
  outputStart: number,
  oy: number,
): void {
  stagePatches(p, d, input, fillTapRows(d, inputStart, inputRows, oy));
  multiplyPatches(p, d.outWidth, output, outputStart);
}

/** Writes each output pixel's patch (and, for uint8, its pixel sum) for the row whose taps read `tapRows`. */
function stagePatches(p: ConvPatches, d: WindowData, input: QuantizedArray, tapRows: Int32Array): void {
  const { inWidth, inDepth, filterHeight, filterWidth, outWidth, strideW, dilationW, padLeft } = d;
  const { depth: K, values, patches, zeroPoint, pixelSumFactor, pixelSums } = p;
  const pointwise = filterHeight === 1 && filterWidth === 1 && strideW === 1 && padLeft === 0 && outWidth <= inWidth;
  if (pointwise && tapRows[0] >= 0) {
    // Pointwise: the patches are the input row.
    for (let v = patches, i = tapRows[0], end = patches + outWidth * K; v < end; ) values[v++] = input[i++];
  } else {
    // A filter row inside the input at dilation 1 reads one run of filterWidth · inDepth input values.
    const run = filterWidth * inDepth;
    let v = patches;
    for (let ox = 0; ox < outWidth; ox++) {
      const xOrigin = ox * strideW - padLeft;
      for (let fy = 0; fy < filterHeight; fy++) {
        const rowStart = tapRows[fy];
        if (rowStart >= 0 && dilationW === 1 && xOrigin >= 0 && xOrigin + filterWidth <= inWidth) {
          for (let i = rowStart + xOrigin * inDepth, end = v + run; v < end; ) values[v++] = input[i++];
          continue;
        }
        for (let fx = 0; fx < filterWidth; fx++) {
          const x = xOrigin + fx * dilationW;
          if (rowStart < 0 || x < 0 || x >= inWidth) {
            for (let c = 0; c < inDepth; c++) values[v++] = zeroPoint;
          } else {
            for (let c = 0, i = rowStart + x * inDepth; c < inDepth; c++) values[v++] = input[i++];
          }
        }
      }
    }
  }
  if (pixelSumFactor !== 0) {
    for (let ox = 0, v = patches; ox < outWidth; ox++) {
      let sum = 0;
      for (const end = v + K; v < end; v++) sum += values[v];
      pixelSums[ox] = sum * pixelSumFactor;
    }
  }
}

/** The output row from its staged patches: each block's int32 totals into p.accumulators, then requantized. */
function multiplyPatches(p: ConvPatches, width: number, output: QuantizedArray, outputStart: number): void {
  const { depth: K, outDepth, paddedDepth, values, patches, constants, pixelSums, accumulators: acc } = p;
  const nextPixelNextTap = K + 1;
  // Where each of a block's channels keeps its totals.
  const r0 = 0;
  const r1 = width;
  const r2 = 2 * width;
  const r3 = 3 * width;
  const r4 = 4 * width;
  const r5 = 5 * width;
  for (let n = 0; n < paddedDepth; n += BLOCK) {
    const weights = (n / BLOCK) * K * PAIRS;
    const k0 = constants[n];
    const k1 = constants[n + 1];
    const k2 = constants[n + 2];
    const k3 = constants[n + 3];
    const k4 = constants[n + 4];
    const k5 = constants[n + 5];
    let ox = 0;
    for (; ox + 1 < width; ox += 2) {
      const start = patches + ox * K;
      let a0 = 0;
      let b0 = 0;
      let c0 = 0;
      let a1 = 0;
      let b1 = 0;
      let c1 = 0;
      let i = start;
      let w = weights;
      for (const end = start + K - 1; i < end; i = (i + 2) | 0, w = (w + 6) | 0) {
        let pa = values[w];
        let pb = values[(w + 1) | 0];
        let pc = values[(w + 2) | 0];
        let x0 = values[i];
        let x1 = values[(i + K) | 0];
        a0 += x0 * pa;
        b0 += x0 * pb;
        c0 += x0 * pc;
        a1 += x1 * pa;
        b1 += x1 * pb;
        c1 += x1 * pc;
        pa = values[(w + 3) | 0];
        pb = values[(w + 4) | 0];
        pc = values[(w + 5) | 0];
        x0 = values[(i + 1) | 0];
        x1 = values[(i + nextPixelNextTap) | 0];
        a0 += x0 * pa;
        b0 += x0 * pb;
        c0 += x0 * pc;
        a1 += x1 * pa;
        b1 += x1 * pb;
        c1 += x1 * pc;
      }
      if (i < start + K) {
        const pa = values[w];
        const pb = values[(w + 1) | 0];
        const pc = values[(w + 2) | 0];
        const x0 = values[i];
        const x1 = values[(i + K) | 0];
        a0 += x0 * pa;
        b0 += x0 * pb;
        c0 += x0 * pc;
        a1 += x1 * pa;
        b1 += x1 * pb;
        c1 += x1 * pc;
      }
      // Unpack: low = total - high·2^26 with high = floor((total + 2^25) / 2^26), since |low| < 2^25. The exact
      // sums wrap to int32 as the Int32Array stores them: TFLM's (acc + bias) in int32.
      let sum = pixelSums[ox];
      let high = Math.floor((a0 + HALF_PACK) * INVERSE_PACK);
      acc[r0 + ox] = a0 - high * PACK + sum + k0;
      acc[r1 + ox] = high + sum + k1;
      high = Math.floor((b0 + HALF_PACK) * INVERSE_PACK);
      acc[r2 + ox] = b0 - high * PACK + sum + k2;
      acc[r3 + ox] = high + sum + k3;
      high = Math.floor((c0 + HALF_PACK) * INVERSE_PACK);
      acc[r4 + ox] = c0 - high * PACK + sum + k4;
      acc[r5 + ox] = high + sum + k5;
      sum = pixelSums[ox + 1];
      high = Math.floor((a1 + HALF_PACK) * INVERSE_PACK);
      acc[r0 + ox + 1] = a1 - high * PACK + sum + k0;
      acc[r1 + ox + 1] = high + sum + k1;
      high = Math.floor((b1 + HALF_PACK) * INVERSE_PACK);
      acc[r2 + ox + 1] = b1 - high * PACK + sum + k2;
      acc[r3 + ox + 1] = high + sum + k3;
      high = Math.floor((c1 + HALF_PACK) * INVERSE_PACK);
      acc[r4 + ox + 1] = c1 - high * PACK + sum + k4;
      acc[r5 + ox + 1] = high + sum + k5;
    }
    // An odd last pixel on its own.
    if (ox < width) {
      const start = patches + ox * K;
      let a = 0;
      let b = 0;
      let c = 0;
      for (let i = start, w = weights, end = start + K; i < end; i++, w = (w + 3) | 0) {
        const x = values[i];
        a += x * values[w];
        b += x * values[(w + 1) | 0];
        c += x * values[(w + 2) | 0];
      }
      const sum = pixelSums[ox];
      let high = Math.floor((a + HALF_PACK) * INVERSE_PACK);
      acc[r0 + ox] = a - high * PACK + sum + k0;
      acc[r1 + ox] = high + sum + k1;
      high = Math.floor((b + HALF_PACK) * INVERSE_PACK);
      acc[r2 + ox] = b - high * PACK + sum + k2;
      acc[r3 + ox] = high + sum + k3;
      high = Math.floor((c + HALF_PACK) * INVERSE_PACK);
      acc[r4 + ox] = c - high * PACK + sum + k4;
      acc[r5 + ox] = high + sum + k5;
    }
    requantizeChannels(acc, width, outDepth, p.requantizer, output, outputStart, n, Math.min(n + BLOCK, outDepth));
  }
}
