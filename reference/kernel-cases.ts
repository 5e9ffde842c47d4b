// Seeded random single-op models, one generator per kernel, for the kernel suite (test/kernel-suite.test.ts):
// each case is run by TFLite's built-in kernel and by ours, and the bytes must be identical. A case is a
// function of (op, seed) alone, so a failure is reproduced from the two numbers it prints.
//
// The generators vary what the kernels branch on: shapes, strides, padding, dilation, depth multipliers,
// broadcasting, fused activations, per-channel and per-tensor weights, int8 and uint8, and scales and zero points
// from ordinary to extreme (tiny and huge scales, zero points at the ends of the range). Not generated, each list
// below saying what and why: what TFLite rejects (SKIPPED_BY_TFLITE), what we do as TFLM where TFLite's kernel is
// another algorithm (FOLLOWS_TFLM), and arithmetic C++ leaves undefined (UNDEFINED_IN_CPP).
import { BuiltinOperator, BuiltinOptionsType, Padding } from '../schema/tflite.js';
import type { Rounding } from '../src/quant.js';
import type { ModelSpec, OperatorSpec, OptionField, TensorSpec } from './model-writer.js';

/** Configurations TFLite refuses (each seen with its error), so the suite never generates them. */
export const SKIPPED_BY_TFLITE = [
  'quantized CONV_2D and DEPTHWISE_CONV_2D without a bias ("Tensor at index 2 was optional but was expected")',
  'int8 CONV_2D weights with a non-zero zero point (conv.cc: zero_point != 0)',
  'uint8 per-channel weights (kernel_util.cc: per-channel needs int8 or int16)',
  'int8 SOFTMAX output quantization other than scale 1/256, zero point -128 (activations.cc)',
  'int8 CONCATENATION inputs quantized unlike the output (concatenation.cc)',
  'ADD and SUB whose output multiplier is 1 or more (TFLite aborts in QuantizeMultiplierSmallerThanOneExp; we refuse)',
  'HARD_SWISH with an output scale below input_scale / 128 (activations.cc: output_multiplier_exponent <= 0; we refuse)',
];

/**
 * Configurations where our kernel follows TFLM on purpose and TFLite's built-in kernel is another algorithm:
 * not generated for the identity check; test/kernel-suite.test.ts checks TFLite's own formula on them instead.
 */
export const FOLLOWS_TFLM = [
  'int8 SOFTMAX: TFLite runs its uint8 algorithm (a float32 table of exp(-input_scale * beta * k), float sums); ' +
    'TFLM, and we, the fixed-point reference: 10 of 1,035,151 outputs differ, by 1 (2,000 random cases). With ' +
    'beta * input_scale * 2^26 at most 1, TFLM, and we, refuse the model; TFLite runs it',
  'int8 LOGISTIC: TFLite tabulates the float32 sigmoid, as for uint8; TFLM, and we, the fixed-point reference: ' +
    '163 of 554,954 outputs differ, by up to 128 where TFLM\'s input range radius saturates (2,000 random cases)',
  'int8 MEAN over axes [1, 2] (as written) of a 4-D input with keep_dims: TFLite runs optimized_integer_ops::Mean ' +
    '(no zero-point subtraction, a float-derived bias, 1/count folded into one multiplier: our uint8 global average); ' +
    'TFLM, and we, reference_integer_ops::Mean',
  'other int8 MEAN with the output quantized like the input: TFLite requantizes (QuantizedMeanOrSum); TFLM, and ' +
    'we, divide the sum with truncation (reference_ops::Mean): 8,139 of 22,670 outputs differ, by 1',
  'int8 RELU6 with input and output quantized differently: TFLM clamps on the input scale without requantizing',
  'int8 DEPTHWISE_CONV_2D weights with non-zero zero points: TFLite accepts them; we refuse them',
];

/** Configurations whose C++ arithmetic is undefined (int32 overflow), so no two builds need agree. */
export const UNDEFINED_IN_CPP = [
  'CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED with a requantization multiplier above 16: the left shift of the ' +
    'accumulator overflows int32, which the reference kernels wrap and ruy and gemmlowp saturate',
  'uint8 CONCATENATION with input and output scales more than 2^20 apart: the float requantization leaves the int32 range',
  'RELU and RELU6 with a scale below 2^-20: the quantized bound 6 / scale leaves the int32 range',
];

export interface KernelCase {
  op: string;
  seed: number;
  /** Options and shapes in words, for failure messages. */
  description: string;
  model: ModelSpec;
  /** Raw bytes of each model input. */
  inputs: Uint8Array[];
  /** The rounding TFLite's built-in kernel uses for this case. */
  rounding: Rounding;
}

