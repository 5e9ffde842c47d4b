// What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED check and compute alike in prepare (TFLM's
// conv_common.cc): the operands and sliding window of the two convolutions, and the requantization
// multipliers of all three (TFLite kernel_util.cc: PopulateConvolutionQuantizationParams,
// GetQuantizedConvolutionMultipler).
import { Padding, type Conv2DOptions } from '../schema/tflite.js';
import {
  check, checkArity, checkQuantized, input, output, type Node, type RowEvaluation, type RowWindow, type SpatialPadding,
} from '../src/op.js';
import { windowGeometry, type WindowGeometry } from '../src/padding.js';
import { quantizeMultiplier, quantizeMultiplierInto, type Rounding } from '../src/quant.js';
import type { OutputStage } from './fast/requantize.js';
import { floatActivationRange, quantizedActivationRange } from './fused-activation.js';
import type { Tensor, TensorData } from '../src/tensor.js';

/** The checked operands of a convolution and the window its options and shapes give. */
export interface ConvOperands {
  inputT: Tensor;
  filter: Tensor;
  bias: Tensor | null;
  outputT: Tensor;
  geometry: WindowGeometry;
}

/**
 * The checks CONV_2D and DEPTHWISE_CONV_2D share: 4-D input and filter of the input's type, positive strides
 * and dilations, a known padding, the output shape the window gives with `outDepth` channels (taken from the
 * filter as each op lays it out), and a bias of one value per output channel.
 */
export function convOperands(node: Node<Conv2DOptions>, outDepthOf: (filterShape: readonly number[]) => number): ConvOperands {
  checkArity(node, [2, 3], 1);
  const opts = node.options;
  const inputT = input(node, 0);
  const filter = input(node, 1);
  const bias = node.inputs[2] ?? null;
  const outputT = output(node, 0);
  check(inputT.shape.length === 4, () => `input must have rank 4, has shape [${inputT.shape}]`);
  check(filter.shape.length === 4, () => `filter must have rank 4, has shape [${filter.shape}]`);
  check(outputT.dtype === inputT.dtype, () => `output is ${outputT.dtype}, input is ${inputT.dtype}`);
  check(
    filter.dtype === inputT.dtype,
    () => `filter is ${filter.dtype}, input is ${inputT.dtype} (hybrid and int4 filters are not supported)`,
  );
  check(opts.strideH > 0 && opts.strideW > 0, () => `strides must be positive, are ${opts.strideH}x${opts.strideW}`);
  check(
    opts.dilationH > 0 && opts.dilationW > 0,
    () => `dilations must be positive, are ${opts.dilationH}x${opts.dilationW}`,
  );
  check(opts.padding === Padding.SAME || opts.padding === Padding.VALID, () => `unknown padding ${opts.padding}`);
  const [batches, inHeight, inWidth] = inputT.shape;
  const [, filterHeight, filterWidth] = filter.shape;
  const outDepth = outDepthOf(filter.shape);
  const geometry = windowGeometry(
    opts.padding, inHeight, inWidth, filterHeight, filterWidth, opts.strideH, opts.strideW, opts.dilationH,
    opts.dilationW,
  );
  const expected = [batches, geometry.outHeight, geometry.outWidth, outDepth];
  check(
    outputT.shape.length === 4 && expected.every((d, i) => outputT.shape[i] === d),
    () => `output shape is [${outputT.shape}], expected [${expected}]`,
  );
  if (bias) check(bias.size === outDepth, () => `bias has ${bias.size} elements, output has ${outDepth} channels`);
  return { inputT, filter, bias, outputT, geometry };
}

/** One Q31 multiplier and exponent per output channel; a per-tensor multiplier is repeated in every slot. */
export interface ChannelMultipliers {
  multipliers: Int32Array;
  shifts: Int32Array;
}

/**
 * PopulateConvolutionQuantizationParams (kernel_util.cc), the per-channel part, which CONV_2D and
 * DEPTHWISE_CONV_2D also use for per-tensor int8 filters and FULLY_CONNECTED for per-channel weights:
 * effective scale = double(input_scale) * double(filter_scale[c]) / double(output_scale), then QuantizeMultiplier.
 * One filter scale is broadcast to all channels. A zero output scale makes the scale infinite, which
 * quantizeMultiplier turns into multiplier 0 as TFLM does on x86: the channel then outputs its zero point.
 */
