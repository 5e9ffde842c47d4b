// DEPTHWISE_CONV_2D: TFLM kernels/depthwise_conv.cc + depthwise_conv_common.cc, math of
// reference/integer_ops/depthwise_conv.h (int8), reference/depthwiseconv_uint8.h and depthwiseconv_float.h.
//
// The filter is [1, H, W, input depth × depth multiplier]; output channel ic·multiplier + m reads input
// channel ic. int8: per-channel (dimension 3) or per-tensor int8 filter with zero points 0. uint8: per-tensor,
// the filter has a zero point, as in TFLite's built-in kernel. float32: float32 accumulation in TFLM's order.
// Requantization is double rounding for every type: TFLM's reference kernels and TFLite's built-in depthwise
// kernels (optimized_ops::DepthwiseConv without NEON) both call MultiplyByQuantizedMultiplier.
import {
  readDepthwiseConv2DOptions, BuiltinOperator, BuiltinOptionsType, type DepthwiseConv2DOptions,
} from '../schema/tflite.js';
import { check, KernelError, type OpKernel, type RowEvaluation } from '../src/op.js';
import { multiplyByQuantizedMultiplier } from '../src/quant.js';
import {
  convOperands, evalEveryRow, evalWeighted, fillTapRows, floatWeighted, foldWindowPadding, outputStage,
  quantizedWeighted, rowWindow, withFields, type FastKernelWeights, type FloatWeighted, type QuantizedArray,
  type QuantizedWeighted, type WindowData,
} from './conv-common.js';
import { depthwise3x3Row, prepareDepthwise3x3, type Depthwise3x3 } from './fast/depthwise-3x3.js';
import { depthwiseKernels, prepareSimdDepthwise, simdDepthwiseRow, type SimdDepthwise } from './wasm/depthwise.js';

interface DepthwiseGeometry extends WindowData {
  depthMultiplier: number;
}

interface QuantizedDepthwiseData extends DepthwiseGeometry, QuantizedWeighted, FastKernelWeights {
  /** One output pixel's accumulators, all channels: taps outer, channels inner, so reads are contiguous. */
  accumulators: Int32Array;
  /** The SIMD kernel (ops/wasm/depthwise.ts) on the SIMD tier, when the layer fits it. */
  simd: SimdDepthwise | null;
  /** Else the fast kernel of a 3x3 layer (ops/fast/depthwise-3x3.ts), or null to run depthwiseQuantizedRow. */
  fast3x3: Depthwise3x3 | null;
}

interface FloatDepthwiseData extends DepthwiseGeometry, FloatWeighted {
  /** float32 storage rounds every partial sum to float32, as TFLM's `float total` does. */
  accumulators: Float32Array;
}

type DepthwiseData = QuantizedDepthwiseData | FloatDepthwiseData;

const depthwiseRows: RowEvaluation<DepthwiseConv2DOptions, DepthwiseData> = {
  window: rowWindow,
  evalRow(node, data, input, inputStart, inputRows, output, outputStart, row) {
    if (data.kind === 'quantized' && data.simd) {
      simdDepthwiseRow(
        data.simd, data, input as QuantizedArray, inputStart, inputRows, output as QuantizedArray, outputStart, row,
      );
    } else if (data.kind === 'quantized' && data.fast3x3) {
      const { fast3x3 } = data;
      depthwise3x3Row(
        fast3x3, data, input as QuantizedArray, inputStart, inputRows, output as QuantizedArray, outputStart, row,
      );
    } else {
      evalWeighted(
        node, data, depthwiseFloatRow, depthwiseQuantizedRow, input, output, inputStart, inputRows, outputStart, row,
      );
    }
  },
};

export const DepthwiseConv2D: OpKernel<DepthwiseConv2DOptions, DepthwiseData> = {
  name: 'DEPTHWISE_CONV_2D',
  code: BuiltinOperator.DEPTHWISE_CONV_2D,
  optionsType: BuiltinOptionsType.DepthwiseConv2DOptions,
  parseOptions: readDepthwiseConv2DOptions,

  prepare(node, context) {
    const opts = node.options;
    const { inputT, filter, bias, outputT, geometry } = convOperands(node, (filterShape) => filterShape[3]);
    check(filter.shape[0] === 1, () => `filter shape must be [1, H, W, channels], is [${filter.shape}]`);
    const [batches, inHeight, inWidth, inDepth] = inputT.shape;
    const [, filterHeight, filterWidth, outDepth] = filter.shape;
    // The option is redundant with the shapes; TFLite's depthwise_conv.cc insists they agree.
    check(
      opts.depthMultiplier * inDepth === outDepth,
      () => `depth multiplier ${opts.depthMultiplier} × input depth ${inDepth} is not the filter's ${outDepth} channels`,
    );

    const shape: DepthwiseGeometry = {
      batches, inHeight, inWidth, inDepth, depthMultiplier: opts.depthMultiplier, filterHeight, filterWidth,
      outHeight: geometry.outHeight, outWidth: geometry.outWidth, outDepth,
      strideH: opts.strideH, strideW: opts.strideW, dilationH: opts.dilationH, dilationW: opts.dilationW,
      padTop: geometry.padTop, padLeft: geometry.padLeft, tapRows: new Int32Array(filterHeight),
    };

    switch (inputT.dtype) {
      case 'float32':
        return Object.assign(shape, floatWeighted(bias, opts.activation, outDepth), { accumulators: new Float32Array(outDepth) });
      case 'int8':
      case 'uint8': {
        const quantization = quantizedWeighted('convolution', { inputT, filter, bias, outputT }, opts.activation, outDepth);
        // The layer as the fast kernels take it, weights included: no copy of its many fields for each of them.
        const data: QuantizedDepthwiseData = Object.assign(shape, quantization, {
          accumulators: new Int32Array(outDepth), simd: null, fast3x3: null,
          filter: filter.data as QuantizedArray, bias: bias ? bias.int32() : null, stage: outputStage(quantization, 'double'),
        });
        const fast = (context.kernels ?? 'fast') === 'fast';
        // The SIMD kernel reads its input by address in the SIMD memory, where the arena is; a constant input
        // stays in the model.
        if (fast && context.simd && !inputT.isConstant) data.simd = prepareSimdDepthwise(context.simd, data);
        const fits = filterHeight === 3 && filterWidth === 3 && opts.depthMultiplier === 1 &&
          opts.dilationH === 1 && opts.dilationW === 1;
        if (fast && !data.simd && fits) data.fast3x3 = prepareDepthwise3x3(withFields(data, { channels: outDepth }));
        return data;
      }
      default:
        throw new KernelError(`input type ${inputT.dtype} is not supported (float32, int8, uint8)`);
    }
  },

  eval: (node, data) => evalEveryRow(node, data, depthwiseRows),
  rows: depthwiseRows,
  foldPadding: (_node, data, padding) => foldWindowPadding(data, padding),
  simdKernels: [depthwiseKernels],
};

