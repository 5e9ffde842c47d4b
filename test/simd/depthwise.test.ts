// The SIMD depthwise kernel (ops/wasm/depthwise.ts) against the reference kernel (depthwiseQuantizedRow in
// ops/depthwise-conv2d.ts), byte for byte: int8 per-channel and per-tensor, uint8 with filter zero points, 3x3 and
// 5x5, depth multipliers, every channel count to 40, strides 1 and 2, SAME, VALID and PAD-folded paddings of any
// size, widths and heights from 1, extreme values, offsets, biases and multipliers, rounding ties, both forms of
// requantization, every activation; rows read from a whole tensor (in order, and in reverse, which caches
// nothing), from a ring of exactly the window's rows, and computed in place as the memory planner streams them.
// The input ends at the last byte of the WebAssembly memory, so a read past it traps; a guard after the output
// shows a store past it.
import { describe, expect, it } from 'vitest';
import { DepthwiseConv2D } from '../../ops/depthwise-conv2d.js';
import { prepareSimdDepthwise, simdDepthwiseRow, type SimdDepthwise } from '../../ops/wasm/depthwise.js';
import type { QuantizedArray, QuantizedWeighted, WindowData } from '../../ops/conv-common.js';
import { Padding, type DepthwiseConv2DOptions } from '../../schema/tflite.js';
import type { Node, SpatialPadding } from '../../src/op.js';
import { evalInPlace, pendingRows, type InPlaceRows } from '../../src/row-streaming.js';
import type { PreparedNode } from '../../src/graph.js';
import { hostSupportsSimd, SimdMemory } from '../../src/wasm/runtime.js';
import { makeTensor, runKernel } from '../helpers/op-harness.js';
import { random } from '../helpers/random.js';

type Random = ReturnType<typeof random>;
type LayerData = WindowData & QuantizedWeighted & { depthMultiplier: number };

interface Case {
  dtype: 'int8' | 'uint8';
  batches: number;
  /** The input the kernel reads, unpadded; channels are the input's. */
  height: number;
  width: number;
  channels: number;
  /** Filter rows and columns. */
  size: number;
  depthMultiplier: number;
  stride: number;
  padding: number;
  /** Padding folded in as a PAD before the layer would be: added to the layer's own. */
  folded: SpatialPadding;
  activation: number;
  /** The real multiplier input scale · filter scale / output scale (of channel 0), random when absent. */
  realMultiplier?: number;
  /** Biases are drawn from ±biasRange, random when absent. */
  biasRange?: number;
  /** Inputs and weights within 2 of their zero points: small sums, which large multipliers leave unclamped. */
  small?: boolean;
}

interface Layer {
  node: Node<DepthwiseConv2DOptions>;
  data: LayerData;
  /** The unpadded input's values, batch-major. */
  input: number[];
  outRowElements: number;
  outRows: number;
}

const NO_PADDING: SpatialPadding = { top: 0, bottom: 0, left: 0, right: 0 };

/**
 * A random layer for `c`, prepared by the reference tier: values, zero points and scales mostly ordinary, with
 * one case in several at an extreme (values at the type's ends, zero points at the edges, all-extreme weights,
 * int32-range biases, multipliers from 2^-36 to 2^8).
 */
