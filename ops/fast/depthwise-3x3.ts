// A fast, bit-exact DEPTHWISE_CONV_2D for 3x3 filters with depth multiplier 1 and no dilation, int8 and uint8,
// any stride: the depthwise layers of MobileNets. Same results as depthwiseQuantizedRow in
// ops/depthwise-conv2d.ts, byte for byte.
//
// TFLM sums (w + filterOffset) * (x + inputOffset) over the taps inside the input, in int32, then adds the bias.
// Wrapping to int32 commutes with addition, so an exact sum wrapped once (by the Int32Array store) is the same.
// Prepare adds the filter offset to the weights once. For an interior pixel all nine taps exist, so
// inputOffset · sum(w + filterOffset) is a per-channel constant folded into the bias, and the inner loop is nine
// multiply-adds on raw input values, channel by channel so the channel's nine weights stay in registers. Pixels
// whose window crosses the input's edge (the first and last rows and columns) take the checked loop, which adds
// the offset per tap and skips taps outside, as the reference does.
import { fillTapRows, type WindowData } from '../conv-common.js';
import { requantizeRow, type OutputStage } from './requantize.js';

type QuantizedArray = Int8Array | Uint8Array;

export interface Depthwise3x3 {
  channels: number;
  /** (w + filterOffset) per tap (filter row, filter column) and channel: [9][channels]. */
  weights: Int32Array;
  bias: Int32Array;
  /** Per channel: bias + inputOffset · sum of the nine weights, for pixels whose taps are all inside. */
  interiorBias: Float64Array;
  inputOffset: number;
  /** The row's int32 totals, pixel-major. */
  accumulators: Int32Array;
  stage: OutputStage;
}

export interface Depthwise3x3Source {
  outWidth: number;
  channels: number;
  /** [1, 3, 3, channels]. */
  filter: QuantizedArray;
  bias: Int32Array | null;
  inputOffset: number;
  filterOffset: number;
  stage: OutputStage;
}

export function prepareDepthwise3x3(s: Depthwise3x3Source): Depthwise3x3 {
  const { channels: C, filter } = s;
  const weights = new Int32Array(9 * C);
  const interiorBias = new Float64Array(C);
  const bias = s.bias ?? new Int32Array(C);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    for (let t = 0; t < 9; t++) {
      const w = filter[t * C + c] + s.filterOffset;
      weights[t * C + c] = w;
      sum += w;
    }
    interiorBias[c] = bias[c] + s.inputOffset * sum;
  }
  return {
    channels: C, weights, bias, interiorBias, inputOffset: s.inputOffset,
    accumulators: new Int32Array(s.outWidth * C), stage: s.stage,
  };
}

/** RowEvaluation.evalRow for such a layer, with the layer's (possibly PAD-folded) window `d`. */
export function depthwise3x3Row(
  p: Depthwise3x3,
  d: WindowData,
  input: QuantizedArray,
  inputStart: number,
  inputRows: number,
  output: QuantizedArray,
  outputStart: number,
  oy: number,
): void {
  const { channels: C, weights, interiorBias, accumulators: acc } = p;
  const { inWidth, outWidth, strideW, padLeft } = d;
  const tapRows = fillTapRows(d, inputStart, inputRows, oy);
  const r0 = tapRows[0];
  const r1 = tapRows[1];
  const r2 = tapRows[2];
  // Interior columns: ox·strideW - padLeft >= 0 and ox·strideW - padLeft + 2 < inWidth; none if a row is outside.
  let first = Math.ceil(padLeft / strideW);
  let last = Math.min(outWidth - 1, Math.floor((inWidth - 3 + padLeft) / strideW));
  if (r0 < 0 || r1 < 0 || r2 < 0 || first > last) {
    first = outWidth;
    last = outWidth - 1;
  }
  const step = strideW * C;
  for (let c = 0; c < C; c++) {
    const w0 = weights[c];
    const w1 = weights[C + c];
    const w2 = weights[2 * C + c];
    const w3 = weights[3 * C + c];
    const w4 = weights[4 * C + c];
    const w5 = weights[5 * C + c];
    const w6 = weights[6 * C + c];
    const w7 = weights[7 * C + c];
    const w8 = weights[8 * C + c];
    const k = interiorBias[c];
    let i = (first * strideW - padLeft) * C + c;
    for (let ox = first, a = first * C + c; ox <= last; ox++, a += C, i += step) {
      const a0 = r0 + i;
      const a1 = r1 + i;
      const a2 = r2 + i;
      acc[a] =
        k +
        w0 * input[a0] + w1 * input[a0 + C] + w2 * input[a0 + 2 * C] +
        w3 * input[a1] + w4 * input[a1 + C] + w5 * input[a1 + 2 * C] +
        w6 * input[a2] + w7 * input[a2 + C] + w8 * input[a2 + 2 * C];
    }
  }
  for (let ox = 0; ox < first && ox < outWidth; ox++) edgePixel(p, d, input, tapRows, ox);
  for (let ox = Math.max(last + 1, first); ox < outWidth; ox++) edgePixel(p, d, input, tapRows, ox);
  requantizeRow(acc, outWidth, C, C, p.stage, output, outputStart);
}

/** One pixel whose window leaves the input: only the taps inside, each adding the input offset. */
function edgePixel(p: Depthwise3x3, d: WindowData, input: QuantizedArray, tapRows: Int32Array, ox: number): void {
  const { channels: C, weights, bias, inputOffset, accumulators: acc } = p;
  const a = ox * C;
  acc.set(bias, a);
  const xOrigin = ox * d.strideW - d.padLeft;
  for (let fy = 0; fy < 3; fy++) {
    const rowStart = tapRows[fy];
    if (rowStart < 0) continue;
    for (let fx = 0; fx < 3; fx++) {
      const x = xOrigin + fx;
      if (x < 0 || x >= d.inWidth) continue;
      const i = rowStart + x * C;
      const w = (fy * 3 + fx) * C;
      for (let c = 0; c < C; c++) acc[a + c] += weights[w + c] * (input[i + c] + inputOffset);
    }
  }
}
