// The clamp a fused activation imposes on an op's output (TFLite kernel_util.cc: CalculateActivationRange,
// CalculateActivationRangeQuantized), shared by every op with a fused_activation_function option.
import { check } from '../src/op.js';
import { FusedActivation, roundHalfAwayFromZero, typeRange } from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';

const ACTIVATION_NAMES = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'];

function activationName(activation: number): string {
  return ACTIVATION_NAMES[activation] ?? `activation ${activation}`;
}

/** The real values a fused activation clamps to, which CalculateActivationRangeQuantized quantizes. */
const ACTIVATION_BOUNDS: Partial<Record<number, number[]>> = {
  [FusedActivation.RELU]: [0],
  [FusedActivation.RELU6]: [0, 6],
  [FusedActivation.RELU_N1_TO_1]: [-1, 1],
};

/** FLT_MAX: CalculateActivationRange's "no clamp" is numeric_limits<float>::max(), not infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * CalculateActivationRangeQuantized (kernel_util.cc) with its failure: TFLite rejects a fused activation
 * whose bounds do not quantize to an int32 (a zero or tiny output scale).
 */
export function quantizedActivationRange(activation: number, output: Tensor): { min: number; max: number } {
  const type = output.dtype;
  check(
    type === 'int8' || type === 'uint8' || type === 'int16',
    () => `output is ${type}, expected int8, uint8 or int16`,
  );
  for (const bound of ACTIVATION_BOUNDS[activation] ?? []) {
    const q = Math.fround(bound / output.scale);
    check(
      Math.abs(q) <= 2 ** 31,
      () => `fused ${activationName(activation)} cannot be quantized with output scale ${output.scale}`,
    );
  }
  check(
    activation === FusedActivation.NONE || ACTIVATION_BOUNDS[activation],
    () => `fused activation ${activationName(activation)} is not supported`,
  );
  const { min, max } = typeRange(type);
  const [low, high] = (ACTIVATION_BOUNDS[activation] ?? []).map(
    (bound) => output.zeroPoint + roundHalfAwayFromZero(Math.fround(bound / output.scale)),
  );
  return { min: low === undefined ? min : Math.max(min, low), max: high === undefined ? max : Math.min(max, high) };
}

/** CalculateActivationRange for float kernels: the clamp never reaches infinity, it stops at ±FLT_MAX. */
export function floatActivationRange(activation: number): { min: number; max: number } {
  check(
    activation === FusedActivation.NONE || ACTIVATION_BOUNDS[activation],
    () => `fused activation ${activationName(activation)} is not supported`,
  );
  const [low, high] = ACTIVATION_BOUNDS[activation] ?? [];
  return { min: low ?? -FLOAT32_MAX, max: high ?? FLOAT32_MAX };
}