function perChannelMultipliers(
  input: Tensor,
  filter: Tensor,
  output: Tensor,
  channels: number,
): ChannelMultipliers {
  const { scale: filterScales, quantizedDimension } = filter.quantization!;
  if (filterScales.length > 1) {
    check(
      filterScales.length === channels,
      () => `filter has ${filterScales.length} per-channel scales, output has ${channels} channels`,
    );
    check(
      filter.shape[quantizedDimension] === channels,
      () =>
        `filter is quantized along dimension ${quantizedDimension} (size ${filter.shape[quantizedDimension]}), ` +
        `but has ${channels} per-channel scales`,
    );
  }
  const multipliers = new Int32Array(channels);
  const shifts = new Int32Array(channels);
  const inputScale = input.scale;
  const outputScale = output.scale;
  for (let c = 0; c < channels; c++) {
    const filterScale = filterScales.length > 1 ? filterScales[c] : filterScales[0];
    quantizeMultiplierInto((inputScale * filterScale) / outputScale, multipliers, shifts, c);
  }
  return { multipliers, shifts };
}

/**
 * GetQuantizedConvolutionMultipler (kernel_util.cc): the per-tensor multiplier of uint8 convolutions and of
 * per-tensor FULLY_CONNECTED. Unlike the per-channel form, input_scale * filter_scale is a float32 product,
 * widened to double only before dividing by the output scale. With a bias, TFLite first insists that the
 * bias scale is input_scale * filter_scale within 2% of the output scale; a zero output scale fails that.
 */
function perTensorMultiplier(
  input: Tensor,
  filter: Tensor,
  bias: Tensor | null,
  output: Tensor,
  channels: number,
): ChannelMultipliers {
  const inputProductScale = Math.fround(input.scale * filter.scale);
  if (bias) {
    const scaleDiff = Math.abs(inputProductScale - bias.scale);
    check(
      scaleDiff / output.scale <= 0.02,
      () =>
        `bias scale ${bias.scale} is not input scale × filter scale (${inputProductScale}) ` +
        `within 2% of the output scale ${output.scale}`,
    );
  }
  check(inputProductScale >= 0, () => `input scale × filter scale is negative (${inputProductScale})`);
  const { multiplier, shift } = quantizeMultiplier(inputProductScale / output.scale);
  return { multipliers: new Int32Array(channels).fill(multiplier), shifts: new Int32Array(channels).fill(shift) };
}

/** Everything a quantized CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED needs besides the clamp. */
export interface WeightedQuantization extends ChannelMultipliers {
  /** Added to every input value: minus the input zero point. */
  inputOffset: number;
  /** Added to every filter value: minus the filter zero point, or 0 where the kernel takes filters as symmetric. */
  filterOffset: number;
  outputOffset: number;
}

/**
 * The quantization of a quantized op with weights over `channels` output channels, as its TFLM prepare
 * computes it. Several filter scales: per-channel multipliers, int8 only; the per-channel kernels apply no
 * filter offset, so a nonzero filter zero point is refused rather than silently ignored. One scale: uint8
 * (and int8 FULLY_CONNECTED) use the legacy per-tensor multiplier and apply the filter zero point, while int8
 * CONV_2D and DEPTHWISE_CONV_2D run their per-channel kernels with the one scale broadcast.
 */
function weightedQuantization(
  op: 'convolution' | 'fully-connected',
  input: Tensor,
  filter: Tensor,
  bias: Tensor | null,
  output: Tensor,
  channels: number,
): WeightedQuantization {
  checkQuantized(input, 'input');
  checkQuantized(filter, 'filter');
  checkQuantized(output, 'output');
  check(!bias || bias.dtype === 'int32', () => `bias is ${bias!.dtype}, expected int32`);
  const { scale: filterScales, zeroPoint: filterZeroPoints } = filter.quantization!;
  const offsets = { inputOffset: -input.zeroPoint, outputOffset: output.zeroPoint };
  if (filterScales.length > 1 || (filter.dtype === 'int8' && op === 'convolution')) {
    check(
      filter.dtype === 'int8',
      () => `${filter.dtype} filter has ${filterScales.length} scales; per-channel quantization needs int8`,
    );
    check(allZero(filterZeroPoints), () => `int8 filter zero points must be 0, are [${filterZeroPoints}]`);
    return Object.assign(offsets, { filterOffset: 0 }, perChannelMultipliers(input, filter, output, channels));
  }
  return Object.assign(offsets, { filterOffset: -filter.zeroPoint }, perTensorMultiplier(input, filter, bias, output, channels));
}