function layer(c: Case, r: Random): Layer | null {
  const { dtype, batches, height, width, channels, size: K, depthMultiplier, stride, padding, folded } = c;
  const C = channels * depthMultiplier;
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const paddedHeight = height + folded.top + folded.bottom;
  const paddedWidth = width + folded.left + folded.right;
  const out = (n: number) => (padding === Padding.SAME ? Math.ceil(n / stride) : Math.floor((n - K) / stride) + 1);
  if (out(paddedHeight) < 1 || out(paddedWidth) < 1) return null;
  const edge = () => r.pick([lo, hi, lo + 1, hi - 1, r.int(lo, hi)]);
  // Values within 2 of a zero point, so that products stay small.
  const near = (zero: number) => Math.min(hi, Math.max(lo, zero + r.int(-2, 2)));
  const extremeValues = r.next() < 0.15;
  const inputZero = r.next() < 0.3 ? edge() : r.int(lo, hi);
  const input = Array.from({ length: batches * height * width * channels }, () =>
    c.small ? near(inputZero) : extremeValues ? edge() : r.int(lo, hi));
  const perChannel = dtype === 'int8' && r.next() < 0.7;
  const filterZero = dtype === 'int8' ? 0 : r.next() < 0.4 ? edge() : r.int(lo, hi);
  const extremeWeights = r.next() < 0.1 ? r.pick([lo, hi]) : null;
  const weights = Array.from({ length: K * K * C }, () =>
    c.small ? near(filterZero) : extremeWeights ?? r.int(lo, hi));
  const inputScale = 2 ** r.int(-8, 0) * (0.5 + r.next());
  const filterScales = Array.from({ length: perChannel ? C : 1 }, () => 2 ** r.int(-9, -5) * (0.5 + r.next()));
  // Multiplier = inputScale · filterScale / outputScale: usually one that keeps most outputs unclamped.
  const multiplier = c.realMultiplier ??
    (r.next() < 0.25 ? 2 ** (r.next() * 44 - 36) : 2 ** r.int(-3, 3) / (r.pick([K, K * K]) * 4000));
  const outputScale = (inputScale * filterScales[0]) / multiplier;
  const biasRange = c.biasRange ?? (r.next() < 0.15 ? 2 ** 31 - 1 : r.pick([1000, 30000, 100000]));
  const biases = Array.from({ length: C }, () => r.int(-biasRange, biasRange));
  const bias = r.next() < 0.15 ? null : makeTensor('int32', [C], biases, {
    scale: perChannel
      ? filterScales.map((s) => s * inputScale)
      : Math.fround(Math.fround(inputScale) * Math.fround(filterScales[0])),
  });
  const outHeight = out(paddedHeight);
  const outWidth = out(paddedWidth);
  const inputT = makeTensor(dtype, [batches, paddedHeight, paddedWidth, channels], undefined, {
    scale: inputScale, zeroPoint: inputZero,
  });
  const filter = makeTensor(dtype, [1, K, K, C], weights, {
    scale: filterScales, zeroPoint: filterScales.map(() => filterZero), quantizedDimension: 3,
  });
  const outputT = makeTensor(dtype, [batches, outHeight, outWidth, C], undefined, {
    scale: outputScale, zeroPoint: r.next() < 0.3 ? edge() : r.int(lo, hi),
  });
  const options: DepthwiseConv2DOptions = {
    padding, strideW: stride, strideH: stride, activation: c.activation, dilationW: 1, dilationH: 1, depthMultiplier,
  };
  const inputs = [inputT, filter, ...(bias ? [bias] : [])];
  let data = runKernel(DepthwiseConv2D, options, inputs, [outputT], { kernels: 'reference' }) as unknown as LayerData;
  data = DepthwiseConv2D.foldPadding!(null as never, data as never, folded) as unknown as LayerData;
  const node = { index: 0, op: 'DEPTHWISE_CONV_2D', inputs, outputs: [outputT], options };
  return { node, data, input, outRowElements: outWidth * C, outRows: batches * outHeight };
}

/** The reference kernel's output, row by row from the whole unpadded input. */
function reference(l: Layer): number[] {
  const { data: d } = l;
  const inRowElements = d.inWidth * d.inDepth;
  const View = l.node.inputs[0]!.dtype === 'int8' ? Int8Array : Uint8Array;
  const inputData = View.from(l.input);
  const output = new View(l.outRows * l.outRowElements);
  for (let b = 0; b < d.batches; b++) {
    for (let oy = 0; oy < d.outHeight; oy++) {
      DepthwiseConv2D.rows!.evalRow(
        l.node, d as never, inputData, b * d.inHeight * inRowElements, d.inHeight, output,
        (b * d.outHeight + oy) * l.outRowElements, oy,
      );
    }
  }
  return Array.from(output);
}

