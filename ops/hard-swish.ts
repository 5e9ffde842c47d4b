// HARD_SWISH: out = x * relu6(x + 3) / 6.
//
// Quantized (TFLM hard_swish_common.cc + reference_ops/hard_swish.h for int8; TFLite activations.cc
// HardSwishPrepare + optimized_ops::HardSwish for uint8, whose scalar code is the reference's): all in int16
// fixed point. The input is lifted to a "hires" scale (x 2^7); one int16 multiplier takes it to the output
// scale, another maps [-3, 3] onto the "relu-ish" factor in [0, 1]; their product is shifted to the output.
// Both prepares derive the multipliers from float32 ratios of the scales. The output depends on the input
// byte alone, so prepare runs that arithmetic once per byte and eval looks it up. float32 follows TFLM's
// reference.
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkQuantized, type Node, type OpKernel, overwriteInput0, type PrepareContext, unaryElementwise } from '../src/op.js';
import {
  quantizeMultiplier,
  roundingDivideByPOTInt16,
  saturatingRoundingDoublingHighMulInt16,
  typeRange,
} from '../src/quant.js';
import { byteLookup, lookUpBytes, perByteTable, type ByteLookup } from './byte-table.js';
import { elementwiseKernels } from './wasm/elementwise.js';

/** TFLite's HardSwishParams: zero points, and the int16 multipliers with their exponents. */
export interface HardSwishParams {
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly outputMultiplier: number;
  readonly outputExponent: number;
  readonly reluishMultiplier: number;
  readonly reluishExponent: number;
}

export interface HardSwishData {
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** Quantized only: the parameters, and the output for each raw input byte. */
  readonly params: HardSwishParams | null;
  readonly lookup: ByteLookup | null;
}

/** DownScaleInt32ToInt16Multiplier (common.h): a Q31 multiplier rounded to Q15. */
function downScaleToInt16(multiplier: number): number {
  return multiplier >= 2147483647 - 32768 ? 32767 : (multiplier + 32768) >> 16;
}

/** QuantizeMultiplier of a float32 ratio (widened to double), then DownScaleInt32ToInt16Multiplier. */
function int16Multiplier(real: number): { multiplier: number; exponent: number } {
  const q = quantizeMultiplier(real);
  return { multiplier: downScaleToInt16(q.multiplier), exponent: q.shift };
}

function prepareHardSwish(node: Node<void>, context: PrepareContext): HardSwishData {
  const { x, y, dtype } = unaryElementwise(node);
  if (dtype === 'float32') return { dtype, params: null, lookup: null };
  checkQuantized(x, 'input');
  checkQuantized(y, 'output');
  const hiresInputScale = Math.fround(x.scale / 128);
  const reluishScale = 3 / 32768;
  const out = int16Multiplier(Math.fround(hiresInputScale / y.scale));
  check(
    out.exponent <= 0,
    () => `input scale ${x.scale} over output scale ${y.scale} is too large: the output multiplier needs a left shift`,
  );
  const reluish = int16Multiplier(Math.fround(hiresInputScale / reluishScale));
  const params = {
    inputZeroPoint: x.zeroPoint,
    outputZeroPoint: y.zeroPoint,
    outputMultiplier: out.multiplier,
    outputExponent: out.exponent,
    reluishMultiplier: reluish.multiplier,
    reluishExponent: reluish.exponent,
  };
  const { min, max } = typeRange(dtype);
  return {
    dtype,
    params,
    lookup: byteLookup(perByteTable(dtype, (q) => Math.min(max, Math.max(min, hardSwishFixedPoint(params, q)))), context),
  };
}

/** SaturatingLeftShift (reference hard_swish.h): an int16 times 2^amount, saturated to int16. */
function saturatingLeftShiftInt16(value: number, amount: number): number {
  const shifted = value * 2 ** amount;
  return shifted > 32767 ? 32767 : shifted < -32768 ? -32768 : shifted;
}

/**
 * SaturatingDoublingHighMul (reference hard_swish.h): like the rounding version but truncating toward zero,
 * which cancels the bias of the rounding multiplies before it.
 */
function saturatingDoublingHighMulInt16(a: number, b: number): number {
  if (a === -32768 && b === -32768) return 32767;
  return ((a * b) / 32768) | 0;
}

/** reference_ops::HardSwish for one quantized value, before the final clamp to the output type. */
function hardSwishFixedPoint(p: HardSwishParams, q: number): number {
  const { inputZeroPoint, outputZeroPoint, outputMultiplier, outputExponent, reluishMultiplier, reluishExponent } = p;
  // 8-bit inputs minus their zero point fit 9 bits, so the 7-bit lift stays inside int16.
  const hires = (q - inputZeroPoint) * 128;
  const preshiftOutputScale = saturatingRoundingDoublingHighMulInt16(hires, outputMultiplier);
  // The relu-ish factor: x rescaled so that 3.0 maps to 32768 (saturating), left-shifting all but the last
  // bit before the multiply so that any saturation happens in that last shift.
  let reluish = hires;
  if (reluishExponent > 0) reluish = saturatingLeftShiftInt16(reluish, reluishExponent - 1);
  reluish = saturatingRoundingDoublingHighMulInt16(reluish, reluishMultiplier);
  if (reluishExponent > 0) reluish = saturatingLeftShiftInt16(reluish, 1);
  if (reluishExponent < 0) reluish = roundingDivideByPOTInt16(reluish, -reluishExponent);
  // [-1, 1] to [0, 1].
  reluish = (reluish + 32768) >> 1;
  const preshiftOutput = saturatingDoublingHighMulInt16(reluish, preshiftOutputScale);
  // output_value is int16 in the C++: adding the zero point wraps.
  return ((roundingDivideByPOTInt16(preshiftOutput, -outputExponent) + outputZeroPoint) << 16) >> 16;
}

/** TFLM's float HardSwish: in * min(6, max(0, in + 3)) / 6, each step in float32. */
function hardSwishFloat(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const relu6 = Math.min(6, Math.max(0, Math.fround(v + 3)));
    y[i] = Math.fround(v * relu6) / 6;
  }
}

function evalHardSwish(node: Node<void>, d: HardSwishData): void {
  const x = node.inputs[0]!;
  const y = node.outputs[0];
  if (d.dtype === 'float32') hardSwishFloat(x.float32(), y.float32());
  else lookUpBytes(d.lookup!, x.bytes, y.bytes);
}

export const HardSwish: OpKernel<void, HardSwishData> = {
  name: 'HARD_SWISH',
  code: BuiltinOperator.HARD_SWISH,
  parseOptions: () => undefined,
  prepare: prepareHardSwish,
  eval: evalHardSwish,
  reusableInputs: overwriteInput0,
  simdKernels: [elementwiseKernels],
};
