// SOFTMAX over the last dimension: out = exp(beta * (x - max)) / sum of those.
//
// int8 → int8 / int16 follows TFLM (softmax_common.cc CalculateSoftmaxParams, reference_ops::Softmax): input
// differences from the row's max, scaled by beta * input_scale into Q5.26, go through gemmlowp's
// exp_on_negative_values; their sum (Q12.19) is inverted with one_over_one_plus_x, and each exp times that
// reciprocal is shifted to the output. Differences below diff_min contribute nothing and give the minimum.
// An exp depends on the difference alone (0 to 255), so prepare tabulates them.
// uint8 → uint8 follows TFLite's built-in kernel (activations.cc SoftmaxPrepare with kGenericOptimized,
// optimized_ops::Softmax): a float32 table of exp(-input_scale * beta * k) for k = 0..255, float32 sums and
// products, and a final (int)(p + 0.5f), as compiled for anything but aarch64. float32 follows TFLM's reference.
import { BuiltinOperator, BuiltinOptionsType, readSoftmaxOptions, type SoftmaxOptions } from '../schema/tflite.js';
import { check, checkArity, checkQuantized, input, KernelError, output, type Node, type OpKernel } from '../src/op.js';
import {
  calculateInputRadius,
  expOnNegativeValues,
  quantizeMultiplier,
  reciprocalMantissa,
  rescale,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  truncateToInt32,
} from '../src/quant.js';

/** Integer bits of the scaled differences fed to exp (Q5.26) and of the sum of exps (Q12.19). */
const SCALED_DIFF_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;

/** std::numeric_limits<float>::lowest(), where the float kernel's running max starts. */
const FLOAT_LOWEST = -3.4028234663852886e38;

export interface SoftmaxData {
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** Elements per softmax: the size of the last dimension. */
  readonly depth: number;
  /** int8: beta * input_scale as a multiplier that needs a left shift, and the smallest difference kept. */
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
  readonly diffMin: number;
  /** int8: the output type's bits and minimum (-128 or -32768). */
  readonly outputBits: number;
  readonly outputMin: number;
  /** int8: exp(beta * scale * -k) in Q0.31 for a difference of k from the row's max; -1 below diff_min. */
  readonly expOfDifference: Int32Array;
  /** uint8: exp(-input_scale * beta * k) at index 255 - k, and the output scale. */
  readonly table: Float32Array;
  readonly outputScale: number;
  /** float32: beta. */
  readonly beta: number;
}

function prepareSoftmax(node: Node<SoftmaxOptions>): SoftmaxData {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  check(x.shape.length >= 1, () => `input must have at least one dimension, is ${x.describe()}`);
  check(y.shape.join() === x.shape.join(), () => `output is ${y.describe()}, input is ${x.describe()}`);
  const beta = node.options.beta;
  const unused = {
    depth: x.shape[x.shape.length - 1],
    inputMultiplier: 0,
    inputLeftShift: 0,
    diffMin: 0,
    outputBits: 0,
    outputMin: 0,
    expOfDifference: new Int32Array(0),
    table: new Float32Array(0),
    outputScale: 0,
    beta,
  };
  if (x.dtype === 'float32') {
    check(y.dtype === 'float32', () => `output is ${y.dtype}; a float32 input needs a float32 output`);
    return { ...unused, dtype: 'float32' };
  }
  checkQuantized(x, 'input');
  checkQuantized(y, 'output');
  if (x.dtype === 'uint8') {
    check(y.dtype === 'uint8', () => `output is ${y.dtype}; a uint8 input needs a uint8 output`);
    // PopulateSoftmaxLookupTable: table[255 - k] = expf(k * (-input_scale * beta)), all in float32.
    const scale = Math.fround(-x.scale * beta);
    const table = new Float32Array(256);
    for (let k = 0; k < 256; k++) table[255 - k] = Math.exp(Math.fround(scale * k));
    return { ...unused, dtype: 'uint8', table, outputScale: y.scale };
  }
  check(x.dtype === 'int8', () => `input is ${x.dtype}; expected int8, uint8 or float32`);
  if (y.dtype === 'int16') {
    check(y.zeroPoint === -32768, () => `int16 output zero point must be -32768, is ${y.zeroPoint}`);
    const tolerance = Math.fround(Math.fround(0.001) / 65536);
    check(
      Math.abs(Math.fround(y.scale - 1 / 65536)) <= tolerance,
      () => `int16 output scale must be 1/65536 (within 0.1%), is ${y.scale}`,
    );
  } else {
    check(y.dtype === 'int8', () => `output is ${y.dtype}; an int8 input needs an int8 or int16 output`);
    check(y.zeroPoint === -128, () => `int8 output zero point must be -128, is ${y.zeroPoint}`);
    check(y.scale === 1 / 256, () => `int8 output scale must be exactly 1/256, is ${y.scale}`);
  }
  // PreprocessSoftmaxScaling: beta * input_scale in Q5.26, capped at 2^31 - 1, then
  // QuantizeMultiplierGreaterThanOne, which aborts on a multiplier of 1 or less.
  const real = Math.min(beta * x.scale * 2 ** (31 - SCALED_DIFF_INTEGER_BITS), 2 ** 31 - 1);
  const { multiplier, shift } = quantizeMultiplier(real);
  check(
    real > 1 && shift >= 0,
    () => `beta ${beta} times input scale ${x.scale}, times 2^26, is ${real}; TFLM requires it to exceed 1`,
  );
  const diffMin = -calculateInputRadius(SCALED_DIFF_INTEGER_BITS, shift);
  const outputBits = y.dtype === 'int8' ? 8 : 16;
  return {
    ...unused,
    dtype: 'int8',
    inputMultiplier: multiplier,
    inputLeftShift: shift,
    diffMin,
    outputBits,
    outputMin: -(2 ** (outputBits - 1)),
    expOfDifference: expTable(multiplier, shift, diffMin),
  };
}

