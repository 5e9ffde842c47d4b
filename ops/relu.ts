// RELU and RELU6: clamp at 0 (and 6), one implementation for both.
//
// int8 follows TFLM (activations_common.cc): RELU requantizes from the input's to the output's quantization
// (ReluQuantized, double multiplier) and clamps at the output's zero; RELU6 does not requantize at all — it
// clamps the input to [zero point, quantized 6] on the input's own scale (Relu6Quantized), which assumes the
// output shares it. uint8 follows TFLite's built-in kernel (activations.cc QuantizedReluX): both requantize,
// with the multiplier from the float32 ratio of the scales, and clamp to the bounds quantized on the output.
// float32 follows TFLM's ReluFloat / Relu6Float.
import { BuiltinOperator } from '../schema/tflite.js';
import { checkQuantized, type Node, type OpKernel, overwriteInput0, unaryElementwise } from '../src/op.js';
import {
  multiplyByQuantizedMultiplier,
  quantizeMultiplier,
  roundHalfAwayFromZero,
  truncateToInt32,
} from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';

export interface ReluData {
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** Quantized: whether values are requantized (ReluX) or only clamped in place (TFLM's int8 RELU6). */
  readonly requantize: boolean;
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly multiplier: number;
  readonly shift: number;
  /** The clamp: quantized values, or 0 and 6 (or +Infinity) for float32. */
  readonly lower: number;
  readonly upper: number;
}

/**
 * zero_point + static_cast<int32_t>(roundf(bound / scale)): a real bound on a quantized scale, as TFLM's
 * CalculateReluOpData and TFLite's QuantizedReluX compute it (int32 arithmetic that wraps).
 */
function quantizedBound(bound: number, t: Tensor): number {
  return (t.zeroPoint + truncateToInt32(roundHalfAwayFromZero(Math.fround(bound / t.scale)))) | 0;
}

function prepareRelu(node: Node<void>, six: boolean): ReluData {
  const { x, y, dtype } = unaryElementwise(node);
  const common = { dtype, inputZeroPoint: 0, outputZeroPoint: 0, multiplier: 0, shift: 0 };
  if (dtype === 'float32') return { ...common, requantize: false, lower: 0, upper: six ? 6 : Infinity };
  checkQuantized(x, 'input');
  checkQuantized(y, 'output');
  if (dtype === 'int8' && six) {
    // FloatToQuantizedType<int8_t>(6.0f, input scale, input zero point): a double sum cast to int32, then clamped.
    const sixOnInput = truncateToInt32(roundHalfAwayFromZero(Math.fround(6 / x.scale)) + x.zeroPoint);
    return { ...common, requantize: false, lower: x.zeroPoint, upper: Math.min(127, Math.max(-128, sixOnInput)) };
  }
  const { min, max } = dtype === 'int8' ? { min: -128, max: 127 } : { min: 0, max: 255 };
  // TFLM divides the scales in double, TFLite in float32.
  const ratio = dtype === 'int8' ? x.scale / y.scale : Math.fround(x.scale / y.scale);
  const { multiplier, shift } = quantizeMultiplier(ratio);
  return {
    dtype,
    requantize: true,
    inputZeroPoint: x.zeroPoint,
    outputZeroPoint: y.zeroPoint,
    multiplier,
    shift,
    lower: Math.max(min, quantizedBound(0, y)),
    upper: six ? Math.min(max, quantizedBound(6, y)) : max,
  };
}

function reluQuantized(d: ReluData, x: Int8Array | Uint8Array, y: Int8Array | Uint8Array): void {
  const { inputZeroPoint, outputZeroPoint, multiplier, shift, lower, upper } = d;
  if (d.requantize) {
    for (let i = 0; i < x.length; i++) {
      const v = outputZeroPoint + multiplyByQuantizedMultiplier(x[i] - inputZeroPoint, multiplier, shift);
      // std::max then std::min, in that order: bounds from a zero scale can cross, and the store truncates.
      const atLeastLower = v < lower ? lower : v;
      y[i] = upper < atLeastLower ? upper : atLeastLower;
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      y[i] = v > upper ? upper : v < lower ? lower : v;
    }
  }
}

function reluFloat(d: ReluData, x: Float32Array, y: Float32Array): void {
  const { lower, upper } = d;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v > upper ? upper : v < lower ? lower : v;
  }
}

function evalRelu(node: Node<void>, d: ReluData): void {
  const x = node.inputs[0]!;
  const y = node.outputs[0];
  if (d.dtype === 'float32') reluFloat(d, x.float32(), y.float32());
  else reluQuantized(d, x.data as Int8Array | Uint8Array, y.data as Int8Array | Uint8Array);
}

export const Relu: OpKernel<void, ReluData> = {
  name: 'RELU',
  code: BuiltinOperator.RELU,
  parseOptions: () => undefined,
  prepare: (node) => prepareRelu(node, false),
  eval: evalRelu,
  reusableInputs: overwriteInput0,
};

export const Relu6: OpKernel<void, ReluData> = {
  name: 'RELU6',
  code: BuiltinOperator.RELU6,
  parseOptions: () => undefined,
  prepare: (node) => prepareRelu(node, true),
  eval: evalRelu,
  reusableInputs: overwriteInput0,
};