// One output row (RowEvaluation.evalRow). Each channel accumulates its taps in TFLM's (filter row, filter
// column) order.

function depthwiseQuantizedRow(
  inputData: QuantizedArray,
  filterData: QuantizedArray,
  biasData: Int32Array,
  outputData: QuantizedArray,
  d: QuantizedDepthwiseData,
  inputStart: number,
  inputRows: number,
  outputStart: number,
  oy: number,
): void {
  const {
    inWidth, inDepth, depthMultiplier, filterHeight, filterWidth, outWidth, outDepth, strideW, dilationW, padLeft,
    inputOffset, filterOffset, outputOffset, multipliers, shifts, min, max, accumulators: acc,
  } = d;
  const tapRows = fillTapRows(d, inputStart, inputRows, oy);
  let out = outputStart;
  for (let ox = 0; ox < outWidth; ox++) {
    const xOrigin = ox * strideW - padLeft;
    // Int32Array storage wraps every partial sum to int32, as TFLM's int32 accumulator does.
    acc.fill(0);
    for (let fy = 0; fy < filterHeight; fy++) {
      const rowStart = tapRows[fy];
      if (rowStart < 0) continue;
      for (let fx = 0; fx < filterWidth; fx++) {
        const x = xOrigin + fx * dilationW;
        if (x < 0 || x >= inWidth) continue;
        const i = rowStart + x * inDepth;
        const f = (fy * filterWidth + fx) * outDepth;
        let oc = 0;
        for (let ic = 0; ic < inDepth; ic++) {
          const value = inputData[i + ic] + inputOffset;
          for (let m = 0; m < depthMultiplier; m++, oc++) {
            acc[oc] += (filterData[f + oc] + filterOffset) * value;
          }
        }
      }
    }
    for (let oc = 0; oc < outDepth; oc++) {
      const v = multiplyByQuantizedMultiplier((acc[oc] + biasData[oc]) | 0, multipliers[oc], shifts[oc]) + outputOffset;
      outputData[out++] = v < min ? min : v > max ? max : v;
    }
  }
}

function depthwiseFloatRow(
  inputData: Float32Array,
  filterData: Float32Array,
  biasData: Float32Array,
  outputData: Float32Array,
  d: FloatDepthwiseData,
  inputStart: number,
  inputRows: number,
  outputStart: number,
  oy: number,
): void {
  const {
    inWidth, inDepth, depthMultiplier, filterHeight, filterWidth, outWidth, outDepth, strideW, dilationW, padLeft,
    min, max, accumulators: total,
  } = d;
  const tapRows = fillTapRows(d, inputStart, inputRows, oy);
  let out = outputStart;
  for (let ox = 0; ox < outWidth; ox++) {
    const xOrigin = ox * strideW - padLeft;
    total.fill(0);
    for (let fy = 0; fy < filterHeight; fy++) {
      const rowStart = tapRows[fy];
      if (rowStart < 0) continue;
      for (let fx = 0; fx < filterWidth; fx++) {
        const x = xOrigin + fx * dilationW;
        if (x < 0 || x >= inWidth) continue;
        const i = rowStart + x * inDepth;
        const f = (fy * filterWidth + fx) * outDepth;
        let oc = 0;
        for (let ic = 0; ic < inDepth; ic++) {
          const value = inputData[i + ic];
          for (let m = 0; m < depthMultiplier; m++, oc++) {
            total[oc] += Math.fround(filterData[f + oc] * value);
          }
        }
      }
    }
    for (let oc = 0; oc < outDepth; oc++) {
      const v = Math.fround(total[oc] + biasData[oc]);
      outputData[out++] = v < min ? min : v > max ? max : v;
    }
  }
}
