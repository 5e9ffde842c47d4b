// The SIMD CONV_2D (ops/wasm/conv.ts) against the reference kernel (convQuantizedRow in ops/conv2d.ts), byte for
// byte: int8 per-channel and per-tensor, uint8 with filter zero points, 1x1 and larger filters with strides and
// SAME/VALID padding, odd tap counts, channel counts off the kernel's blocks, extreme values, offsets, multipliers and
// biases (the int32 accumulator wraps), every activation, input rings smaller than the input, folded padding; and
// every CONV_2D of the models whose TFLM golden keeps all tensors, on TFLM's own inputs and outputs.
import { describe, expect, it } from 'vitest';
import { Conv2D } from '../../ops/conv2d.js';
import { prepareSimdConv, simdConvRow, type SimdConv, type SimdConvSource } from '../../ops/wasm/conv.js';
import { Padding, type Conv2DOptions } from '../../schema/tflite.js';
import { allOps } from '../../src/all-ops.js';
import { Interpreter } from '../../src/interpreter.js';
import type { SpatialPadding } from '../../src/op.js';
import { quantizeMultiplier } from '../../src/quant.js';
import { hostSupportsSimd, SimdMemory } from '../../src/wasm/runtime.js';
import { makeTensor } from '../helpers/op-harness.js';
import { random } from '../helpers/random.js';
import { diffSummary, goldenTensors, readModelBytes } from '../helpers/shared.js';

type Random = ReturnType<typeof random>;
type QuantizedArray = Int8Array | Uint8Array;
type PaddingKind = (typeof Padding)[keyof typeof Padding];
type ConvData = ReturnType<typeof Conv2D.prepare>;
type QuantizedData = Extract<ConvData, { kind: 'quantized' }>;

interface Layer {
  dtype: 'int8' | 'uint8';
  perChannel?: boolean;
  batches?: number;
  height: number;
  width: number;
  depth: number;
  channels: number;
  filter?: [number, number];
  stride?: [number, number];
  padding?: PaddingKind;
  activation?: number;
  /** Input rows the ring holds; the input's height when absent. */
  ringRows?: number;
  /** Padding around the input, folded into the convolution as a PAD before it would be. */
  fold?: SpatialPadding;
  /** 'extreme': every input and weight at the type's minimum or maximum, zero points at the edges. */
  values?: 'random' | 'extreme';
  /**
   * 'typical': multipliers that keep most outputs inside the activation's range (the 'right' requantization).
   * 'right': right shifts at that form's ends, 1 and 22, and between. 'extreme': any shift the kernel takes, from
   * right by 22 to left by 30, and none (the 'any' form), biases up to ±(2^31 - 1).
   */
  scale?: 'typical' | 'right' | 'extreme';
}

const NONE = 0;
const ACTIVATIONS = [0, 1, 2, 3]; // NONE, RELU, RELU_N1_TO_1, RELU6

interface Outcome {
  /** Outputs compared, and those strictly inside the activation's range (which show the accumulator). */
  outputs: number;
  unclamped: number;
}

