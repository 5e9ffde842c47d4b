// QUANTIZE: float32 to a quantized type, or one quantization to another.
//
// float32 → int8 / int16 follows TFLM (quantize_common.cc, reference_ops::AffineQuantize):
//   q = clamp(static_cast<int32_t>(roundf(x / scale)) + zero_point), the division in float32.
// float32 → uint8, which TFLM does not run, follows TFLite's built-in kernel (optimized_ops::AffineQuantize
// for uint8), which divides in double. Requantization between int8, uint8 and int16 follows TFLM's
// reference_ops::Requantize (TFLite's is the same):
//   q = clamp(MultiplyByQuantizedMultiplier(x - zp_in, m) + zp_out),  m = double(s_in) / double(s_out).
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkArity, checkQuantized, input, output, type Node, type OpKernel } from '../src/op.js';
import {
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfAwayFromZero,
  truncateToInt32,
  typeRange,
} from '../src/quant.js';

type QuantizedData = Int8Array | Uint8Array | Int16Array;

/** The requantizations TFLM or TFLite's built-in kernel runs, as "input>output". */
const REQUANTIZATIONS = new Set([
  'int8>int8',
  'int8>uint8',
  'int8>int16',
  'uint8>int8',
  'uint8>uint8',
  'int16>int8',
  'int16>int16',
]);

export interface QuantizeData {
  /** Whether the input is float32 (quantize) rather than quantized (requantize). */
  readonly fromFloat: boolean;
  /** Quantize: the output scale, and whether x / scale is a float32 division (TFLM) or a double one (TFLite). */
  readonly scale: number;
  readonly divideInFloat32: boolean;
  /** Requantize: the input zero point and the multiplier; an exact 1 (2^30, shift 1) only moves zero points. */
  readonly inputZeroPoint: number;
  readonly multiplier: number;
  readonly shift: number;
  readonly sameScale: boolean;
  readonly outputZeroPoint: number;
  readonly outputMin: number;
  readonly outputMax: number;
}

function prepareQuantize(node: Node<void>): QuantizeData {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  check(y.shape.join() === x.shape.join(), () => `output is ${y.describe()}, input is ${x.describe()}`);
  const to = y.dtype;
  check(to === 'int8' || to === 'uint8' || to === 'int16', () => `output is ${to}; expected int8, uint8 or int16`);
  checkQuantized(y, 'output');
  check(
    y.quantization!.scale.length === 1,
    () => `output has ${y.quantization!.scale.length} scales; QUANTIZE supports per-tensor quantization only`,
  );
  const { min: outputMin, max: outputMax } = typeRange(to);
  const outputParams = { outputZeroPoint: y.zeroPoint, outputMin, outputMax };
  if (x.dtype === 'float32') {
    return {
      fromFloat: true,
      scale: y.scale,
      divideInFloat32: to !== 'uint8',
      inputZeroPoint: 0,
      multiplier: 0,
      shift: 0,
      sameScale: false,
      ...outputParams,
    };
  }
  check(REQUANTIZATIONS.has(`${x.dtype}>${to}`), () => `requantizing ${x.dtype} to ${to} is not supported`);
  checkQuantized(x, 'input');
  // A zero output scale makes the ratio infinite: quantizeMultiplier gives 0, as TFLM does on x86.
  const { multiplier, shift } = quantizeMultiplier(x.scale / y.scale);
  return {
    fromFloat: false,
    scale: 0,
    divideInFloat32: false,
    inputZeroPoint: x.zeroPoint,
    multiplier,
    shift,
    // TFLM's Requantize shortcuts equal scales (int8 <-> uint8 by XOR 0x80); a multiplier of exactly 1 is the
    // identity, so only the zero points move, for every pair of types.
    sameScale: multiplier === 1 << 30 && shift === 1,
    ...outputParams,
  };
}

function quantizeFloat(d: QuantizeData, x: Float32Array, y: QuantizedData): void {
  const { scale, divideInFloat32, outputZeroPoint, outputMin: lo, outputMax: hi } = d;
  for (let i = 0; i < x.length; i++) {
    const ratio = divideInFloat32 ? Math.fround(x[i] / scale) : x[i] / scale;
    // Infinite or NaN ratios (a zero scale) cast to INT32_MIN as on x86; the zero point is then added in int32.
    const v = (truncateToInt32(roundHalfAwayFromZero(ratio)) + outputZeroPoint) | 0;
    y[i] = v < lo ? lo : v > hi ? hi : v;
  }
}

function requantize(d: QuantizeData, x: QuantizedData, y: QuantizedData): void {
  const { inputZeroPoint, multiplier, shift, outputZeroPoint, outputMin: lo, outputMax: hi } = d;
  if (d.sameScale) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i] - inputZeroPoint + outputZeroPoint;
      y[i] = v < lo ? lo : v > hi ? hi : v;
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = multiplyByQuantizedMultiplier(x[i] - inputZeroPoint, multiplier, shift) + outputZeroPoint;
      y[i] = v < lo ? lo : v > hi ? hi : v;
    }
  }
}

function evalQuantize(node: Node<void>, d: QuantizeData): void {
  const x = node.inputs[0]!;
  const y = node.outputs[0].data as QuantizedData;
  if (d.fromFloat) quantizeFloat(d, x.float32(), y);
  else requantize(d, x.data as QuantizedData, y);
}

export const Quantize: OpKernel<void, QuantizeData> = {
  name: 'QUANTIZE',
  code: BuiltinOperator.QUANTIZE,
  parseOptions: () => undefined,
  prepare: prepareQuantize,
  eval: evalQuantize,
  // A requantization between types of one size reads x[i], then writes y[i] at the same byte offset.
  reusableInputs: (node, d) =>
    !d.fromFloat && node.inputs[0]!.byteLength === node.outputs[0].byteLength ? [{ input: 0, kind: 'in-place' }] : [],
};
