// CONV_2D: TFLM kernels/conv.cc + conv_common.cc, math of reference/integer_ops/conv.h (int8) and
// reference/conv.h (uint8, float32).
//
// int8: per-channel or per-tensor int8 filter with zero points 0 (the filter offset is never applied), int32
// bias. uint8 (TF1 quantization-aware models, which TFLM does not run): per-tensor, the filter has a zero
// point, as in TFLite's built-in kernel. float32: float32 accumulation in TFLM's order.
// Grouped convolution (filter depth a divisor of the input depth) is supported as in TFLM's reference.
import { readConv2DOptions, BuiltinOperator, BuiltinOptionsType, type Conv2DOptions } from '../schema/tflite.js';
import { check, KernelError, type OpKernel, type RowEvaluation } from '../src/op.js';
import { requantizer } from '../src/quant.js';
import {
  convOperands, evalEveryRow, evalWeighted, fillTapRows, floatWeighted, foldWindowPadding, outputStage,
  quantizedWeighted, rowWindow, withFields, type FastKernelWeights, type FloatWeighted, type QuantizedArray,
  type QuantizedWeighted, type WindowData,
} from './conv-common.js';
import { convPatchesRow, prepareConvPatches, type ConvPatches } from './fast/conv-patches.js';
import { convKernels, prepareSimdConv, simdConvRow, type SimdConv } from './wasm/conv.js';

interface ConvGeometry extends WindowData {
  /** Input channels per group: the filter's last dimension. */
  filterDepth: number;
  filtersPerGroup: number;
}

interface QuantizedConvData extends ConvGeometry, QuantizedWeighted, FastKernelWeights {
  dtype: 'int8' | 'uint8';
  /** TFLM's double rounding, or for int8 with `rounding: 'single'` the ruy single rounding TFLite uses. */
  requantize: (x: number, multiplier: number, shift: number) => number;
  /** The SIMD kernel (ops/wasm/conv.ts) on the SIMD tier, when the layer fits it. */
  simd: SimdConv | null;
  /** Else the fast kernel of an ungrouped layer (ops/fast/conv-patches.ts), or null to run convQuantizedRow. */
  patches: ConvPatches | null;
}

interface FloatConvData extends ConvGeometry, FloatWeighted {}

type ConvData = QuantizedConvData | FloatConvData;

const convRows: RowEvaluation<Conv2DOptions, ConvData> = {
  window: rowWindow,
  evalRow(node, data, input, inputStart, inputRows, output, outputStart, row) {
    if (data.kind === 'quantized' && data.simd) {
      simdConvRow(data.simd, input as QuantizedArray, inputStart, inputRows, output as QuantizedArray, outputStart, row);
    } else if (data.kind === 'quantized' && data.patches) {
      const { patches } = data;
      convPatchesRow(
        patches, data, input as QuantizedArray, inputStart, inputRows, output as QuantizedArray, outputStart, row,
      );
    } else {
      evalWeighted(node, data, convFloatRow, convQuantizedRow, input, output, inputStart, inputRows, outputStart, row);
    }
  },
};

export const Conv2D: OpKernel<Conv2DOptions, ConvData> = {
  name: 'CONV_2D',
  code: BuiltinOperator.CONV_2D,
  optionsType: BuiltinOptionsType.Conv2DOptions,
  parseOptions: readConv2DOptions,

  prepare(node, context) {
    const opts = node.options;
    const { inputT, filter, bias, outputT, geometry } = convOperands(node, (filterShape) => filterShape[0]);
    const [batches, inHeight, inWidth, inDepth] = inputT.shape;
    const [outDepth, filterHeight, filterWidth, filterDepth] = filter.shape;
    check(
      filterDepth > 0 && inDepth % filterDepth === 0,
      () => `filter depth ${filterDepth} does not divide input depth ${inDepth}`,
    );
    const groups = inDepth / filterDepth;
    check(outDepth % groups === 0, () => `${outDepth} filters cannot be split into ${groups} groups`);

    const shape: ConvGeometry = {
      batches, inHeight, inWidth, inDepth, filterHeight, filterWidth, filterDepth,
      outHeight: geometry.outHeight, outWidth: geometry.outWidth, outDepth,
      filtersPerGroup: outDepth / groups,
      strideH: opts.strideH, strideW: opts.strideW, dilationH: opts.dilationH, dilationW: opts.dilationW,
      padTop: geometry.padTop, padLeft: geometry.padLeft, tapRows: new Int32Array(filterHeight),
    };

    switch (inputT.dtype) {
      case 'float32':
        return withFields(shape, floatWeighted(bias, opts.activation, outDepth));
      case 'int8':
      case 'uint8': {
        // TFLite's kernels/conv.cc sends every int8 CONV_2D, per-tensor filters included, to
        // optimized_integer_ops::ConvPerChannel, whose per-row-multiplier gemm runs on ruy outside NEON
        // (cpu_backend_gemm_gemmlowp.h): single rounding. Its uint8 CONV_2D goes through gemmlowp's
        // output pipeline: double rounding, as TFLM.
        const rounding = inputT.dtype === 'int8' ? context.rounding : 'double';
        const quantization = quantizedWeighted('convolution', { inputT, filter, bias, outputT }, opts.activation, outDepth);
        // The layer as the fast kernels take it, weights included: no copy of its many fields for each of them.
        const data: QuantizedConvData = Object.assign(shape, quantization, {
          requantize: requantizer(rounding), simd: null, patches: null, dtype: inputT.dtype,
          filter: filter.data as QuantizedArray, bias: bias ? bias.int32() : null, stage: outputStage(quantization, rounding),
        });
        const fast = (context.kernels ?? 'fast') === 'fast';
        // The SIMD kernel reads its input by address in the SIMD memory, where the arena is; a constant input
        // stays in the model.
        if (fast && context.simd && !inputT.isConstant) data.simd = prepareSimdConv(context.simd, data);
        if (fast && !data.simd && groups === 1) {
          data.patches = prepareConvPatches(withFields(data, { depth: filterHeight * filterWidth * inDepth }));
        }
        return data;
      }
      default:
        throw new KernelError(`input type ${inputT.dtype} is not supported (float32, int8, uint8)`);
    }
  },

  eval: (node, data) => evalEveryRow(node, data, convRows),
  rows: convRows,
  foldPadding(_node, data, padding) {
    const folded = foldWindowPadding(data, padding);
    // The SIMD kernel takes the input's extent and padding at each call: a copy with the folded ones.
    if (folded?.kind !== 'quantized' || !folded.simd) return folded;
    const { inHeight, inWidth, padTop, padLeft } = folded;
    return withFields(folded, { simd: withFields(folded.simd, { inHeight, inWidth, padTop, padLeft }) });
  },
  simdKernels: [convKernels],
};

