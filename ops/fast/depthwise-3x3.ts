// A fast, bit-exact DEPTHWISE_CONV_2D for 3x3 filters with depth multiplier 1 and no dilation, int8 and uint8,
// any stride: the depthwise layers of MobileNets. Same results as depthwiseQuantizedRow in
// ops/depthwise-conv2d.ts, byte for byte.
//
// TFLM sums (w + filterOffset) * (x + inputOffset) over the taps inside the input, in int32, then adds the bias.
// Here too the arithmetic is int32 (Math.imul, and `| 0` after each sum, wrapping as TFLM's int32 does): every
// product is below 2^17 in magnitude, so it is exact. Prepare adds the filter offset to the weights once. For a
// row of output pixels, a filter row that falls outside the input gets weight 0 (and reads a row inside, so that
// every read is a number); then for a pixel whose three columns are inside, inputOffset · (sum of the weights) is a per-channel constant and the total is nine
// multiply-adds on raw input values. The loop runs channel by channel, so the channel's nine weights stay in
// registers, and along the row it slides the window: at stride 1 each pixel reads one new column of three values
// and reuses the two before it, at stride 2 it reuses one. Pixels whose window crosses the left or right edge
// (usually the first and last) add the offset per tap and skip the columns outside, as the reference does.
//
// Each total is requantized as soon as it is computed, by the closed form of ./requantize.ts when prepare has
// found that no total of the channel can exceed the form's limit (|bias| + 256 · sum |w| bounds it): real layers'
// channels are far inside. A channel that is not (a huge bias or a tiny output scale) computes every pixel the
// way the edge pixels are, and requantizes it the wide way.
import { fillTapRows, type FastKernelWeights, type QuantizedArray, type WindowData } from '../conv-common.js';
import {
  prepareRequantizer, requantizeAny, requantizeWithin, type Requantizer,
} from './requantize.js';


export interface Depthwise3x3 {
  channels: number;
  /** (w + filterOffset) per channel and tap (filter row, filter column): [channels][9]. */
  weights: Int32Array;
  /** Per channel; zeros when the layer has none. */
  bias: Int32Array;
  inputOffset: number;
  requantizer: Requantizer;
  /** Per channel, 1 when every total is within the requantizer's closed form. */
  closedForm: Uint8Array;
}

/** The filter is [1, 3, 3, channels]. */
export interface Depthwise3x3Source extends FastKernelWeights {
  outWidth: number;
  channels: number;
}

export function prepareDepthwise3x3(s: Depthwise3x3Source): Depthwise3x3 {
  const { channels: C, filter } = s;
  const weights = new Int32Array(9 * C);
  const bias = s.bias ?? new Int32Array(C);
  const requantizer = prepareRequantizer(s.stage, C);
  const closedForm = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    let sumAbs = 0;
    for (let t = 0; t < 9; t++) {
      const w = filter[t * C + c] + s.filterOffset;
      weights[c * 9 + t] = w;
      sumAbs += Math.abs(w);
    }
    // |x + inputOffset| <= 256 for int8 (x >= -128, inputOffset <= 128) and 255 for uint8.
    closedForm[c] = Math.abs(bias[c]) + 256 * sumAbs <= requantizer.limits[c] ? 1 : 0;
  }
  return { channels: C, weights, bias, inputOffset: s.inputOffset, requantizer, closedForm };
}

