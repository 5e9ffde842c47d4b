// LOGISTIC: out = 1 / (1 + exp(-x)).
//
// int8 follows TFLM (logistic_common.cc, reference_integer_ops/logistic.h): the input is rescaled to Q4.27
// and run through gemmlowp's fixed-point logistic; inputs beyond the range radius saturate. uint8 follows
// TFLite's built-in kernel (activations.cc, kGenericOptimized): a 256-entry table filled in float32 at
// prepare (LUTPopulate in common.h). Either way the output depends on the input byte alone, so prepare
// tabulates it and eval looks it up. float32 follows TFLM's reference_ops::Logistic.
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkQuantized, type Node, type OpKernel, overwriteInput0, type PrepareContext, unaryElementwise } from '../src/op.js';
import {
  calculateInputRadius,
  frexp,
  logisticFixedPoint,
  multiplyByQuantizedMultiplier,
  roundHalfAwayFromZero,
  roundingDivideByPOT,
  truncateToInt32,
} from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';
import { byteLookup, lookUpBytes, perByteTable, type ByteLookup } from './byte-table.js';
import { elementwiseKernels } from './wasm/elementwise.js';

/** Integer bits of the fixed-point input to gemmlowp's logistic. */
const INPUT_INTEGER_BITS = 4;

export interface LogisticData {
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** int8: TFLM's OpDataLogistic, the rescale to Q4.27 and the |x - zp| beyond which the output saturates. */
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
  readonly inputRangeRadius: number;
  /** Quantized: the output for each raw input byte. */
  readonly lookup: ByteLookup | null;
}

/** 1.0f / (1.0f + std::exp(-x)): the transform of TFLite's uint8 table and the core of TFLM's float kernel. */
function sigmoidFloat32(x: number): number {
  return Math.fround(1 / Math.fround(1 + Math.fround(Math.exp(-x))));
}

/** TFLM's reference_ops::Logistic for float32: exact 1 above ~16.62, plain exp(x) below -9. */
function logisticFloat32(x: number): number {
  if (x > 16.619047164916992) return 1;
  if (x < -9) return Math.fround(Math.exp(x));
  return sigmoidFloat32(x);
}

/**
 * TFLite's LUTPopulate<uint8_t>: dequantize, transform and requantize in float32; std::round rounds half
 * away from zero.
 */
function uint8Table(x: Tensor, y: Tensor): Int32Array {
  const inverseScale = Math.fround(1 / y.scale);
  return perByteTable('uint8', (q) => {
    const dequantized = Math.fround(x.scale * (q - x.zeroPoint));
    const rescaled = roundHalfAwayFromZero(Math.fround(sigmoidFloat32(dequantized) * inverseScale));
    return Math.min(255, Math.max(0, truncateToInt32(Math.fround(rescaled + y.zeroPoint))));
  });
}

/** TFLM's reference_integer_ops::Logistic for int8, tabulated. */
function int8Table(inputZeroPoint: number, multiplier: number, leftShift: number, radius: number): Int32Array {
  return perByteTable('int8', (q) => {
    const centered = q - inputZeroPoint;
    if (centered <= -radius) return -128;
    if (centered >= radius) return 127;
    const inQ4 = multiplyByQuantizedMultiplier(centered, multiplier, leftShift);
    // Q0.31 to a multiple of 1/256, then the output zero point -128.
    return Math.min(127, roundingDivideByPOT(logisticFixedPoint(inQ4, INPUT_INTEGER_BITS), 23) - 128);
  });
}

function prepareLogistic(node: Node<void>, context: PrepareContext): LogisticData {
  const { x, y, dtype } = unaryElementwise(node);
  const unused = { inputMultiplier: 0, inputLeftShift: 0, inputRangeRadius: 0 };
  if (dtype === 'float32') return { dtype, ...unused, lookup: null };
  checkQuantized(x, 'input');
  checkQuantized(y, 'output');
  if (dtype === 'uint8') {
    check(y.scale === 1 / 256, () => `output scale must be 1/256, is ${y.scale}`);
    return { dtype, ...unused, lookup: byteLookup(uint8Table(x, y), context) };
  }
  check(y.zeroPoint === -128, () => `output zero point must be -128, is ${y.zeroPoint}`);
  // input_scale * 2^27 as a Q31 mantissa and exponent, without QuantizeMultiplier's fix-up: a mantissa that
  // rounds to 2^31 is cast to int32 as is, which gives INT32_MIN on x86.
  const { q, exp } = frexp(x.scale * 2 ** (31 - INPUT_INTEGER_BITS));
  const inputMultiplier = truncateToInt32(roundHalfAwayFromZero(q * 2 ** 31));
  const inputRangeRadius = calculateInputRadius(INPUT_INTEGER_BITS, exp);
  return {
    dtype,
    inputMultiplier,
    inputLeftShift: exp,
    inputRangeRadius,
    lookup: byteLookup(int8Table(x.zeroPoint, inputMultiplier, exp, inputRangeRadius), context),
  };
}

function evalLogistic(node: Node<void>, d: LogisticData): void {
  const x = node.inputs[0]!;
  const y = node.outputs[0];
  if (d.dtype === 'float32') {
    const from = x.float32();
    const to = y.float32();
    for (let i = 0; i < from.length; i++) to[i] = logisticFloat32(from[i]);
  } else {
    lookUpBytes(d.lookup!, x.bytes, y.bytes);
  }
}

export const Logistic: OpKernel<void, LogisticData> = {
  name: 'LOGISTIC',
  code: BuiltinOperator.LOGISTIC,
  parseOptions: () => undefined,
  prepare: prepareLogistic,
  eval: evalLogistic,
  reusableInputs: overwriteInput0,
  simdKernels: [elementwiseKernels],
};