// One output row (RowEvaluation.evalRow), taps in TFLM's order: filter row, filter column, input channel.

function convQuantizedRow(
  inputData: QuantizedArray,
  filterData: QuantizedArray,
  biasData: Int32Array,
  outputData: QuantizedArray,
  d: QuantizedConvData,
  inputStart: number,
  inputRows: number,
  outputStart: number,
  oy: number,
): void {
  const {
    inWidth, inDepth, filterHeight, filterWidth, filterDepth, outWidth, outDepth, filtersPerGroup, strideW,
    dilationW, padLeft, inputOffset, filterOffset, outputOffset, multipliers, shifts, requantize, min, max,
  } = d;
  const tapRows = fillTapRows(d, inputStart, inputRows, oy);
  const filterRowSize = filterWidth * filterDepth;
  const filterSize = filterHeight * filterRowSize;
  let out = outputStart;
  for (let ox = 0; ox < outWidth; ox++) {
    const xOrigin = ox * strideW - padLeft;
    for (let oc = 0; oc < outDepth; oc++) {
      const channelBase = ((oc / filtersPerGroup) | 0) * filterDepth;
      // Exact in a double (each product is below 2^16 in magnitude); `| 0` below wraps the sum to
      // int32 as TFLM's int32 accumulator would.
      let acc = 0;
      for (let fy = 0; fy < filterHeight; fy++) {
        const rowStart = tapRows[fy];
        if (rowStart < 0) continue;
        const filterRow = oc * filterSize + fy * filterRowSize;
        for (let fx = 0; fx < filterWidth; fx++) {
          const x = xOrigin + fx * dilationW;
          if (x < 0 || x >= inWidth) continue;
          const i = rowStart + x * inDepth + channelBase;
          const f = filterRow + fx * filterDepth;
          for (let c = 0; c < filterDepth; c++) {
            acc += (filterData[f + c] + filterOffset) * (inputData[i + c] + inputOffset);
          }
        }
      }
      const v = requantize((acc + biasData[oc]) | 0, multipliers[oc], shifts[oc]) + outputOffset;
      outputData[out++] = v < min ? min : v > max ? max : v;
    }
  }
}

function convFloatRow(
  inputData: Float32Array,
  filterData: Float32Array,
  biasData: Float32Array,
  outputData: Float32Array,
  d: FloatConvData,
  inputStart: number,
  inputRows: number,
  outputStart: number,
  oy: number,
): void {
  const {
    inWidth, inDepth, filterHeight, filterWidth, filterDepth, outWidth, outDepth, filtersPerGroup, strideW,
    dilationW, padLeft, min, max,
  } = d;
  const tapRows = fillTapRows(d, inputStart, inputRows, oy);
  const filterRowSize = filterWidth * filterDepth;
  const filterSize = filterHeight * filterRowSize;
  let out = outputStart;
  for (let ox = 0; ox < outWidth; ox++) {
    const xOrigin = ox * strideW - padLeft;
    for (let oc = 0; oc < outDepth; oc++) {
      const channelBase = ((oc / filtersPerGroup) | 0) * filterDepth;
      // float32 arithmetic, rounded after every product and every sum, in TFLM's order.
      let total = 0;
      for (let fy = 0; fy < filterHeight; fy++) {
        const rowStart = tapRows[fy];
        if (rowStart < 0) continue;
        const filterRow = oc * filterSize + fy * filterRowSize;
        for (let fx = 0; fx < filterWidth; fx++) {
          const x = xOrigin + fx * dilationW;
          if (x < 0 || x >= inWidth) continue;
          const i = rowStart + x * inDepth + channelBase;
          const f = filterRow + fx * filterDepth;
          for (let c = 0; c < filterDepth; c++) {
            total = Math.fround(total + Math.fround(filterData[f + c] * inputData[i + c]));
          }
        }
      }
      const v = Math.fround(total + biasData[oc]);
      outputData[out++] = v < min ? min : v > max ? max : v;
    }
  }
}
