// What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED check and compute alike in prepare (TFLM's
// conv_common.cc): the operands and sliding window of the two convolutions, and the requantization
// multipliers of all three (TFLite kernel_util.cc: PopulateConvolutionQuantizationParams,
// GetQuantizedConvolutionMultipler).
import { Padding, type Conv2DOptions } from '../schema/tflite.js';
import { check, checkArity, checkQuantized, input, output, type Node } from '../src/op.js';
import { windowGeometry, type WindowGeometry } from '../src/padding.js';
import { quantizeMultiplier } from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';

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
export function perChannelMultipliers(
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
  for (let c = 0; c < channels; c++) {
    const filterScale = filterScales.length > 1 ? filterScales[c] : filterScales[0];
    const q = quantizeMultiplier((input.scale * filterScale) / output.scale);
    multipliers[c] = q.multiplier;
    shifts[c] = q.shift;
  }
  return { multipliers, shifts };
}

/**
 * GetQuantizedConvolutionMultipler (kernel_util.cc): the per-tensor multiplier of uint8 convolutions and of
 * per-tensor FULLY_CONNECTED. Unlike the per-channel form, input_scale * filter_scale is a float32 product,
 * widened to double only before dividing by the output scale. With a bias, TFLite first insists that the
 * bias scale is input_scale * filter_scale within 2% of the output scale; a zero output scale fails that.
 */
export function perTensorMultiplier(
  input: Tensor,
  filter: Tensor,
  bias: Tensor | null,
  output: Tensor,
  channels: number,
): ChannelMultipliers {
  if (bias) {
    const scaleDiff = Math.abs(input.scale * filter.scale - bias.scale);
    check(
      scaleDiff / output.scale <= 0.02,
      () =>
        `bias scale ${bias.scale} is not input scale × filter scale (${input.scale * filter.scale}) ` +
        `within 2% of the output scale ${output.scale}`,
    );
  }
  const inputProductScale = Math.fround(input.scale * filter.scale);
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
export function weightedQuantization(
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
    check(filterZeroPoints.every((z) => z === 0), () => `int8 filter zero points must be 0, are [${filterZeroPoints}]`);
    return { ...offsets, filterOffset: 0, ...perChannelMultipliers(input, filter, output, channels) };
  }
  return { ...offsets, filterOffset: -filter.zeroPoint, ...perTensorMultiplier(input, filter, bias, output, channels) };
}

export type QuantizedArray = Int8Array | Uint8Array;

/** A weighted kernel's arithmetic on the arrays of its input, filter, bias (zeros when absent) and output. */
type WeightedKernel<Values, Bias, Data> = (input: Values, filter: Values, bias: Bias, output: Values, data: Data) => void;

/**
 * The eval of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: picks the float or the quantized arithmetic that
 * prepare chose (`data.kind`) and hands it typed arrays, with the prepared zeros standing in for an absent bias.
 */
export function evalWeighted<
  F extends { kind: 'float'; zeroBias: Float32Array },
  Q extends { kind: 'quantized'; zeroBias: Int32Array },
>(
  node: Node<unknown>,
  data: F | Q,
  floatKernel: WeightedKernel<Float32Array, Float32Array, F>,
  quantizedKernel: WeightedKernel<QuantizedArray, Int32Array, Q>,
): void {
  const [inputT, filter, bias] = node.inputs;
  const outputT = node.outputs[0];
  if (data.kind === 'float') {
    floatKernel(inputT!.float32(), filter!.float32(), bias ? bias.float32() : data.zeroBias, outputT.float32(), data as F);
  } else {
    quantizedKernel(
      inputT!.data as QuantizedArray, filter!.data as QuantizedArray, bias ? bias.int32() : data.zeroBias,
      outputT.data as QuantizedArray, data as Q,
    );
  }
}