/**
 * Whether every value is 0: a loop, not Array.every, which V8 runs ten times slower on the frozen zero arrays the
 * reader shares (schema/flatbuffer.ts zeros), ~1 ms of a MobileNet's 17k channels.
 */
function allZero(values: readonly number[]): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

export type QuantizedArray = Int8Array | Uint8Array;

/**
 * What the fast kernels (ops/fast/, ops/wasm/) take of a quantized weighted layer besides its geometry: the raw
 * filter (in the op's own layout), the int32 bias, the offsets and the requantization.
 */
export interface FastKernelWeights {
  filter: QuantizedArray;
  bias: Int32Array | null;
  inputOffset: number;
  filterOffset: number;
  stage: OutputStage;
}

/** What every weighted op's float data holds besides its geometry: the activation clamp, zeros for an absent bias. */
export interface FloatWeighted {
  kind: 'float';
  min: number;
  max: number;
  zeroBias: Float32Array;
}

/** The same for the quantized form, with the multipliers and offsets of weightedQuantization. */
export interface QuantizedWeighted extends WeightedQuantization {
  kind: 'quantized';
  min: number;
  max: number;
  zeroBias: Int32Array;
}

export function floatWeighted(bias: Tensor | null, activation: number, channels: number): FloatWeighted {
  check(!bias || bias.dtype === 'float32', () => `bias is ${bias!.dtype}, expected float32`);
  return Object.assign({ kind: 'float' as const }, floatActivationRange(activation), { zeroBias: new Float32Array(channels) });
}

export function quantizedWeighted(
  op: 'convolution' | 'fully-connected',
  operands: { inputT: Tensor; filter: Tensor; bias: Tensor | null; outputT: Tensor },
  activation: number,
  channels: number,
): QuantizedWeighted {
  const { inputT, filter, bias, outputT } = operands;
  return Object.assign(
    { kind: 'quantized' as const },
    weightedQuantization(op, inputT, filter, bias, outputT, channels),
    quantizedActivationRange(activation, outputT),
    { zeroBias: new Int32Array(channels) },
  );
}

/**
 * A weighted layer's data with more fields: Object.assign, not an object spread, which V8 runs some ten times
 * slower on data objects of this size (measured: ~25 µs against ~2 µs a layer, a millisecond of every load).
 */
export function withFields<D extends object, E extends object>(data: D, fields: E): D & E {
  return Object.assign({}, data, fields);
}

/** The requantization stage of quantized weighted data, for the fast kernels. */
export function outputStage(d: QuantizedWeighted, rounding: Rounding): OutputStage {
  return { multipliers: d.multipliers, shifts: d.shifts, rounding, outputOffset: d.outputOffset, min: d.min, max: d.max };
}

/**
 * A weighted kernel's arithmetic on the arrays of its input, filter, bias (zeros when absent) and output. The
 * convolutions compute one output row per call, at the position the last four arguments give (see
 * RowEvaluation.evalRow in src/op.ts); FULLY_CONNECTED computes its whole output and ignores them.
 */
type WeightedKernel<Values, Bias, Data> = (
  input: Values,
  filter: Values,
  bias: Bias,
  output: Values,
  data: Data,
  inputStart: number,
  inputRows: number,
  outputStart: number,
  row: number,
) => void;

/**
 * The eval of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: picks the float or the quantized arithmetic that
 * prepare chose (`data.kind`) and hands it typed arrays, with the prepared zeros standing in for an absent bias.
 * Input and output are the node's tensors unless a row of a fused or in-place step says otherwise.
 */
export function evalWeighted<
  F extends { kind: 'float'; zeroBias: Float32Array },
  Q extends { kind: 'quantized'; zeroBias: Int32Array },
