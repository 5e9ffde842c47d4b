// What CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED compute alike in prepare: the requantization
// multipliers (TFLite kernel_util.cc: PopulateConvolutionQuantizationParams, GetQuantizedConvolutionMultipler).
import { check, checkQuantized } from '../src/op.js';
import { quantizeMultiplier } from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';

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
