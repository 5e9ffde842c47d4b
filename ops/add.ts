// ADD, and the arithmetic SUB shares with it: out = in1 ± in2, elementwise, with broadcasting.
//
// Quantized ADD and SUB (TFLM add_common.cc / sub_common.cc with reference_integer_ops/add.h and
// reference_ops/sub.h for int8; TFLite's add.cc / sub.cc with reference_ops for uint8) bring both inputs to
// one scale with 20 bits of headroom, add or subtract, and rescale to the output:
//   scaled_i = MultiplyByQuantizedMultiplierSmallerThanOneExp((q_i - zp_i) << 20, m_i), m_i = s_i / (2 max(s_1, s_2))
//   out      = MultiplyByQuantizedMultiplierSmallerThanOneExp(scaled_1 ± scaled_2, m_out) + zp_out,
//              m_out = 2 max(s_1, s_2) / (2^20 s_out)
// SUB subtracts the rescaled second input; it does not negate its multiplier, whose rounding is not symmetric.
// scaled_i depends on one input byte only, so prepare tabulates it; eval does the output multiply alone.
import {
  BuiltinOperator,
  BuiltinOptionsType,
  readActivationOptions,
  type ActivationOptions,
} from '../schema/tflite.js';
import { check, checkQuantized, type Node, type OpKernel, type PrepareContext } from '../src/op.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier, type QuantizedMultiplier } from '../src/quant.js';
import type { Tensor } from '../src/tensor.js';
import { binaryOperands, evalBinary, fullShapeInputs, type BroadcastPlan } from './broadcast.js';
import { perByteTable } from './byte-table.js';
import { clampToOutput, multiplyWide, prepareRequantizer, type Requantizer } from './fast/requantize.js';
import { floatActivationRange, quantizedActivationRange } from './fused-activation.js';
import { elementwiseKernels, prepareSimdAdd, simdBinaryRow, type SimdBinary } from './wasm/elementwise.js';

/** Bits the quantized inputs are shifted left by before rescaling, for 8-bit types. */
const LEFT_SHIFT = 20;

export interface AddSubData {
  readonly plan: BroadcastPlan;
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** 1 for ADD, -1 for SUB: the sign the (rescaled) second input enters the sum with. */
  readonly input2Sign: number;
  /** Quantized only: the three multipliers, and the output zero point. */
  readonly input1Multiplier: number;
  readonly input1Shift: number;
  readonly input2Multiplier: number;
  readonly input2Shift: number;
  readonly outputMultiplier: number;
  readonly outputShift: number;
  readonly outputOffset: number;
  /** The output multiply and clamp, prepared for multiplyWide and clampToOutput (ops/fast/requantize.ts). */
  readonly outputRequantizer: Requantizer;
  /** Quantized only: scaled_1 and scaled_2 for each raw input byte. */
  readonly input1Scaled: Int32Array;
  readonly input2Scaled: Int32Array;
  /** The fused activation's clamp, on the output's quantized or float values. */
  readonly activationMin: number;
  readonly activationMax: number;
  /** The SIMD form (ops/wasm/elementwise.ts), which computes whole steps of 16 of each row; null on other tiers. */
  readonly simd: SimdBinary | null;
}

/**
 * QuantizeMultiplierSmallerThanOneExp (quantization_util.cc): TFLM and TFLite abort unless the multiplier
 * lies in (0, 1), as happens with a zero input or output scale.
 */
function multiplierBelowOne(real: number, what: string): QuantizedMultiplier {
  const q = quantizeMultiplier(real);
  check(real > 0 && real < 1 && q.shift <= 0, () => `${what} multiplier is ${real}; it must lie in (0, 1)`);
  return q;
}

/** scaled = MultiplyByQuantizedMultiplierSmallerThanOneExp((q - zp) << 20, m) for every input byte. */
function scaledPerByte(dtype: 'int8' | 'uint8', zeroPoint: number, m: QuantizedMultiplier): Int32Array {
  const { multiplier, shift } = m;
  return perByteTable(dtype, (q) => multiplyByQuantizedMultiplier((q - zeroPoint) << LEFT_SHIFT, multiplier, shift));
}

function quantizedParameters(
  operation: 'ADD' | 'SUB',
  in1: Tensor,
  in2: Tensor,
  out: Tensor,
  activation: number,
): Omit<AddSubData, 'plan' | 'dtype' | 'input2Sign' | 'simd'> {
  checkQuantized(in1, 'input 1');
  checkQuantized(in2, 'input 2');
  checkQuantized(out, 'output');
  // TFLM's sub_common.cc forms these ratios in float; add_common.cc and TFLite's add.cc and sub.cc in double.
  const precision = operation === 'SUB' && out.dtype === 'int8' ? Math.fround : (x: number) => x;
  const twiceMaxInputScale = 2 * Math.max(in1.scale, in2.scale);
  const scales = `input scales ${in1.scale}, ${in2.scale} and output scale ${out.scale}`;
  const m1 = multiplierBelowOne(precision(in1.scale / twiceMaxInputScale), `with ${scales}, the input 1`);
  const m2 = multiplierBelowOne(precision(in2.scale / twiceMaxInputScale), `with ${scales}, the input 2`);
  const mOut = multiplierBelowOne(
    precision(twiceMaxInputScale / precision(2 ** LEFT_SHIFT * out.scale)),
    `with ${scales}, the output`,
  );
  const range = quantizedActivationRange(activation, out);
  const dtype = out.dtype as 'int8' | 'uint8';
  return {
    input1Multiplier: m1.multiplier,
    input1Shift: m1.shift,
    input2Multiplier: m2.multiplier,
    input2Shift: m2.shift,
    outputMultiplier: mOut.multiplier,
    outputShift: mOut.shift,
    outputOffset: out.zeroPoint,
    outputRequantizer: prepareRequantizer(
      {
        multipliers: Int32Array.of(mOut.multiplier), shifts: Int32Array.of(mOut.shift), rounding: 'double',
        outputOffset: out.zeroPoint, min: range.min, max: range.max,
      },
      1,
    ),
    input1Scaled: scaledPerByte(dtype, in1.zeroPoint, m1),
    input2Scaled: scaledPerByte(dtype, in2.zeroPoint, m2),
    activationMin: range.min,
    activationMax: range.max,
  };
}