/** w0·x0 + w1·x1 + w2·x2 in int32: each product is below 2^17 in magnitude, so neither it nor the sum wraps. */
function dot3(w0: number, x0: number, w1: number, x1: number, w2: number, x2: number): number {
  return (Math.imul(w0, x0) + Math.imul(w1, x1) + Math.imul(w2, x2)) | 0;
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
  const { channels: C, weights, bias, inputOffset, requantizer, closedForm } = p;
  const { scales, nudges, negativeNudges, units } = requantizer;
  const lowest = requantizer.lowest | 0;
  const range = requantizer.range | 0;
  const min = requantizer.min | 0;
  const { inWidth, outWidth, strideW, padLeft } = d;
  const tapRows = fillTapRows(d, inputStart, inputRows, oy);
  // All ones for a filter row inside the input, 0 for one outside: masks its weights.
  const inside0 = tapRows[0] >= 0 ? -1 : 0;
  const inside1 = tapRows[1] >= 0 ? -1 : 0;
  const inside2 = tapRows[2] >= 0 ? -1 : 0;
  const someRow = inside1 ? tapRows[1] : inside0 ? tapRows[0] : inside2 ? tapRows[2] : inputStart;
  const r0 = inside0 ? tapRows[0] : someRow;
  const r1 = inside1 ? tapRows[1] : someRow;
  const r2 = inside2 ? tapRows[2] : someRow;
  // Interior pixels, whose three columns are inside: ox·strideW - padLeft >= 0 and ox·strideW - padLeft + 2 < inWidth.
  const interiorFirst = Math.min(outWidth, Math.ceil(padLeft / strideW));
  const interiorLast = Math.min(outWidth - 1, Math.floor((inWidth - 3 + padLeft) / strideW));
  const step = strideW * C;
  for (let c = 0; c < C; c++) {
    // A channel outside the closed form takes every pixel as an edge pixel: an empty interior.
    const closed = closedForm[c] === 1;
    const first = closed ? interiorFirst : outWidth;
    const last = closed ? interiorLast : outWidth - 1;
    const t = c * 9;
    const w00 = weights[t] & inside0;
    const w01 = weights[t + 1] & inside0;
    const w02 = weights[t + 2] & inside0;
    const w10 = weights[t + 3] & inside1;
    const w11 = weights[t + 4] & inside1;
    const w12 = weights[t + 5] & inside1;
    const w20 = weights[t + 6] & inside2;
    const w21 = weights[t + 7] & inside2;
    const w22 = weights[t + 8] & inside2;
    const channelBias = bias[c];
    const k = (channelBias + inputOffset * (w00 + w01 + w02 + w10 + w11 + w12 + w20 + w21 + w22)) | 0;
    const scale = scales[c];
    const nudge = nudges[c];
    const negativeNudge = negativeNudges[c];
    const unit = units[c];
    // i: where the window's first column reads, relative to a row's start; o: where the pixel's output goes.
    let i = (first * strideW - padLeft) * C + c;
    let o = outputStart + first * C + c;
    if (first <= last && strideW === 1) {
      let a0 = input[(r0 + i) | 0];
      let b0 = input[(r1 + i) | 0];
      let c0 = input[(r2 + i) | 0];
      i = (i + C) | 0;
      let a1 = input[(r0 + i) | 0];
      let b1 = input[(r1 + i) | 0];
      let c1 = input[(r2 + i) | 0];
      i = (i + C) | 0;
      for (let ox = first; ox <= last; ox++, i = (i + C) | 0, o = (o + C) | 0) {
        const a2 = input[(r0 + i) | 0];
        const b2 = input[(r1 + i) | 0];
        const c2 = input[(r2 + i) | 0];
        const total =
          (k + dot3(w00, a0, w01, a1, w02, a2) + dot3(w10, b0, w11, b1, w12, b2) + dot3(w20, c0, w21, c1, w22, c2)) | 0;
        output[o] = requantizeWithin(total, scale, nudge, negativeNudge, unit, lowest, range, min);
        a0 = a1;
        a1 = a2;
        b0 = b1;
        b1 = b2;
        c0 = c1;
        c1 = c2;
      }
    } else if (first <= last && strideW === 2) {
      let a0 = input[(r0 + i) | 0];
      let b0 = input[(r1 + i) | 0];
      let c0 = input[(r2 + i) | 0];
      for (let ox = first; ox <= last; ox++, i = (i + step) | 0, o = (o + C) | 0) {
        const j = (i + C) | 0;
        const a1 = input[(r0 + j) | 0];
        const b1 = input[(r1 + j) | 0];
        const c1 = input[(r2 + j) | 0];
        const a2 = input[(r0 + j + C) | 0];
        const b2 = input[(r1 + j + C) | 0];
        const c2 = input[(r2 + j + C) | 0];
        const total =
          (k + dot3(w00, a0, w01, a1, w02, a2) + dot3(w10, b0, w11, b1, w12, b2) + dot3(w20, c0, w21, c1, w22, c2)) | 0;
        output[o] = requantizeWithin(total, scale, nudge, negativeNudge, unit, lowest, range, min);
        a0 = a2;
        b0 = b2;
        c0 = c2;
      }
    } else {
      for (let ox = first; ox <= last; ox++, i += step, o += C) {
        const i1 = i + C;
        const i2 = i1 + C;
        const total = (
          k +
          dot3(w00, input[r0 + i], w01, input[r0 + i1], w02, input[r0 + i2]) +
          dot3(w10, input[r1 + i], w11, input[r1 + i1], w12, input[r1 + i2]) +
          dot3(w20, input[r2 + i], w21, input[r2 + i1], w22, input[r2 + i2])
        ) | 0;
        output[o] = requantizeWithin(total, scale, nudge, negativeNudge, unit, lowest, range, min);
      }
    }
    // The edge pixels: each column inside adds its three taps, with the input offset.
    for (let ox = 0; ox < outWidth; ox++) {
      if (ox === first && first <= last) {
        ox = last;
        continue;
      }
      const x = ox * strideW - padLeft;
      let total = channelBias;
      if (x >= 0 && x < inWidth) {
        const j = x * C + c;
        total = (total + dot3(
          w00, input[r0 + j] + inputOffset, w10, input[r1 + j] + inputOffset, w20, input[r2 + j] + inputOffset,
        )) | 0;
      }
      if (x + 1 >= 0 && x + 1 < inWidth) {
        const j = (x + 1) * C + c;
        total = (total + dot3(
          w01, input[r0 + j] + inputOffset, w11, input[r1 + j] + inputOffset, w21, input[r2 + j] + inputOffset,
        )) | 0;
      }
      if (x + 2 >= 0 && x + 2 < inWidth) {
        const j = (x + 2) * C + c;
        total = (total + dot3(
          w02, input[r0 + j] + inputOffset, w12, input[r1 + j] + inputOffset, w22, input[r2 + j] + inputOffset,
        )) | 0;
      }
      output[outputStart + ox * C + c] = closed
        ? requantizeWithin(total, scale, nudge, negativeNudge, unit, lowest, range, min)
        : requantizeAny(requantizer, c, total);
    }
  }
}