/** Runs `layer` under the reference kernel and the SIMD kernel and expects the same bytes. */
function compare(layer: Layer, r: Random, what: string): Outcome {
  const { dtype, batches = 1, height, width, depth, channels } = layer;
  const [filterH, filterW] = layer.filter ?? [1, 1];
  const [strideH, strideW] = layer.stride ?? [1, 1];
  const fold = layer.fold ?? { top: 0, bottom: 0, left: 0, right: 0 };
  const padding = layer.padding ?? Padding.VALID;
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const extreme = layer.values === 'extreme';
  const edge = () => (r.next() < 0.5 ? lo : hi);
  const value = () => (extreme ? edge() : r.int(lo, hi));
  const inputZero = extreme ? edge() : value();
  const filterZero = dtype === 'int8' ? 0 : extreme ? edge() : r.pick([0, 1, 128, 255, r.int(0, 255)]);

  // The reference runs on the padded input (padding values are the input zero point): what folding must reproduce.
  const paddedH = height + fold.top + fold.bottom;
  const paddedW = width + fold.left + fold.right;
  const outOf = (n: number, f: number, s: number) => (padding === Padding.SAME ? Math.ceil(n / s) : Math.floor((n - f) / s) + 1);
  const outH = outOf(paddedH, filterH, strideH);
  const outW = outOf(paddedW, filterW, strideW);
  expect(outH >= 1 && outW >= 1, what).toBe(true);
  const inputValues = new Int32Array(batches * height * width * depth).map(value);
  const padded = new Int32Array(batches * paddedH * paddedW * depth).fill(inputZero);
  for (let b = 0; b < batches; b++) {
    for (let y = 0; y < height; y++) {
      const from = ((b * height + y) * width) * depth;
      const to = ((b * paddedH + y + fold.top) * paddedW + fold.left) * depth;
      padded.set(inputValues.subarray(from, from + width * depth), to);
    }
  }
  const perChannel = dtype === 'int8' && (layer.perChannel ?? true);
  const filterScales = perChannel ? Array.from({ length: channels }, () => 2 ** -r.int(6, 9)) : [2 ** -7];
  const input = makeTensor(dtype, [batches, paddedH, paddedW, depth], padded, { scale: 2 ** -4, zeroPoint: inputZero }, false);
  const filter = makeTensor(
    dtype, [channels, filterH, filterW, depth], Array.from({ length: channels * filterH * filterW * depth }, value),
    { scale: filterScales, zeroPoint: filterScales.map(() => filterZero) },
  );
  const biasRange = layer.scale === 'extreme' ? 2 ** 31 - 1 : r.pick([0, 1000, 100000]);
  const biasValues = Array.from({ length: channels }, () => r.int(-biasRange, biasRange));
  const bias = biasRange === 0 ? null : makeTensor('int32', [channels], biasValues, { scale: perChannel ? filterScales.map((s) => s * 2 ** -4) : 2 ** -11 });
  const output = makeTensor(dtype, [batches, outH, outW, channels], undefined, { scale: 2 ** -3, zeroPoint: value() });
  const options: Conv2DOptions = {
    padding, strideH, strideW, dilationH: 1, dilationW: 1, activation: layer.activation ?? r.pick(ACTIVATIONS),
  };
  const node = { index: 0, op: 'CONV_2D', inputs: bias ? [input, filter, bias] : [input, filter], outputs: [output], options };
  const data = Conv2D.prepare(node, { rounding: 'double', kernels: 'reference' }) as QuantizedData;
  expect(data.kind).toBe('quantized');

  // Multipliers chosen so that most outputs land inside the activation's range, or anywhere when extreme.
  const taps = filterH * filterW * depth;
  const typical = 40 / ((hi - lo) * (hi - lo) * Math.sqrt(taps) * 0.25);
  for (let c = 0; c < channels; c++) {
    if (c > 0 && !perChannel) {
      data.multipliers[c] = data.multipliers[0];
      data.shifts[c] = data.shifts[0];
    } else if (layer.scale === 'extreme' || layer.scale === 'right') {
      data.multipliers[c] = r.pick([2 ** 30, 2 ** 31 - 1, r.int(2 ** 30, 2 ** 31 - 1)]);
      data.shifts[c] = layer.scale === 'right' ? r.pick([-1, -22, r.int(-22, -1)]) : r.pick([-22, 30, 0, r.int(-22, 30), r.int(-20, 2)]);
    } else {
      const q = quantizeMultiplier(typical * 2 ** (2 * r.next() - 1));
      data.multipliers[c] = q.multiplier;
      data.shifts[c] = q.shift;
    }
  }
  output.bytes.fill(0xa5);
  Conv2D.eval(node, data);
  const expected = Buffer.from(output.bytes);

  // The SIMD kernel: prepared on the padded layer, then folded as the memory planner folds a PAD.
  const simd = new SimdMemory();
  const source: SimdConvSource = {
    ...data, dtype, filter: filter.data as QuantizedArray, bias: bias ? bias.int32() : null,
    stage: { ...data, rounding: 'double' },
  };
  const prepared = prepareSimdConv(simd, source);
  expect(prepared, what).not.toBeNull();
  const right = data.shifts.every((shift) => shift >= -22 && shift <= -1);
  expect(prepared!.requantization, what).toBe(right ? 'right' : 'any');
  if (layer.scale !== 'extreme') expect(prepared!.requantization, what).toBe('right');
  const folded = Conv2D.foldPadding!(node, data, fold) as QuantizedData;
  const conv: SimdConv = {
    ...prepared!, inHeight: folded.inHeight, inWidth: folded.inWidth, padTop: folded.padTop, padLeft: folded.padLeft,
  };
  const rowElements = width * depth;
  const ringRows = layer.ringRows ?? height;
  const inputElements = (layer.ringRows ? 1 : batches) * ringRows * rowElements;
  const outRowElements = outW * channels;
  const outputElements = batches * outH * outRowElements;
  // Guard bytes around both, where nothing may be written.
  const GUARD = 32;
  const inputAddress = simd.alloc(inputElements + 2 * GUARD);
  const outputAddress = simd.alloc(outputElements + 2 * GUARD);
  simd.freeze();
  const View = dtype === 'int8' ? Int8Array : Uint8Array;
  const memory = new View(simd.memory.buffer);
  const bytes = simd.bytes();
  bytes.fill(0x5a, inputAddress, inputAddress + inputElements + 2 * GUARD);
  bytes.fill(0xa5, outputAddress, outputAddress + outputElements + 2 * GUARD);
  const inputStart = inputAddress + GUARD;
  const outputStart = outputAddress + GUARD;
  if (!layer.ringRows) memory.set(inputValues, inputStart);
  for (let b = 0; b < batches; b++) {
    for (let oy = 0; oy < outH; oy++) {
      if (layer.ringRows) {
        // The rows this output row reads, each in its slot of the ring.
        for (let fy = 0; fy < filterH; fy++) {
          const y = oy * strideH - conv.padTop + fy;
          if (y < 0 || y >= height) continue;
          const from = (b * height + y) * rowElements;
          memory.set(inputValues.subarray(from, from + rowElements), inputStart + (y % ringRows) * rowElements);
        }
        simdConvRow(conv, memory, inputStart, ringRows, memory, outputStart + (b * outH + oy) * outRowElements, oy);
      } else {
        const batchStart = inputStart + b * height * rowElements;
        simdConvRow(conv, memory, batchStart, height, memory, outputStart + (b * outH + oy) * outRowElements, oy);
      }
    }
  }
  const got = Buffer.from(bytes.subarray(outputStart, outputStart + outputElements));
  expect(got.equals(expected), `${what}: first difference at byte ${got.findIndex((v, i) => v !== expected[i])}`).toBe(true);
  const guards = [...bytes.subarray(outputAddress, outputStart), ...bytes.subarray(outputStart + outputElements, outputStart + outputElements + GUARD)];
  expect(guards.every((v) => v === 0xa5), `${what}: wrote outside the output`).toBe(true);

  const outcome = { outputs: 0, unclamped: 0 };
  for (const v of output.data as QuantizedArray) {
    outcome.outputs++;
    if (v > data.min && v < data.max) outcome.unclamped++;
  }
  return outcome;
}