/** The layer's SIMD kernel on a fresh SimdMemory, and a view of `bytes` placed to end exactly at its last byte. */
function simdLayer(l: Layer, bytes: number): { dw: SimdDepthwise; view: QuantizedArray; simd: SimdMemory } {
  const simd = new SimdMemory();
  const d = l.data;
  const filter = l.node.inputs[1]!.data as QuantizedArray;
  const bias = l.node.inputs[2] ? l.node.inputs[2].int32() : null;
  const dw = prepareSimdDepthwise(simd, { ...d, filter, bias, stage: { ...d, rounding: 'double' } });
  // Reads past the end of the input would trap.
  simd.placeScratch();
  simd.alloc((65536 - ((simd.usedBytes + bytes) % 65536)) % 65536, 1);
  const address = simd.alloc(bytes, 1);
  simd.freeze();
  expect(simd.memory.buffer.byteLength).toBe(address + bytes);
  const View = l.node.inputs[0]!.dtype === 'int8' ? Int8Array : Uint8Array;
  return { dw: dw!, view: new View(simd.memory.buffer, address, bytes), simd };
}

/** Where the SIMD kernel writes: a guarded row buffer, so that a store past the row's channels shows. */
const GUARD = 0x5a;

/** The SIMD kernel's output reading the whole input tensor, rows in order (or reversed: nothing cached). */
function simdWhole(l: Layer, reversed = false): number[] {
  const d = l.data;
  const inRowElements = d.inWidth * d.inDepth;
  const outBytes = l.outRows * l.outRowElements;
  const { dw, view, simd } = simdLayer(l, l.input.length + outBytes + 32);
  view.set(l.input);
  const output = view.subarray(l.input.length, l.input.length + outBytes + 32);
  new Uint8Array(output.buffer, output.byteOffset, output.length).fill(GUARD);
  for (let b = 0; b < d.batches; b++) {
    for (let k = 0; k < d.outHeight; k++) {
      const oy = reversed ? d.outHeight - 1 - k : k;
      const outputStart = (b * d.outHeight + oy) * l.outRowElements;
      simdDepthwiseRow(dw, d, view, b * d.inHeight * inRowElements, d.inHeight, output, outputStart, oy);
    }
  }
  const guard = new Uint8Array(simd.memory.buffer, output.byteOffset + outBytes, 32);
  expect(Array.from(guard).every((v) => v === GUARD)).toBe(true);
  return Array.from(output.subarray(0, outBytes));
}

/**
 * The SIMD kernel reading a ring of exactly the window's rows, filled as evalFused (src/row-streaming.ts) does:
 * before each output row, the input rows it needs that no earlier row did, into slot (y mod ringRows). Slots
 * are scribbled over when refilled, so a row served from a stale cache shows.
 */
function simdRing(l: Layer): number[] {
  const d = l.data;
  const inRowElements = d.inWidth * d.inDepth;
  const ringRows = Math.min(d.inHeight, d.filterHeight);
  const outBytes = l.outRows * l.outRowElements;
  const { dw, view } = simdLayer(l, ringRows * inRowElements + outBytes);
  const ring = view.subarray(0, ringRows * inRowElements);
  const output = view.subarray(ringRows * inRowElements);
  for (let b = 0; b < d.batches; b++) {
    let next = 0;
    ring.fill(0x11);
    for (let oy = 0; oy < d.outHeight; oy++) {
      const top = oy * d.strideH - d.padTop;
      const last = Math.min(d.inHeight - 1, top + d.filterHeight - 1);
      for (let y = Math.max(next, top); y <= last; y++) {
        const from = (b * d.inHeight + y) * inRowElements;
        ring.set(l.input.slice(from, from + inRowElements), (y % ringRows) * inRowElements);
      }
      next = Math.max(next, last + 1);
      simdDepthwiseRow(dw, d, ring, 0, ringRows, output, (b * d.outHeight + oy) * l.outRowElements, oy);
    }
  }
  return Array.from(output);
}