/** mulberry32: small, fast and seedable. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

type Quantized = 'int8' | 'uint8';
type Quant = NonNullable<TensorSpec['quantization']>;

const RANGE: Record<Quantized, [number, number]> = { int8: [-128, 127], uint8: [0, 255] };

/** A positive float32 scale: usually 2^-10..2^2, sometimes far outside. */
function randomScale(r: Random): number {
  const exponent = r.bool(0.1) ? r.next() * 40 - 30 : r.next() * 12 - 10;
  return Math.fround(2 ** exponent * (1 + r.next()));
}

function randomZeroPoint(r: Random, dtype: Quantized): number {
  const [lo, hi] = RANGE[dtype];
  return r.bool(0.15) ? r.pick([lo, hi]) : r.int(lo, hi);
}

function randomQuant(r: Random, dtype: Quantized): Quant {
  return { scale: [randomScale(r)], zeroPoint: [randomZeroPoint(r, dtype)] };
}

const ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6'] as const;

/** A fused activation (index = ActivationFunctionType); rarely one when the output scale is tiny. */
function randomActivation(r: Random, outputScale: number): number {
  return outputScale < 1e-6 ? 0 : r.int(0, ACTIVATIONS.length - 1);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function int32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Int32Array.from(values).buffer);
}

/** Collects the tensors, inputs and one operator of a single-op model. */
class CaseBuilder {
  readonly tensors: TensorSpec[] = [];
  readonly inputs: number[] = [];
  readonly inputData: Uint8Array[] = [];
  readonly outputs: number[] = [];
  readonly words: string[] = [];

  constructor(readonly r: Random) {}

  private add(spec: TensorSpec): number {
    this.tensors.push(spec);
    return this.tensors.length - 1;
  }
  /** A graph input filled with random bytes. */
  input(dtype: TensorSpec['dtype'], shape: number[], quantization?: Quant, data?: Uint8Array): number {
    const i = this.add({ dtype, shape, quantization });
    this.inputs.push(i);
    this.inputData.push(data ?? this.r.bytes(size(shape) * (dtype === 'float32' ? 4 : 1)));
    return i;
  }
  constant(dtype: TensorSpec['dtype'], shape: number[], data: Uint8Array, quantization?: Quant): number {
    return this.add({ dtype, shape, data, quantization });
  }
  output(dtype: TensorSpec['dtype'], shape: number[], quantization?: Quant): number {
    const i = this.add({ dtype, shape, quantization });
    this.outputs.push(i);
    return i;
  }
  /**
   * A graph input, or now and then a constant of random bytes once the op has a graph input (TFLite computes an
   * op of constants alone at Prepare, which is not the kernel under test).
   */
  inputOrConstant(dtype: Quantized, shape: number[], quantization: Quant): number {
    return this.inputs.length > 0 && this.r.bool(0.25) ? this.constant(dtype, shape, this.r.bytes(size(shape)), quantization) : this.input(dtype, shape, quantization);
  }
  describe(...words: string[]): void {
    this.words.push(...words);
  }
}

interface Generated {
  operator: Omit<OperatorSpec, 'outputs'> & { outputs?: number[] };
  rounding?: Rounding;
}

type Generator = (c: CaseBuilder) => Generated;

function options(type: number, fields: OptionField[]): OperatorSpec['options'] {
  return { type, fields };
}

const int8Field = (slot: number, value: number): OptionField => ({ slot, kind: 'int8', value });
const int32Field = (slot: number, value: number): OptionField => ({ slot, kind: 'int32', value });

function shapeWords(c: CaseBuilder, ...tensors: number[]): string {
  return tensors.map((t) => `${c.tensors[t].dtype}[${c.tensors[t].shape.join(',')}]`).join(' ');
}

function quantWords(q: Quant | undefined): string {
  if (!q) return '-';
  const scales = q.scale.length === 1 ? `s=${q.scale[0]}` : `s=${q.scale.length} per-channel`;
  return `${scales} zp=${q.zeroPoint.length === 1 ? q.zeroPoint[0] : '0...'}`;
}

/** Output size of a sliding window, as TFLite computes it. */
function outSize(padding: number, inSize: number, filter: number, stride: number, dilation: number): number {
  const effective = (filter - 1) * dilation + 1;
  return padding === Padding.SAME ? Math.ceil(inSize / stride) : Math.floor((inSize - effective) / stride) + 1;
}

