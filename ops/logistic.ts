// LOGISTIC: out = 1 / (1 + exp(-x)).
//
// int8 follows TFLM (logistic_common.cc, reference_integer_ops/logistic.h): the input is rescaled to Q4.27
// and run through gemmlowp's fixed-point logistic; inputs beyond the range radius saturate. uint8 follows
// TFLite's built-in kernel (activations.cc, kGenericOptimized): a 256-entry table filled in float32 at
// prepare (LUTPopulate in common.h) and looked up at eval. float32 follows TFLM's reference_ops::Logistic.
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkArity, input, output, type Node, type OpKernel } from '../src/op.js';
import {
  calculateInputRadius,
  frexp,
  logisticFixedPoint,
  multiplyByQuantizedMultiplier,
  roundHalfAwayFromZero,
  roundingDivideByPOT,
  truncateToInt32,
} from '../src/quant.js';
import { checkQuantized } from './conv-quantization.js';

/** Integer bits of the fixed-point input to gemmlowp's logistic. */
const INPUT_INTEGER_BITS = 4;

export interface LogisticData {
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** int8: the input zero point, the |x - zp| beyond which the output saturates, the rescale to Q4.27. */
  readonly inputZeroPoint: number;
  readonly inputRangeRadius: number;
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
  /** uint8: the output for each input byte. */
  readonly table: Uint8Array;
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
function uint8Table(inputScale: number, inputZeroPoint: number, outputScale: number, outputZeroPoint: number) {
  const table = new Uint8Array(256);
  const inverseScale = Math.fround(1 / outputScale);
  for (let q = 0; q < 256; q++) {
    const dequantized = Math.fround(inputScale * (q - inputZeroPoint));
    const rescaled = roundHalfAwayFromZero(Math.fround(sigmoidFloat32(dequantized) * inverseScale));
    const quantized = truncateToInt32(Math.fround(rescaled + outputZeroPoint));
    table[q] = Math.min(255, Math.max(0, quantized));
  }
  return table;
}

function prepareLogistic(node: Node<void>): LogisticData {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  const dtype = x.dtype;
  check(
    dtype === 'int8' || dtype === 'uint8' || dtype === 'float32',
    () => `input is ${dtype}; expected int8, uint8 or float32`,
  );
  check(y.dtype === dtype, () => `output is ${y.dtype}, input is ${dtype}`);
  check(y.shape.join() === x.shape.join(), () => `output is ${y.describe()}, input is ${x.describe()}`);
  const unused = { inputZeroPoint: 0, inputRangeRadius: 0, inputMultiplier: 0, inputLeftShift: 0 };
  if (dtype === 'float32') return { dtype, ...unused, table: new Uint8Array(0) };
  checkQuantized(x, 'input');
  checkQuantized(y, 'output');
  if (dtype === 'uint8') {
    check(y.scale === 1 / 256, () => `output scale must be 1/256, is ${y.scale}`);
    return { dtype, ...unused, table: uint8Table(x.scale, x.zeroPoint, y.scale, y.zeroPoint) };
  }
  check(y.zeroPoint === -128, () => `output zero point must be -128, is ${y.zeroPoint}`);
  // input_scale * 2^27 as a Q31 mantissa and exponent, without QuantizeMultiplier's fix-up: a mantissa that
  // rounds to 2^31 is cast to int32 as is, which gives INT32_MIN on x86.
  const { q, exp } = frexp(x.scale * 2 ** (31 - INPUT_INTEGER_BITS));
  return {
    dtype,
    inputZeroPoint: x.zeroPoint,
    inputRangeRadius: calculateInputRadius(INPUT_INTEGER_BITS, exp),
    inputMultiplier: truncateToInt32(roundHalfAwayFromZero(q * 2 ** 31)),
    inputLeftShift: exp,
    table: new Uint8Array(0),
  };
}

function logisticInt8(d: LogisticData, x: Int8Array, y: Int8Array): void {
  const { inputZeroPoint, inputRangeRadius: radius, inputMultiplier, inputLeftShift } = d;
  for (let i = 0; i < x.length; i++) {
    const centered = x[i] - inputZeroPoint;
    if (centered <= -radius) {
      y[i] = -128;
    } else if (centered >= radius) {
      y[i] = 127;
    } else {
      const inQ4 = multiplyByQuantizedMultiplier(centered, inputMultiplier, inputLeftShift);
      // Q0.31 to Q23.8: a multiple of 1/256, then shifted by the output zero point -128.
      const v = roundingDivideByPOT(logisticFixedPoint(inQ4, INPUT_INTEGER_BITS), 23) - 128;
      y[i] = v > 127 ? 127 : v;
    }
  }
}

function evalLogistic(node: Node<void>, d: LogisticData): void {
  const x = node.inputs[0]!;
  const y = node.outputs[0];
  if (d.dtype === 'int8') {
    logisticInt8(d, x.int8(), y.int8());
  } else if (d.dtype === 'uint8') {
    const from = x.uint8();
    const to = y.uint8();
    for (let i = 0; i < from.length; i++) to[i] = d.table[from[i]];
  } else {
    const from = x.float32();
    const to = y.float32();
    for (let i = 0; i < from.length; i++) to[i] = logisticFloat32(from[i]);
  }
}

export const Logistic: OpKernel<void, LogisticData> = {
  name: 'LOGISTIC',
  code: BuiltinOperator.LOGISTIC,
  parseOptions: () => undefined,
  prepare: prepareLogistic,
  eval: evalLogistic,
};
