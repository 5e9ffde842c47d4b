// MEAN: the average over the axes named by a constant int32 tensor, optionally keeping them as size-1 dims.
//
// int8 follows TFLM (micro/kernels/reduce_common.cc EvalIntegerMean). The global average pool (4-D input, axes
// exactly {1, 2} as written in the model, keep_dims) goes to reference_integer_ops::Mean (integer_ops/mean.h),
// which requantizes like QuantizedMeanOrSum below, whatever the scales: measured against TFLM's output on
// mobilenet_v2_quantized_1x3x224x224, where input and output share scale and zero point (the older mean.h,
// which requantized and then divided with rounding, differs there in 177 of 1000 outputs; the truncating
// same-scale path in 544). Otherwise, when input and output share scale and zero point it is reference_ops::Mean: the int32 sum of the raw values divided by the
// count with C++'s truncating division, no rounding. Otherwise it is QuantizedMeanOrSum: subtract
// input_zero_point * count from the sum, then requantize once with input_scale / output_scale, whose Q31
// multiplier has 1/count folded in (see foldCount).
// uint8 follows TFLite's built-in kernel (kernels/reduce.cc EvalMean), which TFLM does not run: the global
// average pool (4-D, axes exactly {1, 2} as written, keep_dims) goes to optimized_ops::Mean, which computes its multiplier and
// bias in float (see uint8GlobalAverage); every other uint8 mean goes to QuantizedMeanOrSum, whatever the
// scales (TFLite has no same-scale shortcut).
import { BuiltinOperator, BuiltinOptionsType, readReducerOptions, type ReducerOptions } from '../schema/tflite.js';
import { check, checkArity, input, output, type Node, type OpKernel } from '../src/op.js';
import {
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  typeRange,
  type QuantizedMultiplier,
} from '../src/quant.js';
import { constantInts, type Tensor } from '../src/tensor.js';

/** Inputs are viewed as 6-D (leading 1s) so one loop nest reduces any rank up to 6. */
const MAX_RANK = 6;

/** How sums become outputs: divided in float, divided with truncation, or requantized. */
type MeanMode = 'float' | 'truncate' | 'requantize';

export interface MeanData {
  readonly mode: MeanMode;
  /** Input dims, left-padded with 1s to MAX_RANK. */
  readonly dims: Int32Array;
  /** Per input dim, the step in the output index: 0 for a reduced dim. */
  readonly outStrides: Int32Array;
  /** Number of input elements averaged into each output. */
  readonly count: number;
  /** One running sum per output element. */
  readonly sums: Int32Array | Float32Array;
  // 'requantize': clamp(MBQM(sum - sumOffset, multiplier, shift) + outputOffset, min, max).
  readonly sumOffset: number;
  readonly multiplier: number;
  readonly shift: number;
  readonly outputOffset: number;
  readonly min: number;
  readonly max: number;
}

type MeanTensorData = Int8Array | Uint8Array | Float32Array;

function prepareMean(node: Node<ReducerOptions>): MeanData {
  checkArity(node, 2, 1);
  const x = input(node, 0);
  const axisTensor = input(node, 1);
  const y = output(node, 0);
  check(
    x.dtype === 'int8' || x.dtype === 'uint8' || x.dtype === 'float32',
    `input is ${x.dtype}; expected int8, uint8 or float32`,
  );
  check(y.dtype === x.dtype, `output is ${y.dtype}, input is ${x.dtype}`);
  check(axisTensor.dtype === 'int32', `axis tensor is ${axisTensor.dtype}, expected int32`);
  check(axisTensor.isConstant, 'axis tensor must be constant');
  const rank = x.shape.length;
  check(rank <= MAX_RANK, `input has ${rank} dimensions; at most ${MAX_RANK} are supported`);
  check(x.size > 0, `input ${x.describe()} is empty`);

  const reduced = new Array<boolean>(rank).fill(false);
  const axes = constantInts(axisTensor);
  for (const a of axes) {
    const axis = a < 0 ? a + rank : a;
    check(axis >= 0 && axis < rank, `axis ${a} is out of range for a ${rank}-D input`);
    reduced[axis] = true;
  }
  const keepDims = node.options.keepDims;
  const expected = x.shape.flatMap((d, i) => (reduced[i] ? (keepDims ? [1] : []) : [d]));
  check(
    y.shape.length === expected.length && expected.every((d, i) => y.shape[i] === d),
    () => `output is ${y.describe()}, expected [${expected.join(',')}]`,
  );

  const dims = new Int32Array(MAX_RANK).fill(1);
  const outStrides = new Int32Array(MAX_RANK);
  let count = 1;
  let stride = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const at = MAX_RANK - rank + i;
    dims[at] = x.shape[i];
    if (reduced[i]) {
      count *= x.shape[i];
    } else {
      outStrides[at] = stride;
      stride *= x.shape[i];
    }
  }
  const outputs = y.size;

  const shape = { dims, outStrides, count };
  const unused = { sumOffset: 0, multiplier: 0, shift: 0, outputOffset: 0, min: 0, max: 0 };
  if (x.dtype === 'float32') return { mode: 'float', ...shape, sums: new Float32Array(outputs), ...unused };
  const sums = new Int32Array(outputs);
  const { min, max } = typeRange(x.dtype);
  const axesAreOneAndTwo = axes.length === 2 && ((axes[0] === 1 && axes[1] === 2) || (axes[0] === 2 && axes[1] === 1));
  if (x.dtype === 'int8' && rank === 4 && keepDims && axesAreOneAndTwo) {
    return requantizedMean(x, y, count, shape, sums, min, max);
  }
  if (x.dtype === 'int8' && x.scale === y.scale && x.zeroPoint === y.zeroPoint) {
    return { mode: 'truncate', ...shape, sums, ...unused };
  }
  // TFLite tests the axes as written, so [-3, -2] over the same dims takes the integer path (kernel suite).
  if (x.dtype === 'uint8' && rank === 4 && keepDims && axesAreOneAndTwo) {
    const { multiplier, shift, bias } = uint8GlobalAverage(x, y, count);
    return { mode: 'requantize', ...shape, sums, sumOffset: 0, multiplier, shift, outputOffset: bias, min, max };
  }
  return requantizedMean(x, y, count, shape, sums, min, max);
}