/** A sliding window whose VALID output is at least 1, plus its output size. */
function randomWindow(r: Random, inH: number, inW: number, maxFilter: number, dilations: boolean) {
  const padding = r.pick([Padding.SAME, Padding.VALID]);
  const strideH = r.int(1, 3);
  const strideW = r.bool(0.7) ? strideH : r.int(1, 3);
  const dilationH = dilations && r.bool(0.3) ? r.int(2, 3) : 1;
  const dilationW = dilations && r.bool(0.3) ? r.int(2, 3) : 1;
  const fit = (inSize: number, d: number) => Math.max(1, Math.min(maxFilter, Math.floor((inSize - 1) / d) + 1));
  const filterH = r.int(1, fit(inH, dilationH));
  const filterW = r.int(1, fit(inW, dilationW));
  return {
    padding, strideH, strideW, dilationH, dilationW, filterH, filterW,
    outH: outSize(padding, inH, filterH, strideH, dilationH),
    outW: outSize(padding, inW, filterW, strideW, dilationW),
  };
}

/**
 * Weights, bias and their quantization for a layer with `channels` outputs along `channelDim` of the weights.
 * `optionalBias`: FULLY_CONNECTED may go without (the convolutions may not, SKIPPED_BY_TFLITE), and its int8
 * per-tensor weights may have a zero point (TFLite and TFLM apply it; the convolutions refuse it).
 */
function weights(
  c: CaseBuilder, dtype: Quantized, inputScale: number, shape: number[], channels: number, channelDim: number,
  fullyConnected = false,
) {
  const { r } = c;
  const perChannel = dtype === 'int8' && r.bool(0.7);
  const scales = Array.from({ length: perChannel ? channels : 1 }, () => randomScale(r));
  const zeroPoint = () => (dtype === 'uint8' || (fullyConnected && !perChannel && r.bool(0.5)) ? randomZeroPoint(r, dtype) : 0);
  const weightQuant: Quant = { scale: scales, zeroPoint: scales.map(zeroPoint), quantizedDimension: perChannel ? channelDim : 0 };
  const weight = c.constant(dtype, shape, r.bytes(size(shape)), weightQuant);
  // TFLite insists the bias scale be input_scale x filter_scale (float32, as converters write it).
  const biasScales = scales.map((s) => Math.fround(inputScale * s));
  const magnitude = 2 ** r.int(0, 20);
  const biasValues = Array.from({ length: channels }, () => Math.round((r.next() * 2 - 1) * magnitude));
  const bias = !fullyConnected || r.bool(0.8)
    ? c.constant('int32', [channels], int32Bytes(biasValues), { scale: biasScales, zeroPoint: biasScales.map(() => 0) })
    : -1;
  c.describe(perChannel ? 'per-channel' : 'per-tensor', `weights ${quantWords(weightQuant)}`, bias < 0 ? 'no bias' : `bias ±2^${Math.log2(magnitude)}`);
  return { weight, bias, outputQuant: weightedOutputQuant(r, dtype, inputScale * Math.max(...scales)) };
}

/**
 * The output quantization of a weighted op: random, but with the requantization multiplier
 * input_scale x filter_scale / output_scale at most 16. Above that the accumulator's left shift overflows
 * int32, which the reference kernels wrap (undefined behaviour in C++) and ruy and gemmlowp saturate.
 */
function weightedOutputQuant(r: Random, dtype: Quantized, productScale: number): Quant {
  const q = randomQuant(r, dtype);
  return { scale: [Math.max(q.scale[0], Math.fround(productScale / 16))], zeroPoint: q.zeroPoint };
}

const conv2d: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const [batch, inH, inW, inC, outC] = [r.int(1, 2), r.int(1, 12), r.int(1, 12), r.int(1, 12), r.int(1, 12)];
  const w = randomWindow(r, inH, inW, 5, true);
  const inQ = randomQuant(r, dtype);
  const x = c.input(dtype, [batch, inH, inW, inC], inQ);
  const { weight, bias, outputQuant: outQ } = weights(c, dtype, inQ.scale[0], [outC, w.filterH, w.filterW, inC], outC, 0);
  const y = c.output(dtype, [batch, w.outH, w.outW, outC], outQ);
  const activation = randomActivation(r, outQ.scale[0]);
  c.describe(
    `${w.padding === Padding.SAME ? 'SAME' : 'VALID'} stride ${w.strideH}x${w.strideW} dilation ${w.dilationH}x${w.dilationW}`,
    `filter ${w.filterH}x${w.filterW}`, ACTIVATIONS[activation], `in ${quantWords(inQ)} out ${quantWords(outQ)}`, shapeWords(c, x, y),
  );
  return {
    operator: {
      op: BuiltinOperator.CONV_2D,
      inputs: [x, weight, bias],
      options: options(BuiltinOptionsType.Conv2DOptions, [
        int8Field(0, w.padding), int32Field(1, w.strideW), int32Field(2, w.strideH), int8Field(3, activation),
        int32Field(4, w.dilationW), int32Field(5, w.dilationH),
      ]),
    },
    // TFLite's int8 convolution goes through ruy, which rounds once; uint8 through gemmlowp, which rounds twice.
    rounding: dtype === 'int8' ? 'single' : 'double',
  };
};