function describeLayer(l: Layer): string {
  const [fh, fw] = l.filter ?? [1, 1];
  const [sh, sw] = l.stride ?? [1, 1];
  return `${l.dtype}${l.dtype === 'int8' && l.perChannel === false ? ' per-tensor' : ''} ${l.batches ?? 1}x${l.height}x${l.width}x${l.depth}` +
    ` -> ${l.channels}, ${fh}x${fw} stride ${sh}x${sw} ${l.padding === Padding.SAME ? 'SAME' : 'VALID'}` +
    `${l.ringRows ? `, ring of ${l.ringRows}` : ''}${l.fold ? `, folded ${JSON.stringify(l.fold)}` : ''}` +
    `${l.values === 'extreme' ? ', extreme values' : ''}${l.scale && l.scale !== 'typical' ? `, ${l.scale} scales` : ''}`;
}

/** A seeded random layer: any filter up to 5x5, strides up to 3, small spatial sizes, channels up to 40 or 1001. */
function randomLayer(seed: number): Layer {
  const r = random(seed);
  const filter: [number, number] = r.next() < 0.4 ? [1, 1] : [r.pick([1, 2, 3, 5]), r.pick([1, 2, 3, 5])];
  const stride: [number, number] = r.next() < 0.5 ? [1, 1] : [r.int(1, 3), r.int(1, 3)];
  const padding = r.pick([Padding.SAME, Padding.VALID]);
  const wide = r.next() < 0.05;
  const height = r.int(filter[0], 9);
  const width = wide ? r.int(filter[1], 3) : r.int(filter[1], 13);
  const layer: Layer = {
    dtype: r.pick(['int8', 'uint8'] as const), perChannel: r.next() < 0.7, batches: r.int(1, 2), height, width,
    depth: r.next() < 0.1 ? r.int(41, 300) : r.int(1, 40), channels: wide ? 1001 : r.int(1, 40), filter, stride,
    padding, values: r.next() < 0.1 ? 'extreme' : 'random', scale: r.pick(['extreme', 'right', 'typical', 'typical', 'typical', 'typical', 'typical', 'typical']),
  };
  if (r.next() < 0.2) layer.ringRows = r.int(filter[0], Math.max(filter[0], height - 1));
  else if (r.next() < 0.1) layer.fold = { top: r.int(0, 2), bottom: r.int(0, 2), left: r.int(0, 2), right: r.int(0, 2) };
  return layer;
}