/** The exps of reference_ops::Softmax for every difference an int8 row can hold. */
function expTable(multiplier: number, shift: number, diffMin: number): Int32Array {
  const table = new Int32Array(256);
  for (let k = 0; k < 256; k++) {
    const diff = -k;
    // MultiplyByQuantizedMultiplierGreaterThanOne: shift left (wrapping), then the doubling high multiply.
    const scaledDiff = saturatingRoundingDoublingHighMul(Math.imul(diff, 1 << shift), multiplier);
    table[k] = diff >= diffMin ? expOnNegativeValues(scaledDiff, SCALED_DIFF_INTEGER_BITS) : -1;
  }
  return table;
}

function softmaxInt8(d: SoftmaxData, x: Int8Array, y: Int8Array | Int16Array): void {
  const { depth, outputBits, outputMin, expOfDifference } = d;
  const outputMax = -outputMin - 1;
  for (let row = 0; row < x.length; row += depth) {
    let max = -128;
    for (let c = 0; c < depth; c++) if (x[row + c] > max) max = x[row + c];

    let sumOfExps = 0;
    for (let c = 0; c < depth; c++) {
      const e = expOfDifference[max - x[row + c]];
      if (e >= 0) sumOfExps = (sumOfExps + rescale(e, 0, ACCUMULATION_INTEGER_BITS)) | 0;
    }

    const numBitsOverUnit = ACCUMULATION_INTEGER_BITS - Math.clz32(sumOfExps);
    const reciprocal = reciprocalMantissa(sumOfExps);
    const exponent = numBitsOverUnit + 31 - outputBits;
    if (exponent > 31) {
      // TFLM's TFLITE_CHECK(0 <= exponent && exponent <= 31) aborts here: the row's exps sum past 2^28.
      throw new KernelError(`a row of ${depth} exps sums to ${sumOfExps} / 2^19, too large to normalize`);
    }
    for (let c = 0; c < depth; c++) {
      const e = expOfDifference[max - x[row + c]];
      if (e < 0) {
        y[row + c] = outputMin;
      } else {
        const v = roundingDivideByPOT(saturatingRoundingDoublingHighMul(reciprocal, e), exponent) + outputMin;
        y[row + c] = v > outputMax ? outputMax : v;
      }
    }
  }
}

function softmaxUint8(d: SoftmaxData, x: Uint8Array, y: Uint8Array): void {
  const { depth, table, outputScale } = d;
  for (let row = 0; row < x.length; row += depth) {
    let max = 0;
    for (let c = 0; c < depth; c++) if (x[row + c] > max) max = x[row + c];
    const offset = 255 - max;
    let sumExp = 0;
    for (let c = 0; c < depth; c++) sumExp = Math.fround(sumExp + table[offset + x[row + c]]);
    const inverseSumExp = Math.fround(1 / Math.fround(sumExp * outputScale));
    for (let c = 0; c < depth; c++) {
      const probability = Math.fround(table[offset + x[row + c]] * inverseSumExp);
      // QuantizeSoftmaxOutput<uint8_t> off aarch64 adds 0.5f and truncates, and ignores the zero point.
      const v = truncateToInt32(Math.fround(probability + 0.5));
      y[row + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

function softmaxFloat(d: SoftmaxData, x: Float32Array, y: Float32Array): void {
  const { depth, beta } = d;
  for (let row = 0; row < x.length; row += depth) {
    let max = FLOAT_LOWEST;
    for (let c = 0; c < depth; c++) if (max < x[row + c]) max = x[row + c];
    let sum = 0;
    for (let c = 0; c < depth; c++) {
      const e = Math.fround(Math.exp(Math.fround(Math.fround(x[row + c] - max) * beta)));
      y[row + c] = e;
      sum = Math.fround(sum + e);
    }
    for (let c = 0; c < depth; c++) y[row + c] = y[row + c] / sum;
  }
}

function evalSoftmax(node: Node<SoftmaxOptions>, d: SoftmaxData): void {
  const x = node.inputs[0]!;
  const y = node.outputs[0];
  if (d.dtype === 'int8') softmaxInt8(d, x.int8(), y.data as Int8Array | Int16Array);
  else if (d.dtype === 'uint8') softmaxUint8(d, x.uint8(), y.uint8());
  else softmaxFloat(d, x.float32(), y.float32());
}

export const Softmax: OpKernel<SoftmaxOptions, SoftmaxData> = {
  name: 'SOFTMAX',
  code: BuiltinOperator.SOFTMAX,
  optionsType: BuiltinOptionsType.SoftmaxOptions,
  parseOptions: readSoftmaxOptions,
  prepare: prepareSoftmax,
  eval: evalSoftmax,
};