function requantizedMean(
  x: Tensor,
  y: Tensor,
  count: number,
  shape: Pick<MeanData, 'dims' | 'outStrides' | 'count'>,
  sums: Int32Array,
  min: number,
  max: number,
): MeanData {
  const { multiplier, shift } = foldCount(quantizeMultiplier(x.scale / y.scale), count);
  return {
    mode: 'requantize', ...shape, sums,
    // int32 * int64 in the C++, narrowed to int32 with the sum: wraps like it.
    sumOffset: Math.imul(x.zeroPoint, count),
    multiplier, shift, outputOffset: y.zeroPoint, min, max,
  };
}

/**
 * QuantizedMeanOrSum's "readapt output rescaling": divides the Q31 multiplier by count after shifting it
 * left by floor(log2(count)) (capped at 31 + shift so that the final shift stays >= -31; the C++'s other cap,
 * 32, cannot bind for a count below 2^32), with the C++'s truncating int64 division, and lowers the shift to
 * match. The result stays below 2^31: multiplier < 2^31 and 2^extra <= count.
 */
function foldCount({ multiplier, shift }: QuantizedMultiplier, count: number): QuantizedMultiplier {
  const log2 = 31 - Math.clz32(count);
  const extra = Math.min(log2, 31 + shift);
  return {
    multiplier: Number((BigInt(multiplier) << BigInt(extra)) / BigInt(count)),
    shift: shift - extra,
  };
}

/**
 * optimized_ops::Mean for uint8 (TFLite, optimized/reduce.h): no zero-point subtraction from the sum;
 * instead a bias of output_zp - round(input_zp * input_scale / output_scale), and one multiplier for
 * input_scale / (count * output_scale). Both are computed in C++ float, so in float32 here.
 */
function uint8GlobalAverage(x: Tensor, y: Tensor, count: number): { multiplier: number; shift: number; bias: number } {
  const f = Math.fround;
  let zeroPointShift = f(f(x.zeroPoint * x.scale) / y.scale);
  zeroPointShift = zeroPointShift > 0 ? f(zeroPointShift + 0.5) : f(zeroPointShift - 0.5);
  const { multiplier, shift } = quantizeMultiplier(f(x.scale / f(count * y.scale)));
  return { multiplier, shift, bias: y.zeroPoint - Math.trunc(zeroPointShift) };
}

/** Adds every input element into the sum of the output it reduces to, in input order (as the C++ does). */
function accumulate(d: MeanData, x: MeanTensorData): void {
  const { dims, outStrides: s, sums } = d;
  sums.fill(0);
  let i = 0;
  for (let a0 = 0; a0 < dims[0]; a0++) {
    const o0 = a0 * s[0];
    for (let a1 = 0; a1 < dims[1]; a1++) {
      const o1 = o0 + a1 * s[1];
      for (let a2 = 0; a2 < dims[2]; a2++) {
        const o2 = o1 + a2 * s[2];
        for (let a3 = 0; a3 < dims[3]; a3++) {
          const o3 = o2 + a3 * s[3];
          for (let a4 = 0; a4 < dims[4]; a4++) {
            const o4 = o3 + a4 * s[4];
            for (let a5 = 0; a5 < dims[5]; a5++) sums[o4 + a5 * s[5]] += x[i++];
          }
        }
      }
    }
  }
}

function meanRequantized(d: MeanData, y: Int8Array | Uint8Array): void {
  const { sums, sumOffset, multiplier, shift, outputOffset, min, max } = d;
  for (let o = 0; o < y.length; o++) {
    const v = multiplyByQuantizedMultiplier((sums[o] - sumOffset) | 0, multiplier, shift) + outputOffset;
    y[o] = v < min ? min : v > max ? max : v;
  }
}

/** Float division (stored to float32), or integer division truncating toward zero (the |0). */
function meanDivided(d: MeanData, y: Int8Array | Float32Array): void {
  const { sums, count } = d;
  if (d.mode === 'float') for (let o = 0; o < y.length; o++) y[o] = sums[o] / count;
  else for (let o = 0; o < y.length; o++) y[o] = (sums[o] / count) | 0;
}

export const Mean: OpKernel<ReducerOptions, MeanData> = {
  name: 'MEAN',
  code: BuiltinOperator.MEAN,
  optionsType: BuiltinOptionsType.ReducerOptions,
  parseOptions: readReducerOptions,
  prepare: prepareMean,
  eval(node, data) {
    accumulate(data, node.inputs[0]!.data as MeanTensorData);
    const y = node.outputs[0].data;
    if (data.mode === 'requantize') meanRequantized(data, y as Int8Array | Uint8Array);
    else meanDivided(data, y as Int8Array | Float32Array);
  },
};