const depthwiseConv2d: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const [batch, inH, inW, inC] = [r.int(1, 2), r.int(1, 12), r.int(1, 12), r.int(1, 12)];
  const multiplier = r.bool(0.6) ? 1 : r.int(2, 4);
  const w = randomWindow(r, inH, inW, 5, true);
  const inQ = randomQuant(r, dtype);
  const x = c.input(dtype, [batch, inH, inW, inC], inQ);
  const outC = inC * multiplier;
  const { weight, bias, outputQuant: outQ } = weights(c, dtype, inQ.scale[0], [1, w.filterH, w.filterW, outC], outC, 3);
  const y = c.output(dtype, [batch, w.outH, w.outW, outC], outQ);
  const activation = randomActivation(r, outQ.scale[0]);
  c.describe(
    `${w.padding === Padding.SAME ? 'SAME' : 'VALID'} stride ${w.strideH}x${w.strideW} dilation ${w.dilationH}x${w.dilationW}`,
    `filter ${w.filterH}x${w.filterW} multiplier ${multiplier}`, ACTIVATIONS[activation],
    `in ${quantWords(inQ)} out ${quantWords(outQ)}`, shapeWords(c, x, y),
  );
  return {
    operator: {
      op: BuiltinOperator.DEPTHWISE_CONV_2D,
      inputs: [x, weight, bias],
      options: options(BuiltinOptionsType.DepthwiseConv2DOptions, [
        int8Field(0, w.padding), int32Field(1, w.strideW), int32Field(2, w.strideH), int32Field(3, multiplier),
        int8Field(4, activation), int32Field(5, w.dilationW), int32Field(6, w.dilationH),
      ]),
    },
  };
};

const fullyConnected: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const depth = r.bool(0.2) ? r.int(100, 600) : r.int(1, 40);
  const units = r.int(1, 16);
  const leading = r.pick([[r.int(1, 4)], [r.int(1, 3), r.int(1, 3)]]);
  const keepNumDims = leading.length > 1 && r.bool(0.5);
  const inQ = randomQuant(r, dtype);
  const x = c.input(dtype, [...leading, depth], inQ);
  const { weight, bias, outputQuant: outQ } = weights(c, dtype, inQ.scale[0], [units, depth], units, 0, true);
  const y = c.output(dtype, keepNumDims ? [...leading, units] : [size(leading), units], outQ);
  const activation = randomActivation(r, outQ.scale[0]);
  c.describe(ACTIVATIONS[activation], keepNumDims ? 'keep_num_dims' : '', `in ${quantWords(inQ)} out ${quantWords(outQ)}`, shapeWords(c, x, y));
  return {
    operator: {
      op: BuiltinOperator.FULLY_CONNECTED,
      inputs: [x, weight, bias],
      options: options(BuiltinOptionsType.FullyConnectedOptions, [
        int8Field(0, activation), { slot: 2, kind: 'bool', value: keepNumDims },
      ]),
    },
    // TFLite's int8 FULLY_CONNECTED multiplies on ruy, as its int8 CONV_2D: single rounding.
    rounding: dtype === 'int8' ? 'single' : 'double',
  };
};

/** Two operand shapes (rank 0 to 4) that broadcast together, each dim the common one or 1, and the output shape. */
function broadcastShapes(r: Random): [number[], number[], number[]] {
  const full = Array.from({ length: r.int(1, 4) }, () => r.int(1, 6));
  const operand = () => (r.bool(0.4) ? [...full] : full.slice(r.int(0, full.length)).map((d) => (r.bool(0.4) ? 1 : d)));
  const a = operand();
  const b = operand();
  const rank = Math.max(a.length, b.length);
  const out = Array.from({ length: rank }, (_, i) => Math.max(a[i - rank + a.length] ?? 1, b[i - rank + b.length] ?? 1));
  return [a, b, out];
}