describe('SIMD CONV_2D gives the reference kernel\'s bytes', () => {
  it('runs on this host', () => expect(hostSupportsSimd()).toBe(true));

  const named: Layer[] = [
    // MobileNet shapes, scaled down in space.
    { dtype: 'int8', height: 9, width: 17, depth: 3, channels: 32, filter: [3, 3], stride: [2, 2], padding: Padding.SAME },
    { dtype: 'uint8', height: 9, width: 17, depth: 3, channels: 32, filter: [3, 3], stride: [2, 2], padding: Padding.SAME },
    { dtype: 'int8', height: 3, width: 9, depth: 24, channels: 144 },
    { dtype: 'int8', height: 2, width: 7, depth: 320, channels: 1280 },
    { dtype: 'uint8', height: 2, width: 5, depth: 96, channels: 576 },
    { dtype: 'int8', height: 1, width: 1, depth: 1280, channels: 1001 },
    { dtype: 'uint8', height: 1, width: 1, depth: 1024, channels: 1001 },
    // Odd tap counts, one input channel, one output channel.
    { dtype: 'int8', height: 3, width: 5, depth: 7, channels: 5 },
    { dtype: 'uint8', height: 4, width: 6, depth: 1, channels: 3, filter: [3, 3], padding: Padding.SAME },
    { dtype: 'int8', height: 5, width: 5, depth: 1, channels: 1, filter: [5, 5], padding: Padding.VALID },
    { dtype: 'int8', height: 6, width: 11, depth: 13, channels: 1, filter: [2, 3], stride: [1, 2], padding: Padding.SAME },
    // Strided 1x1, and a filter wider than the input (SAME padding on both sides of every pixel).
    { dtype: 'uint8', height: 7, width: 7, depth: 16, channels: 9, stride: [2, 2], padding: Padding.SAME },
    { dtype: 'int8', height: 2, width: 2, depth: 5, channels: 6, filter: [5, 5], padding: Padding.SAME },
    // Rings holding fewer rows than the input.
    { dtype: 'int8', height: 8, width: 6, depth: 8, channels: 12, filter: [3, 3], padding: Padding.SAME, ringRows: 3, batches: 2 },
    { dtype: 'uint8', height: 9, width: 9, depth: 3, channels: 8, filter: [3, 3], stride: [2, 2], padding: Padding.SAME, ringRows: 3 },
    { dtype: 'int8', height: 5, width: 4, depth: 16, channels: 24, ringRows: 1, batches: 2 },
    // Padding folded in from a PAD, on a 1x1 layer (no longer pointwise) and on a 3x3 one.
    { dtype: 'int8', height: 4, width: 5, depth: 8, channels: 8, fold: { top: 1, bottom: 0, left: 2, right: 1 } },
    { dtype: 'uint8', height: 3, width: 5, depth: 16, channels: 9, fold: { top: 0, bottom: 2, left: 0, right: 1 } },
    { dtype: 'int8', height: 3, width: 6, depth: 24, channels: 9, fold: { top: 0, bottom: 2, left: 0, right: 0 } },
    { dtype: 'int8', height: 4, width: 7, depth: 16, channels: 5, stride: [2, 2], fold: { top: 0, bottom: 0, left: 1, right: 0 } },
    { dtype: 'uint8', height: 6, width: 6, depth: 4, channels: 7, filter: [3, 3], stride: [2, 2], fold: { top: 0, bottom: 1, left: 0, right: 1 } },
    // Extremes: every value at the type's edges, and multipliers and biases at theirs.
    { dtype: 'int8', height: 3, width: 6, depth: 67, channels: 19, values: 'extreme' },
    { dtype: 'uint8', height: 3, width: 6, depth: 67, channels: 19, filter: [3, 3], padding: Padding.SAME, values: 'extreme' },
    { dtype: 'int8', height: 3, width: 6, depth: 600, channels: 9, values: 'extreme', scale: 'extreme' },
    { dtype: 'uint8', height: 3, width: 9, depth: 600, channels: 9, values: 'extreme', scale: 'extreme' },
    { dtype: 'int8', perChannel: false, height: 4, width: 4, depth: 30, channels: 10, filter: [3, 3], scale: 'extreme' },
    { dtype: 'int8', height: 3, width: 6, depth: 600, channels: 19, values: 'extreme', scale: 'right' },
    { dtype: 'uint8', height: 3, width: 5, depth: 300, channels: 13, filter: [1, 3], padding: Padding.SAME, values: 'extreme', scale: 'right' },
    { dtype: 'int8', height: 4, width: 9, depth: 40, channels: 21, filter: [3, 3], padding: Padding.SAME, scale: 'right' },
  ];
  for (const layer of named) it(describeLayer(layer), () => { compare(layer, random(describeLayer(layer).length), describeLayer(layer)); });

  for (const dtype of ['int8', 'uint8'] as const) {
    it(`${dtype}: every activation`, () => {
      for (const activation of ACTIVATIONS) {
        const layer: Layer = { dtype, height: 4, width: 5, depth: 12, channels: 11, filter: [3, 3], padding: Padding.SAME, activation };
        compare(layer, random(activation + 1), `${describeLayer(layer)}, activation ${activation}`);
      }
    });

    it(`${dtype}: 1 to 40 output channels, 1x1 and 3x3`, () => {
      const r = random(dtype === 'int8' ? 11 : 12);
      for (let channels = 1; channels <= 40; channels++) {
        const layer: Layer = {
          dtype, height: 3, width: r.int(1, 9), depth: r.int(1, 40), channels, activation: NONE,
          ...(channels % 2 ? { filter: [3, 3], padding: Padding.SAME } : {}),
        };
        compare(layer, r, describeLayer(layer));
      }
    });
  }

  it('300 seeded random layers', () => {
    const seen = { outputs: 0, unclamped: 0 };
    for (let seed = 1; seed <= 300; seed++) {
      const layer = randomLayer(seed);
      const { outputs, unclamped } = compare(layer, random(seed + 1000), `seed ${seed}: ${describeLayer(layer)}`);
      seen.outputs += outputs;
      seen.unclamped += unclamped;
    }
    expect(seen.outputs).toBeGreaterThan(100000);
    // Many outputs must be unclamped, so that they show the accumulators (RELU clamps about half the outputs of the
    // layers it ends, RELU_N1_TO_1 most, and the extreme cases nearly all).
    expect(seen.unclamped / seen.outputs).toBeGreaterThan(0.3);
  });

  it('leaves single rounding, dilation, grouped convolution and right shifts beyond 22 to the JS tiers', () => {
    const simd = new SimdMemory();
    const base: SimdConvSource = {
      dtype: 'int8', inHeight: 3, inWidth: 3, inDepth: 4, filterHeight: 1, filterWidth: 1, filterDepth: 4, outWidth: 3,
      outDepth: 2, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, filter: new Int8Array(8),
      bias: null, inputOffset: 0, filterOffset: 0,
      stage: { multipliers: new Int32Array(2), shifts: new Int32Array(2), rounding: 'double', outputOffset: 0, min: -128, max: 127 },
    };
    expect(prepareSimdConv(simd, base)).not.toBeNull();
    expect(prepareSimdConv(simd, { ...base, stage: { ...base.stage, rounding: 'single' } })).toBeNull();
    expect(prepareSimdConv(simd, { ...base, dilationW: 2 })).toBeNull();
    expect(prepareSimdConv(simd, { ...base, filterDepth: 2, filter: new Int8Array(4) })).toBeNull();
    expect(prepareSimdConv(simd, { ...base, stage: { ...base.stage, shifts: Int32Array.of(-22, 30) } })).not.toBeNull();
    expect(prepareSimdConv(simd, { ...base, stage: { ...base.stage, shifts: Int32Array.of(-1, -23) } })).toBeNull();
  });

  // Real weights and multipliers (MobileNet v3's include left shifts and a zero output scale, the 'any' form, and
  // multipliers below 2^-23, which the kernel declines).
  for (const model of ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 'mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite', 'person_detect.tflite']) {
    it(`${model}: every CONV_2D gives TFLM's output tensor`, () => {
      const golden = goldenTensors(model);
      const interpreter = new Interpreter(readModelBytes(model), { resolver: allOps(), kernels: 'reference' });
      const simd = new SimdMemory();
      const layers = interpreter.subgraph.operators.filter((op) => op.opName === 'CONV_2D').map((op) => {
        const [input, filter, bias] = op.inputs.map((i) => (i < 0 ? null : interpreter.tensors[i]));
        const output = interpreter.tensors[op.outputs[0]];
        const node = {
          index: op.index, op: 'CONV_2D', inputs: [input, filter, bias ?? null], outputs: [output],
          options: Conv2D.parseOptions(op.builtinOptions),
        };
        const data = Conv2D.prepare(node, { rounding: 'double', kernels: 'reference' }) as QuantizedData;
        const conv = prepareSimdConv(simd, {
          ...data, dtype: input!.dtype as 'int8' | 'uint8', filter: filter!.data as QuantizedArray,
          bias: bias ? bias.int32() : null, stage: { ...data, rounding: 'double' },
        });
        expect(conv === null, `operator ${op.index}`).toBe(data.shifts.some((shift) => shift < -22));
        const inputBytes = golden.get(op.inputs[0])!;
        const expected = golden.get(op.outputs[0])!;
        return conv && { op, data, conv, inputBytes, expected, input: simd.alloc(inputBytes.length), output: simd.alloc(expected.length) };
      }).filter((l) => l !== null);
      simd.freeze();
      const bytes = simd.bytes();
      const view = new Int8Array(simd.memory.buffer);
      const requantizations = new Set<string>();
      for (const l of layers) {
        requantizations.add(l.conv.requantization);
        bytes.set(l.inputBytes, l.input);
        const { batches, inHeight, outHeight, outWidth, outDepth } = l.data;
        const inBatch = l.inputBytes.length / batches;
        for (let b = 0; b < batches; b++) {
          for (let oy = 0; oy < outHeight; oy++) {
            simdConvRow(l.conv, view, l.input + b * inBatch, inHeight, view, l.output + ((b * outHeight + oy) * outWidth) * outDepth, oy);
          }
        }
        const got = bytes.slice(l.output, l.output + l.expected.length);
        expect(diffSummary(got, l.expected, true), `operator ${l.op.index}`).toBe('identical');
      }
      expect(layers.length).toBeGreaterThan(10);
      if (model.startsWith('tf2')) expect([...requantizations]).toEqual(['right']);
      if (model.startsWith('mobilenet_v3')) expect(requantizations.has('any')).toBe(true);
    });
  }
});