const NOT_QUANTIZED = {
  input1Multiplier: 0,
  input1Shift: 0,
  input2Multiplier: 0,
  input2Shift: 0,
  outputMultiplier: 0,
  outputShift: 0,
  outputOffset: 0,
  outputRequantizer: prepareRequantizer(
    { multipliers: Int32Array.of(0), shifts: Int32Array.of(0), rounding: 'double', outputOffset: 0, min: 0, max: 0 },
    1,
  ),
  input1Scaled: new Int32Array(0),
  input2Scaled: new Int32Array(0),
};

/** ADD's and SUB's prepare: types, the broadcast, and the multipliers of the quantized form. */
export function prepareAddSub(node: Node<ActivationOptions>, operation: 'ADD' | 'SUB', context: PrepareContext): AddSubData {
  const { in1, in2, out, dtype, plan } = binaryOperands(node);
  const input2Sign = operation === 'ADD' ? 1 : -1;
  if (dtype === 'float32') {
    const range = floatActivationRange(node.options.activation);
    return { plan, dtype, input2Sign, ...NOT_QUANTIZED, activationMin: range.min, activationMax: range.max, simd: null };
  }
  const quantized = quantizedParameters(operation, in1, in2, out, node.options.activation);
  // Object.assign, not spreads, which V8 runs several times slower on objects this size.
  const simd = context.simd
    ? prepareSimdAdd(
        context.simd,
        Object.assign(
          { dtype, input2Sign, zeroPointA: in1.zeroPoint, zeroPointB: in2.zeroPoint, min: quantized.activationMin, max: quantized.activationMax },
          quantized,
        ),
      )
    : null;
  return Object.assign({ plan, dtype, input2Sign, simd }, quantized);
}

/**
 * One output row over raw bytes: the tabulated scaled inputs, summed, rescaled once and clamped. The rescale is
 * MultiplyByQuantizedMultiplier(x, M, shift <= 0) in multiplyWide's exact branch-free form; each scaled input is
 * below 2^28 in magnitude, so the sum and its rescaled value are far inside clampToOutput's range. No branch per
 * element: the clamp's bounds are hit at random, and a mispredicted branch costs more than the arithmetic.
 */
function addSubQuantizedRow(
  d: AddSubData,
  a: Uint8Array,
  aStart: number,
  aStep: number,
  b: Uint8Array,
  bStart: number,
  bStep: number,
  out: Uint8Array,
  outStart: number,
  n: number,
): void {
  const { input1Scaled, input2Scaled, input2Sign, outputRequantizer: r } = d;
  const multiplier = r.multipliers[0];
  const nudge = r.nudges[0];
  const negativeNudge = r.negativeNudges[0];
  const unit = r.units[0];
  const lowest = r.lowest | 0;
  const range = r.range | 0;
  const min = r.min | 0;
  const done = d.simd ? simdBinaryRow(d.simd, a, aStart, aStep, b, bStart, bStep, out, outStart, n) : 0;
  for (let i = done, ia = aStart + done * aStep, ib = bStart + done * bStep; i < n; i++, ia += aStep, ib += bStep) {
    const x = (input1Scaled[a[ia]] + input2Sign * input2Scaled[b[ib]]) | 0;
    out[outStart + i] = clampToOutput(multiplyWide(x, multiplier, nudge, negativeNudge, unit), lowest, range, min);
  }
}

function addSubFloatRow(
  d: AddSubData,
  a: Float32Array,
  aStart: number,
  aStep: number,
  b: Float32Array,
  bStart: number,
  bStep: number,
  out: Float32Array,
  outStart: number,
  n: number,
): void {
  const { input2Sign, activationMin: lo, activationMax: hi } = d;
  for (let i = 0, ia = aStart, ib = bStart; i < n; i++, ia += aStep, ib += bStep) {
    // A double sum or difference of two floats, stored to float32, is the float32 result.
    const v = a[ia] + input2Sign * b[ib];
    out[outStart + i] = v < lo ? lo : v > hi ? hi : v;
  }
}

/** ADD's and SUB's eval. */
export function evalAddSub(node: Node<ActivationOptions>, d: AddSubData): void {
  evalBinary(node, d, addSubFloatRow, addSubQuantizedRow);
}

export const Add: OpKernel<ActivationOptions, AddSubData> = {
  name: 'ADD',
  code: BuiltinOperator.ADD,
  optionsType: BuiltinOptionsType.AddOptions,
  parseOptions: readActivationOptions,
  prepare: (node, context) => prepareAddSub(node, 'ADD', context),
  eval: evalAddSub,
  reusableInputs: fullShapeInputs,
  simdKernels: [elementwiseKernels],
};