/** ADD, SUB (`rescaled`: their output multiplier must stay below 1, SKIPPED_BY_TFLITE) and MUL. */
function binary(op: number, optionsType: number, rescaled: boolean): Generator {
  return (c) => {
    const { r } = c;
    const dtype = r.pick(['int8', 'uint8'] as const);
    const [shapeA, shapeB, shapeOut] = broadcastShapes(r);
    const qa = randomQuant(r, dtype);
    const qb = r.bool(0.2) ? qa : randomQuant(r, dtype);
    const a = c.input(dtype, shapeA, qa);
    const b = c.inputOrConstant(dtype, shapeB, qb);
    const outQ = randomQuant(r, dtype);
    // 2 max(s_a, s_b) / (2^20 s_out) < 1: the output scale must exceed max(s_a, s_b) / 2^19.
    if (rescaled) outQ.scale[0] = Math.max(outQ.scale[0], Math.fround((Math.max(qa.scale[0], qb.scale[0]) / 2 ** 19) * 1.01));
    const y = c.output(dtype, shapeOut, outQ);
    const activation = randomActivation(r, outQ.scale[0]);
    c.describe(ACTIVATIONS[activation], `a ${quantWords(qa)} b ${quantWords(qb)} out ${quantWords(outQ)}`, shapeWords(c, a, b, y));
    return { operator: { op, inputs: [a, b], options: options(optionsType, [int8Field(0, activation)]) } };
  };
}

function pooling(op: number): Generator {
  return (c) => {
    const { r } = c;
    const dtype = r.pick(['int8', 'uint8'] as const);
    const [batch, inH, inW, channels] = [r.int(1, 2), r.int(1, 12), r.int(1, 12), r.int(1, 8)];
    const w = randomWindow(r, inH, inW, 6, false);
    const q = randomQuant(r, dtype);
    const x = c.input(dtype, [batch, inH, inW, channels], q);
    const y = c.output(dtype, [batch, w.outH, w.outW, channels], q);
    const activation = randomActivation(r, q.scale[0]);
    c.describe(
      `${w.padding === Padding.SAME ? 'SAME' : 'VALID'} stride ${w.strideH}x${w.strideW} filter ${w.filterH}x${w.filterW}`,
      ACTIVATIONS[activation], quantWords(q), shapeWords(c, x, y),
    );
    return {
      operator: {
        op,
        inputs: [x],
        options: options(BuiltinOptionsType.Pool2DOptions, [
          int8Field(0, w.padding), int32Field(1, w.strideW), int32Field(2, w.strideH), int32Field(3, w.filterW),
          int32Field(4, w.filterH), int8Field(5, activation),
        ]),
      },
    };
  };
}

/** MEAN; `int8SameScale`: int8 with the output quantized like the input (FOLLOWS_TFLM) instead of both types. */
function mean(int8SameScale: boolean): Generator {
  return (c) => {
    const { r } = c;
    const dtype = int8SameScale ? 'int8' : r.pick(['int8', 'uint8'] as const);
    const rank = r.int(1, 4);
    const shape = Array.from({ length: rank }, () => r.int(1, 7));
    const axes = Array.from({ length: rank }, (_, i) => i).filter(() => r.bool(0.5));
    if (axes.length === 0) axes.push(r.int(0, rank - 1));
    const keepDims = r.bool(0.5);
    const written = axes.map((a) => (r.bool(0.3) ? a - rank : a));
    // FOLLOWS_TFLM: TFLite's int8 mean over axes [1, 2] as written (4-D, keep_dims) is another algorithm.
    if (dtype === 'int8' && rank === 4 && keepDims && written.join() === '1,2') {
      axes.unshift(0);
      written.unshift(0);
    }
    const q = randomQuant(r, dtype);
    // FOLLOWS_TFLM: an int8 mean quantized like its input is TFLM's truncating division, not TFLite's requantization.
    const outQ = int8SameScale || (dtype === 'uint8' && r.bool(0.3)) ? q : randomQuant(r, dtype);
    const x = c.input(dtype, shape, q);
    const axis = c.constant('int32', [written.length], int32Bytes(written));
    const outShape = shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
    const y = c.output(dtype, outShape, outQ);
    c.describe(`axes [${written}]`, keepDims ? 'keep_dims' : '', `in ${quantWords(q)} out ${quantWords(outQ)}`, shapeWords(c, x, y));
    return {
      operator: {
        op: BuiltinOperator.MEAN,
        inputs: [x, axis],
        options: options(BuiltinOptionsType.ReducerOptions, [{ slot: 0, kind: 'bool', value: keepDims }]),
      },
    };
  };
}

/** A random shape of rank 1..maxRank with dims 1..maxDim. */
function randomShape(r: Random, maxRank: number, maxDim: number): number[] {
  return Array.from({ length: r.int(1, maxRank) }, () => r.int(1, maxDim));
}