/** The SIMD kernel computed in place over its input by evalInPlace, as the memory planner runs such a layer. */
function simdInPlace(l: Layer): number[] | null {
  const d = l.data;
  const inRowBytes = d.inWidth * d.inDepth;
  const outRowBytes = l.outRowElements;
  const inBytes = l.input.length;
  const outBytes = l.outRows * outRowBytes;
  const window = DepthwiseConv2D.rows!.window(d as never);
  const pending = pendingRows(window, inRowBytes, outRowBytes);
  const { dw, view, simd } = simdLayer(l, Math.max(inBytes, outBytes) + pending * outRowBytes);
  view.set(l.input);
  const tensorView = view.subarray(0, Math.max(inBytes, outBytes));
  const pendingView = view.subarray(Math.max(inBytes, outBytes));
  const rows = {
    window: () => window,
    evalRow: (
      _n: unknown, _d: unknown, input: unknown, inputStart: number, inputRows: number, output: unknown,
      outputStart: number, row: number,
    ) => {
      const [from, to] = [input as QuantizedArray, output as QuantizedArray];
      simdDepthwiseRow(dw, d, from, inputStart, inputRows, to, outputStart, row);
    },
  };
  const node = {
    inputs: [{ data: tensorView }],
    outputs: [{ data: tensorView, bytes: new Uint8Array(simd.memory.buffer, tensorView.byteOffset, outBytes) }],
  };
  const s: InPlaceRows = {
    node: { node, data: d } as unknown as PreparedNode, rows, window, inRowBytes, outRowBytes, pendingRows: pending,
  };
  evalInPlace(s, pendingView, pendingView.byteOffset, new Uint8Array(simd.memory.buffer));
  return Array.from(tensorView.subarray(0, outBytes));
}

/**
 * Layers prepared on one SimdMemory, so that they share its scratch of converted rows, run row by row in an order
 * `next` picks (each layer's rows in order, as a fused pair takes turns): their outputs, each from its own input.
 */
function simdShared(ls: Layer[], next: (remaining: number[]) => number): number[][] {
  const simd = new SimdMemory();
  const kernels = ls.map((l) => {
    const filter = l.node.inputs[1]!.data as QuantizedArray;
    const bias = l.node.inputs[2] ? l.node.inputs[2].int32() : null;
    return prepareSimdDepthwise(simd, { ...l.data, filter, bias, stage: { ...l.data, rounding: 'double' } })!;
  });
  const places = ls.map((l) => ({ input: simd.alloc(l.input.length), output: simd.alloc(l.outRows * l.outRowElements) }));
  simd.freeze();
  const views = ls.map((l, k) => {
    const View = l.node.inputs[0]!.dtype === 'int8' ? Int8Array : Uint8Array;
    const input = new View(simd.memory.buffer, places[k].input, l.input.length);
    input.set(l.input);
    return { input, output: new View(simd.memory.buffer, places[k].output, l.outRows * l.outRowElements) };
  });
  const done = ls.map(() => 0);
  for (;;) {
    const remaining = ls.flatMap((l, k) => (done[k] < l.outRows ? [k] : []));
    if (remaining.length === 0) break;
    const k = next(remaining);
    const { data: d, outRowElements } = ls[k];
    const b = Math.floor(done[k] / d.outHeight);
    const oy = done[k] % d.outHeight;
    const inputStart = b * d.inHeight * d.inWidth * d.inDepth;
    simdDepthwiseRow(kernels[k], d, views[k].input, inputStart, d.inHeight, views[k].output, done[k] * outRowElements, oy);
    done[k]++;
  }
  return views.map((v) => Array.from(v.output));
}

