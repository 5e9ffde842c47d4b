// MUL: out = in1 * in2, elementwise with broadcasting (a scalar constant of shape [] is common).
//
// Quantized (TFLM mul_common.cc + reference_integer_ops/mul.h for int8; TFLite's mul.cc + optimized_ops Mul
// for uint8, whose scalar code is the same):
//   out = MultiplyByQuantizedMultiplier((q_1 - zp_1) * (q_2 - zp_2), m) + zp_out,  m = s_1 * s_2 / s_out
// The multiplier may exceed 1. TFLM computes it in double; TFLite's mul.cc multiplies and divides the float
// scales in float32 and only widens the quotient to double.
import {
  BuiltinOperator,
  BuiltinOptionsType,
  readActivationOptions,
  type ActivationOptions,
} from '../schema/tflite.js';
import { checkQuantized, type Node, type OpKernel, type PrepareContext } from '../src/op.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../src/quant.js';
import { binaryOperands, evalBinary, fullShapeInputs, type BroadcastPlan } from './broadcast.js';
import { perByteTable } from './byte-table.js';
import { elementwiseKernels, prepareSimdMul, simdBinaryRow, type SimdBinary } from './wasm/elementwise.js';
import { floatActivationRange, quantizedActivationRange } from './fused-activation.js';

export interface MulData {
  readonly plan: BroadcastPlan;
  readonly dtype: 'int8' | 'uint8' | 'float32';
  /** Quantized only: the multiplier, the output zero point, and q - zp for each raw byte of either input. */
  readonly multiplier: number;
  readonly shift: number;
  readonly outputOffset: number;
  readonly input1Centered: Int32Array;
  readonly input2Centered: Int32Array;
  /** The fused activation's clamp, on the output's quantized or float values. */
  readonly activationMin: number;
  readonly activationMax: number;
  /** The SIMD form (ops/wasm/elementwise.ts), which computes whole steps of 16 of each row; null on other tiers. */
  readonly simd: SimdBinary | null;
}

function prepareMul(node: Node<ActivationOptions>, context: PrepareContext): MulData {
  const { in1, in2, out, dtype, plan } = binaryOperands(node);
  if (dtype === 'float32') {
    const range = floatActivationRange(node.options.activation);
    return {
      plan,
      dtype,
      multiplier: 0,
      shift: 0,
      outputOffset: 0,
      input1Centered: new Int32Array(0),
      input2Centered: new Int32Array(0),
      activationMin: range.min,
      activationMax: range.max,
      simd: null,
    };
  }
  checkQuantized(in1, 'input 1');
  checkQuantized(in2, 'input 2');
  checkQuantized(out, 'output');
  // A zero output scale makes the multiplier infinite: quantizeMultiplier gives 0, as TFLM does on x86.
  const real =
    dtype === 'int8'
      ? (in1.scale * in2.scale) / out.scale
      : Math.fround(Math.fround(in1.scale * in2.scale) / out.scale);
  const { multiplier, shift } = quantizeMultiplier(real);
  const range = quantizedActivationRange(node.options.activation, out);
  const simd =
    context.simd && context.kernels !== 'reference'
      ? prepareSimdMul(context.simd, {
          dtype, multiplier, shift, outputOffset: out.zeroPoint, min: range.min, max: range.max,
          zeroPointA: in1.zeroPoint, zeroPointB: in2.zeroPoint,
        })
      : null;
  return {
    plan,
    simd,
    dtype,
    multiplier,
    shift,
    outputOffset: out.zeroPoint,
    input1Centered: perByteTable(dtype, (q) => q - in1.zeroPoint),
    input2Centered: perByteTable(dtype, (q) => q - in2.zeroPoint),
    activationMin: range.min,
    activationMax: range.max,
  };
}

function mulQuantizedRow(
  d: MulData,
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
  const { input1Centered, input2Centered, multiplier, shift, outputOffset, activationMin: lo, activationMax: hi } = d;
  const done = d.simd ? simdBinaryRow(d.simd, a, aStart, aStep, b, bStart, bStep, out, outStart, n) : 0;
  for (let i = done, ia = aStart + done * aStep, ib = bStart + done * bStep; i < n; i++, ia += aStep, ib += bStep) {
    const product = input1Centered[a[ia]] * input2Centered[b[ib]];
    const v = multiplyByQuantizedMultiplier(product, multiplier, shift) + outputOffset;
    out[outStart + i] = v < lo ? lo : v > hi ? hi : v;
  }
}

function mulFloatRow(
  d: MulData,
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
  const { activationMin: lo, activationMax: hi } = d;
  for (let i = 0, ia = aStart, ib = bStart; i < n; i++, ia += aStep, ib += bStep) {
    // The double product of two floats is exact; storing it rounds it once, as float32 multiplication does.
    const v = a[ia] * b[ib];
    out[outStart + i] = v < lo ? lo : v > hi ? hi : v;
  }
}

function evalMul(node: Node<ActivationOptions>, d: MulData): void {
  evalBinary(node, d, mulFloatRow, mulQuantizedRow);
}

export const Mul: OpKernel<ActivationOptions, MulData> = {
  name: 'MUL',
  code: BuiltinOperator.MUL,
  optionsType: BuiltinOptionsType.MulOptions,
  parseOptions: readActivationOptions,
  prepare: prepareMul,
  eval: evalMul,
  reusableInputs: fullShapeInputs,
  simdKernels: [elementwiseKernels],
};