const reshape: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 6);
  const total = size(shape);
  const newShape = r.bool(0.5) ? [total] : [1, total];
  const q = randomQuant(r, dtype);
  const x = c.input(dtype, shape, q);
  const y = c.output(dtype, newShape, q);
  c.describe(shapeWords(c, x, y));
  return {
    operator: {
      op: BuiltinOperator.RESHAPE,
      inputs: [x, c.constant('int32', [newShape.length], int32Bytes(newShape))],
      options: options(BuiltinOptionsType.ReshapeOptions, [{ slot: 0, kind: 'int32s', value: newShape }]),
    },
  };
};

const squeeze: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 4).flatMap((d) => (r.bool(0.5) ? [1, d] : [d]));
  const ones = shape.map((d, i) => (d === 1 ? i : -1)).filter((i) => i >= 0);
  const dims = r.bool(0.5) ? [] : ones.filter(() => r.bool(0.6));
  const squeezed = shape.filter((d, i) => d !== 1 || (dims.length > 0 && !dims.includes(i)));
  const q = randomQuant(r, dtype);
  const x = c.input(dtype, shape, q);
  const y = c.output(dtype, squeezed, q);
  c.describe(`squeeze_dims [${dims}]`, shapeWords(c, x, y));
  return {
    operator: {
      op: BuiltinOperator.SQUEEZE,
      inputs: [x],
      options: options(BuiltinOptionsType.SqueezeOptions, [{ slot: 0, kind: 'int32s', value: dims }]),
    },
  };
};

/** The output quantization TFLite requires of SOFTMAX and LOGISTIC: 1/256 from the bottom of the range. */
function probabilityQuant(dtype: Quantized): Quant {
  return { scale: [1 / 256], zeroPoint: [RANGE[dtype][0]] };
}

function softmax(dtypes: readonly Quantized[]): Generator {
  return (c) => {
    const { r } = c;
    const dtype = r.pick(dtypes);
    const shape = randomShape(r, 4, 12);
    const q = randomQuant(r, dtype);
    const beta = r.pick([1, 1, 0.5, 2, Math.fround(r.next() * 4)]);
    const x = c.input(dtype, shape, q);
    const y = c.output(dtype, shape, probabilityQuant(dtype));
    c.describe(`beta ${beta}`, `in ${quantWords(q)}`, shapeWords(c, x, y));
    return {
      operator: {
        op: BuiltinOperator.SOFTMAX,
        inputs: [x],
        options: options(BuiltinOptionsType.SoftmaxOptions, [{ slot: 0, kind: 'float32', value: beta }]),
      },
    };
  };
}

/** A one-input op that keeps the shape; `quantize` gives its input and output quantization. */
function unary(
  op: number,
  quantize: (r: Random, dtype: Quantized) => [Quant, Quant],
  dtypes: readonly Quantized[] = ['int8', 'uint8'],
): Generator {
  return (c) => {
    const { r } = c;
    const dtype = r.pick(dtypes);
    const shape = randomShape(r, 4, 10);
    const [q, outQ] = quantize(r, dtype);
    const x = c.input(dtype, shape, q);
    const y = c.output(dtype, shape, outQ);
    c.describe(`in ${quantWords(q)} out ${quantWords(outQ)}`, shapeWords(c, x, y));
    return { operator: { op, inputs: [x] } };
  };
}

/** UNDEFINED_IN_CPP: a scale from which 6 / scale, the quantized bound of RELU6, still fits an int32. */
function activationQuant(r: Random, dtype: Quantized): Quant {
  const q = randomQuant(r, dtype);
  return { scale: [Math.max(q.scale[0], 2 ** -20)], zeroPoint: q.zeroPoint };
}

function logistic(dtypes: readonly Quantized[]): Generator {
  return unary(BuiltinOperator.LOGISTIC, (r, dtype) => [randomQuant(r, dtype), probabilityQuant(dtype)], dtypes);
}
// SKIPPED_BY_TFLITE: the output scale must not be below input_scale / 128.
const hardSwish = unary(BuiltinOperator.HARD_SWISH, (r, dtype) => {
  const q = randomQuant(r, dtype);
  const outQ = randomQuant(r, dtype);
  return [q, { scale: [Math.max(outQ.scale[0], Math.fround(q.scale[0] / 64))], zeroPoint: outQ.zeroPoint }];
});
const relu = unary(BuiltinOperator.RELU, (r, dtype) => {
  const q = activationQuant(r, dtype);
  return [q, r.bool(0.3) ? q : activationQuant(r, dtype)];
});
// FOLLOWS_TFLM: int8 RELU6 clamps on the input's scale, so its output is quantized like its input.
const relu6 = unary(BuiltinOperator.RELU6, (r, dtype) => {
  const q = activationQuant(r, dtype);
  return [q, dtype === 'int8' || r.bool(0.3) ? q : activationQuant(r, dtype)];
});