function randomCase(r: Random, overrides: Partial<Case> = {}): Case {
  const fold = () => (r.next() < 0.3 ? r.int(0, 3) : 0);
  const folded = r.next() < 0.3 ? { top: fold(), bottom: fold(), left: fold(), right: fold() } : NO_PADDING;
  return {
    dtype: r.pick(['int8', 'uint8'] as const),
    batches: r.next() < 0.2 ? 2 : 1,
    height: r.int(1, 9),
    width: r.int(1, 11),
    channels: r.int(1, 40),
    size: r.pick([3, 3, 5]),
    depthMultiplier: r.next() < 0.15 ? r.pick([2, 3, 8]) : 1,
    stride: r.int(1, 2),
    padding: r.pick([Padding.SAME, Padding.VALID]),
    folded,
    activation: r.pick([0, 1, 2, 3]),
    ...overrides,
  };
}

function describeCase(c: Case, seed: number): string {
  const f = c.folded;
  return `seed ${seed}: ${c.dtype} ${c.batches}x${c.height}x${c.width}x${c.channels} ${c.size}x${c.size} ` +
    `multiplier ${c.depthMultiplier} stride ${c.stride} ` +
    `${c.padding === Padding.SAME ? 'SAME' : 'VALID'} folded ${f.top},${f.bottom},${f.left},${f.right} ` +
    `activation ${c.activation}`;
}

/** What the checked cases covered. */
interface Seen {
  outputs: number;
  /** Outputs strictly inside the activation's range: they show the accumulators. */
  unclamped: number;
  compact: number;
  general: number;
  declined: number;
}

const seen = (): Seen => ({ outputs: 0, unclamped: 0, compact: 0, general: 0, declined: 0 });

/** Checks `c` under every way of running rows, counting into `s`. */
function check(c: Case, seed: number, s: Seen = seen()): void {
  const r = random(seed);
  const l = layer(c, r);
  if (!l) return;
  const what = describeCase(c, seed);
  const d = l.data;
  const filter = l.node.inputs[1]!.data as QuantizedArray;
  const bias = l.node.inputs[2] ? l.node.inputs[2].int32() : null;
  const dw = prepareSimdDepthwise(new SimdMemory(), { ...d, filter, bias, stage: { ...d, rounding: 'double' } });
  // Right shifts beyond 22 (multipliers below 2^-23) are left to the other tiers.
  expect(dw === null, what).toBe(d.shifts.some((shift) => shift < -22));
  if (!dw) {
    s.declined++;
    return;
  }
  const expected = reference(l);
  expect(simdWhole(l), what).toEqual(expected);
  expect(simdWhole(l, true), `${what}, rows reversed`).toEqual(expected);
  expect(simdRing(l), `${what}, ring`).toEqual(expected);
  if (c.batches === 1 && c.folded === NO_PADDING) expect(simdInPlace(l), `${what}, in place`).toEqual(expected);
  s.outputs += expected.length;
  s.unclamped += expected.filter((v) => v > d.min && v < d.max).length;
  if (dw.compact) s.compact++;
  else s.general++;
}