>(
  node: Node<unknown>,
  data: F | Q,
  floatKernel: WeightedKernel<Float32Array, Float32Array, F>,
  quantizedKernel: WeightedKernel<QuantizedArray, Int32Array, Q>,
  input: TensorData = node.inputs[0]!.data,
  output: TensorData = node.outputs[0].data,
  inputStart = 0,
  inputRows = 0,
  outputStart = 0,
  row = 0,
): void {
  const [, filter, bias] = node.inputs;
  if (data.kind === 'float') {
    floatKernel(
      input as Float32Array, filter!.float32(), bias ? bias.float32() : data.zeroBias, output as Float32Array, data as F,
      inputStart, inputRows, outputStart, row,
    );
  } else {
    quantizedKernel(
      input as QuantizedArray, filter!.data as QuantizedArray, bias ? bias.int32() : data.zeroBias,
      output as QuantizedArray, data as Q, inputStart, inputRows, outputStart, row,
    );
  }
}

/** The sliding window CONV_2D and DEPTHWISE_CONV_2D prepare, in their data. */
export interface WindowData {
  batches: number;
  inHeight: number;
  inWidth: number;
  inDepth: number;
  filterHeight: number;
  filterWidth: number;
  outHeight: number;
  outWidth: number;
  outDepth: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  /** For the output row being computed: where each filter row reads its input row, or -1 outside the input. */
  tapRows: Int32Array;
}

export function rowWindow(d: WindowData): RowWindow {
  return {
    batches: d.batches,
    inHeight: d.inHeight,
    outHeight: d.outHeight,
    filterHeight: d.filterHeight,
    strideH: d.strideH,
    dilationH: d.dilationH,
    padTop: d.padTop,
    inRowElements: d.inWidth * d.inDepth,
    outRowElements: d.outWidth * d.outDepth,
  };
}

/**
 * Fills d.tapRows for output row `oy` (RowEvaluation.evalRow's addressing): taps that fall outside the input are
 * marked -1 and skipped, never read, TFLM's "zero padding by omitting".
 */
export function fillTapRows(d: WindowData, inputStart: number, inputRows: number, oy: number): Int32Array {
  const { tapRows, filterHeight, strideH, padTop, dilationH, inHeight } = d;
  const rowElements = d.inWidth * d.inDepth;
  for (let fy = 0; fy < filterHeight; fy++) {
    const y = oy * strideH - padTop + fy * dilationH;
    tapRows[fy] = y < 0 || y >= inHeight ? -1 : inputStart + (y % inputRows) * rowElements;
  }
  return tapRows;
}

/** The whole-tensor eval of a row-evaluated op: every output row of every batch, in order. */
export function evalEveryRow<O, D extends WindowData>(node: Node<O>, data: D, rows: RowEvaluation<O, D>): void {
  const input = node.inputs[0]!.data;
  const output = node.outputs[0].data;
  const { batches, inHeight, outHeight } = data;
  const inRowElements = data.inWidth * data.inDepth;
  const outRowElements = data.outWidth * data.outDepth;
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const outputStart = (b * outHeight + oy) * outRowElements;
      rows.evalRow(node, data, input, b * inHeight * inRowElements, inHeight, output, outputStart, oy);
    }
  }
}

/**
 * A convolution's data for reading the tensor a PAD padded, instead of the padded copy: the PAD's rows and
 * columns become the convolution's own padding, whose taps are skipped. Exact for quantized data only: a
 * padded value is the input zero point, so its tap adds (zp - zp) * (filter + offset) = 0 to the int32
 * accumulator, the same as skipping it. A float tap adds 0 * filter, which is NaN for an infinite weight.
 */
export function foldWindowPadding<D extends WindowData & { kind: 'float' | 'quantized' }>(
  d: D,
  padding: SpatialPadding,
): D | null {
  if (d.kind !== 'quantized') return null;
  return withFields(d, {
    inHeight: d.inHeight - padding.top - padding.bottom,
    inWidth: d.inWidth - padding.left - padding.right,
    padTop: d.padTop + padding.top,
    padLeft: d.padLeft + padding.left,
  });
}