const quantize: Generator = (c) => {
  const { r } = c;
  const from = r.pick(['float32', 'int8', 'uint8'] as const);
  const to = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 10);
  const outQ = randomQuant(r, to);
  let x: number;
  if (from === 'float32') {
    const values = Float32Array.from({ length: size(shape) }, () => (r.next() * 2 - 1) * outQ.scale[0] * r.pick([10, 200, 1000]));
    x = c.input('float32', shape, undefined, new Uint8Array(values.buffer));
  } else {
    x = c.input(from, shape, randomQuant(r, from));
  }
  const y = c.output(to, shape, outQ);
  c.describe(`${from} -> ${to}`, `in ${quantWords(c.tensors[x].quantization)} out ${quantWords(outQ)}`, shapeWords(c, x, y));
  return { operator: { op: BuiltinOperator.QUANTIZE, inputs: [x] } };
};

const dequantize: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 10);
  const q = randomQuant(r, dtype);
  const x = c.input(dtype, shape, q);
  const y = c.output('float32', shape);
  c.describe(`in ${quantWords(q)}`, shapeWords(c, x, y));
  return { operator: { op: BuiltinOperator.DEQUANTIZE, inputs: [x] } };
};

const pad: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 6);
  const pads = shape.flatMap(() => [r.int(0, 3), r.int(0, 3)]);
  const q = randomQuant(r, dtype);
  const x = c.input(dtype, shape, q);
  const y = c.output(dtype, shape.map((d, i) => d + pads[2 * i] + pads[2 * i + 1]), q);
  c.describe(`paddings [${pads}]`, quantWords(q), shapeWords(c, x, y));
  return {
    operator: {
      op: BuiltinOperator.PAD,
      inputs: [x, c.constant('int32', [shape.length, 2], int32Bytes(pads))],
    },
  };
};

/**
 * A random quantization whose scale is within 2^20 of `reference`'s: float requantization beyond that leaves the
 * int32 range, where C++'s float-to-int conversion is undefined.
 */
function boundedRatioQuant(r: Random, dtype: Quantized, reference: number): Quant {
  const q = randomQuant(r, dtype);
  return { scale: [Math.fround(Math.min(Math.max(q.scale[0], reference / 2 ** 20), reference * 2 ** 20))], zeroPoint: q.zeroPoint };
}

const concatenation: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 5);
  const axis = r.int(0, shape.length - 1);
  const outQ = randomQuant(r, dtype);
  const parts = Array.from({ length: r.int(1, 4) }, () => {
    const partShape = [...shape];
    partShape[axis] = r.int(1, 4);
    // SKIPPED_BY_TFLITE: int8 inputs must share the output's quantization; uint8 ones are requantized.
    const q = dtype === 'int8' || r.bool(0.3) ? outQ : boundedRatioQuant(r, 'uint8', outQ.scale[0]);
    return c.inputOrConstant(dtype, partShape, q);
  });
  const outShape = [...shape];
  outShape[axis] = parts.reduce((sum, t) => sum + c.tensors[t].shape[axis], 0);
  const y = c.output(dtype, outShape, outQ);
  const written = r.bool(0.3) ? axis - shape.length : axis;
  c.describe(`axis ${written}`, `out ${quantWords(outQ)}`, shapeWords(c, ...parts, y));
  return {
    operator: {
      op: BuiltinOperator.CONCATENATION,
      inputs: parts,
      options: options(BuiltinOptionsType.ConcatenationOptions, [int32Field(0, written), int8Field(1, 0)]),
    },
  };
};

const split: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 4, 4);
  const axis = r.int(0, shape.length - 1);
  const parts = r.int(1, 4);
  shape[axis] *= parts;
  const q = randomQuant(r, dtype);
  const written = r.bool(0.3) ? axis - shape.length : axis;
  const axisTensor = c.constant('int32', [], int32Bytes([written]));
  const x = c.input(dtype, shape, q);
  const partShape = [...shape];
  partShape[axis] /= parts;
  const outputs = Array.from({ length: parts }, () => c.output(dtype, partShape, q));
  c.describe(`axis ${written} num_splits ${parts}`, shapeWords(c, x, ...outputs));
  return {
    operator: {
      op: BuiltinOperator.SPLIT,
      inputs: [axisTensor, x],
      outputs,
      options: options(BuiltinOptionsType.SplitOptions, [int32Field(0, parts)]),
    },
  };
};