describe('SIMD depthwise 3x3', () => {
  it('runs on this host', () => expect(hostSupportsSimd()).toBe(true));

  for (const dtype of ['int8', 'uint8'] as const) {
    for (const stride of [1, 2]) {
      it(`${dtype}, stride ${stride}, 3x3 and 5x5, channels 1 to 40`, () => {
        const s = seen();
        for (const size of [3, 5]) {
          for (let channels = 1; channels <= 40; channels++) {
            const seed = channels * 10 + stride + size * 1000 + (dtype === 'int8' ? 0 : 50000);
            check(randomCase(random(seed), { dtype, stride, channels, size, depthMultiplier: 1 }), seed, s);
          }
        }
        expect(s.outputs).toBeGreaterThan(3000);
      });
    }
  }

  it('tiny inputs: widths and heights 1 to 5, every padding', () => {
    let seed = 20000;
    for (const height of [1, 2, 3, 5]) {
      for (const width of [1, 2, 3, 4, 5]) {
        for (const stride of [1, 2]) {
          for (const padding of [Padding.SAME, Padding.VALID]) {
            seed++;
            const channels = random(seed).int(1, 20);
            check(randomCase(random(seed), { height, width, stride, padding, channels }), seed);
          }
        }
      }
    }
  });

  it('depth multipliers', () => {
    const s = seen();
    for (let seed = 25000; seed < 25060; seed++) {
      const r = random(seed);
      check(randomCase(r, { depthMultiplier: r.pick([2, 3, 4, 8]), channels: r.int(1, 6) }), seed, s);
    }
    expect(s.outputs).toBeGreaterThan(3000);
  });

  it('PAD-folded paddings of any size on each side', () => {
    for (let seed = 30000; seed < 30060; seed++) {
      const r = random(seed);
      const folded = { top: r.int(0, 3), bottom: r.int(0, 3), left: r.int(0, 3), right: r.int(0, 3) };
      check(randomCase(r, { folded, padding: Padding.VALID }), seed);
    }
  });

  it('300 random layers, both forms of requantization', () => {
    const s = seen();
    for (let seed = 1; seed <= 300; seed++) check(randomCase(random(seed)), seed, s);
    expect(s.outputs).toBeGreaterThan(30000);
    expect(s.unclamped / s.outputs).toBeGreaterThan(0.15);
    expect(s.compact).toBeGreaterThan(100);
    expect(s.general).toBeGreaterThan(20);
    expect(s.declined).toBeGreaterThan(10);
  });

  it('the general form: left shifts, multipliers from 1/2, biases across the int32 range', () => {
    const s = seen();
    for (let seed = 40000; seed < 40100; seed++) {
      const r = random(seed);
      const realMultiplier = r.pick([0.5, 0.75, 0.999, 1, 3, 2 ** r.int(1, 12), 2 ** 20]);
      // A clamp at ±1 or 6 does not quantize with the tiny output scales of the largest multipliers.
      const activation = realMultiplier > 1 ? 0 : r.pick([0, 1, 2, 3]);
      const small = r.next() < 0.7;
      const biasRange = small ? r.pick([0, 10, 2 ** 31 - 1]) : r.pick([100, 2 ** 31 - 1]);
      check(randomCase(r, { realMultiplier, activation, biasRange, small }), seed, s);
    }
    expect(s.general).toBeGreaterThan(70);
    expect(s.unclamped / s.outputs).toBeGreaterThan(0.15);
  });

  it('rounding ties of both roundings, right shifts from 0 to 22, both forms', () => {
    // One tap of weight 1, the others 0, and power-of-two scales: multiplier M = 2^30 and a right shift r per
    // channel, so the sum is bias + x - zero point, every odd sum is a tie of the first rounding and every sum
    // ≡ 2^r - 1 (mod 2^(r+1)) one of the second. Rows of consecutive inputs run across them. A channel with r = 0
    // (multiplier 1/2) puts the layer in the general form.
    for (const dtype of ['int8', 'uint8'] as const) {
      for (const general of [false, true]) {
        const r = random(dtype === 'int8' ? 1 : 2);
        const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
        const C = 22;
        const width = 64;
        const perChannel = dtype === 'int8';
        const rights = Array.from({ length: C }, (_, c) => (perChannel ? (general ? c : c + 1) : general ? 0 : 4));
        const filterScales = rights.map((right) => 2 ** -(right + 1));
        const inputZero = r.int(lo, hi);
        const filterZero = dtype === 'int8' ? 0 : r.int(lo + 1, hi - 1);
        const weights = Array.from({ length: 9 * C }, (_, i) => filterZero + (Math.floor(i / C) === 4 ? 1 : 0));
        // Sums on both sides of zero.
        const biases = rights.map((right) => r.int(-1, 1) * 2 ** Math.min(right, 8) + r.int(-100, 100));
        const input = Array.from({ length: 3 * width * C }, (_, i) => lo + (Math.floor(i / C) % 256));
        const inputT = makeTensor(dtype, [1, 3, width, C], undefined, { scale: 1, zeroPoint: inputZero });
        const filter = makeTensor(dtype, [1, 3, 3, C], weights, {
          scale: perChannel ? filterScales : filterScales[0], zeroPoint: filterZero, quantizedDimension: 3,
        });
        const bias = makeTensor('int32', [C], biases, { scale: perChannel ? filterScales : filterScales[0] });
        const outputT = makeTensor(dtype, [1, 3, width, C], undefined, { scale: 1, zeroPoint: (lo + hi + 1) / 2 });
        const options: DepthwiseConv2DOptions = {
          padding: Padding.SAME, strideW: 1, strideH: 1, activation: 0, dilationW: 1, dilationH: 1, depthMultiplier: 1,
        };
        const inputs = [inputT, filter, bias];
        const prepared = runKernel(DepthwiseConv2D, options, inputs, [outputT], { kernels: 'reference' });
        const data = prepared as unknown as LayerData;
        expect(Array.from(data.multipliers)).toEqual(Array(C).fill(2 ** 30));
        expect(Array.from(data.shifts)).toEqual(rights.map((right) => (right === 0 ? 0 : -right)));
        const l: Layer = {
          node: { index: 0, op: 'DEPTHWISE_CONV_2D', inputs, outputs: [outputT], options }, data, input,
          outRowElements: width * C, outRows: 3,
        };
        const what = `${dtype}, ${general ? 'general' : 'compact'}`;
        expect(simdLayer(l, 1).dw.compact, what).toBe(!general);
        const expected = reference(l);
        expect(expected.filter((v) => v > lo && v < hi).length, what).toBeGreaterThan(expected.length / 2);
        expect(simdWhole(l), what).toEqual(expected);
      }
    }
  });

  it('layers sharing the scratch, their rows interleaved as fused layers take turns', () => {
    // Converted rows cached by one layer must not serve another that used the slots since: layers of every kind
    // (both sizes and strides, paddings, zero points), two or three at a time, taking turns row by row or at random.
    let pairs = 0;
    for (let seed = 50000; seed < 50040; seed++) {
      const r = random(seed);
      const ls: Layer[] = [];
      for (let k = 0; k < r.int(2, 3); k++) {
        const c = randomCase(r, { batches: 1, height: r.int(3, 9), width: r.int(3, 11) });
        const l = layer(c, r);
        const shifts = l?.data.shifts ?? [];
        if (l && shifts.every((shift) => shift >= -22)) ls.push(l);
      }
      if (ls.length < 2) continue;
      pairs++;
      const expected = ls.map(reference);
      const turns = (remaining: number[]) => remaining[0];
      let turn = 0;
      const alternate = (remaining: number[]) => remaining[turn++ % remaining.length];
      const randomly = (remaining: number[]) => r.pick(remaining);
      expect(simdShared(ls, turns), `seed ${seed}, one layer after another`).toEqual(expected);
      expect(simdShared(ls, alternate), `seed ${seed}, taking turns`).toEqual(expected);
      expect(simdShared(ls, randomly), `seed ${seed}, in random order`).toEqual(expected);
    }
    expect(pairs).toBeGreaterThan(25);
  });

  it('declines what it does not handle', () => {
    const simd = new SimdMemory();
    const c = randomCase(random(1), { channels: 5, size: 3, depthMultiplier: 1, realMultiplier: 0.001 });
    const l = layer(c, random(1))!;
    const source = {
      ...l.data, filter: l.node.inputs[1]!.data as QuantizedArray, bias: null,
      stage: { ...l.data, rounding: 'double' as const },
    };
    expect(prepareSimdDepthwise(simd, source)).not.toBeNull();
    expect(prepareSimdDepthwise(simd, { ...source, strideW: 3, strideH: 3 })).toBeNull();
    expect(prepareSimdDepthwise(simd, { ...source, strideW: 1, strideH: 2 })).toBeNull();
    expect(prepareSimdDepthwise(simd, { ...source, dilationW: 2 })).toBeNull();
    expect(prepareSimdDepthwise(simd, { ...source, filterWidth: 1, filterHeight: 3 })).toBeNull();
    expect(prepareSimdDepthwise(simd, { ...source, filterWidth: 7, filterHeight: 7 })).toBeNull();
    expect(prepareSimdDepthwise(simd, { ...source, stage: { ...source.stage, rounding: 'single' } })).toBeNull();
  });
});