const transpose: Generator = (c) => {
  const { r } = c;
  const dtype = r.pick(['int8', 'uint8'] as const);
  const shape = randomShape(r, 6, 4);
  const perm = shape.map((_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const q = randomQuant(r, dtype);
  const x = c.input(dtype, shape, q);
  const y = c.output(dtype, perm.map((p) => shape[p]), q);
  c.describe(`perm [${perm}]`, shapeWords(c, x, y));
  return {
    operator: {
      op: BuiltinOperator.TRANSPOSE,
      inputs: [x, c.constant('int32', [perm.length], int32Bytes(perm))],
    },
  };
};

/** One generator per kernel, by op name. */
export const KERNEL_GENERATORS: Readonly<Record<string, Generator>> = {
  CONV_2D: conv2d,
  DEPTHWISE_CONV_2D: depthwiseConv2d,
  FULLY_CONNECTED: fullyConnected,
  ADD: binary(BuiltinOperator.ADD, BuiltinOptionsType.AddOptions, true),
  SUB: binary(BuiltinOperator.SUB, BuiltinOptionsType.SubOptions, true),
  MUL: binary(BuiltinOperator.MUL, BuiltinOptionsType.MulOptions, false),
  AVERAGE_POOL_2D: pooling(BuiltinOperator.AVERAGE_POOL_2D),
  MAX_POOL_2D: pooling(BuiltinOperator.MAX_POOL_2D),
  MEAN: mean(false),
  RESHAPE: reshape,
  SQUEEZE: squeeze,
  // FOLLOWS_TFLM: TFLite's int8 SOFTMAX and LOGISTIC are its uint8 algorithms (INT8_AS_UINT8 below).
  SOFTMAX: softmax(['uint8']),
  LOGISTIC: logistic(['uint8']),
  HARD_SWISH: hardSwish,
  RELU: relu,
  RELU6: relu6,
  QUANTIZE: quantize,
  DEQUANTIZE: dequantize,
  PAD: pad,
  CONCATENATION: concatenation,
  SPLIT: split,
  TRANSPOSE: transpose,
};

/**
 * FOLLOWS_TFLM configurations where TFLite's int8 kernel is exactly its uint8 kernel on values shifted by 128
 * (int8AsUint8): a float32 table for SOFTMAX and LOGISTIC, QuantizedMeanOrSum for a MEAN quantized like its input.
 * Ours follows TFLM there, and our uint8 kernels follow TFLite's, so the suite checks TFLite's int8 output
 * against our uint8 kernel on the shifted case, which shows what TFLite computes.
 */
export const INT8_AS_UINT8_GENERATORS: Readonly<Record<string, Generator>> = {
  SOFTMAX: softmax(['int8']),
  LOGISTIC: logistic(['int8']),
  MEAN: mean(true),
};

/** The case of kernel `op` for `seed`, from `generators`. */
export function kernelCase(op: string, seed: number, generators = KERNEL_GENERATORS): KernelCase {
  const generator = generators[op];
  if (!generator) throw new Error(`no kernel generator for ${op}`);
  const c = new CaseBuilder(new Random(seed));
  const { operator, rounding } = generator(c);
  const model: ModelSpec = {
    tensors: c.tensors,
    operators: [{ ...operator, outputs: operator.outputs ?? c.outputs }],
    inputs: c.inputs,
    outputs: c.outputs,
  };
  return { op, seed, description: c.words.filter(Boolean).join(', '), model, inputs: c.inputData, rounding: rounding ?? 'double' };
}

/**
 * The same case on uint8 values: every int8 tensor becomes uint8 with its zero points raised by 128, and its
 * input bytes flip their top bit (q + 128). An int8 output then corresponds to the uint8 one with its top bit flipped.
 */
export function int8AsUint8(k: KernelCase): KernelCase {
  const tensors = k.model.tensors.map((t): TensorSpec => {
    if (t.dtype !== 'int8') return t;
    const quantization = t.quantization && { ...t.quantization, zeroPoint: t.quantization.zeroPoint.map((z) => z + 128) };
    return { ...t, dtype: 'uint8', quantization, data: t.data && flipTopBits(t.data) };
  });
  const inputs = k.inputs.map((bytes, i) => (k.model.tensors[k.model.inputs[i]].dtype === 'int8' ? flipTopBits(bytes) : bytes));
  return { ...k, model: { ...k.model, tensors }, inputs, description: `${k.description} (as uint8)` };
}

export function flipTopBits(bytes: Uint8Array): Uint8Array {
  return bytes.map((b) => b ^ 0x80);
}
