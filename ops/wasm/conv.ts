// CONV_2D on int8 (per-channel) and uint8 (per-tensor) in WebAssembly SIMD, byte-identical to convQuantizedRow in
// ops/conv2d.ts (TFLM's reference_integer_ops conv, TFLite's reference uint8 conv) with double rounding.
//
// TFLM sums (w + filterOffset) · (x + inputOffset) over the taps inside the input, adds the bias, all in int32, and
// requantizes. Both factors fit int16 (each is at most 255 in magnitude), so each product and the sum of two are
// exact in 32 bits: i32x4.dot_i16x8_s computes them, and the int32 lanes wrap as TFLM's accumulator does (wrapping
// commutes with addition, so the order of the sum does not matter). A tap outside the input is skipped in TFLM;
// here it is a 0 in place of x + inputOffset, which adds nothing.
//
// One output row is a matrix product. Each call first writes the row's patches to scratch memory (shared by all
// layers, SimdMemory.scratch: one layer's call ends before another's starts): per output pixel
// the values X = x + inputOffset its taps read (0 outside the input) in the filter's (fy, fx, c) order, each filter
// row's run of filterWidth · depth taps padded to even length, so that taps come in pairs. Patches are stored in
// blocks of PIXELS pixels, pair-major: a block's pair j holds the pixels' (X[2j], X[2j+1]) side by side. A pointwise
// layer's patches are its input pixels, transposed straight into blocks; other layers go through a row buffer (the
// input row widened, with its padding columns). Prepare packs the weights alike, per group of GROUP output channels
// and pair j: (W[ch0][2j], W[ch0][2j+1], W[ch1][2j], ...). Then per block and group, PIXELS · BLOCKS accumulators of
// four channels start at the bias and take one dot product per pair: a pixel's pair broadcast (v128.load32_splat)
// against four channels' weight pairs. Groups are the outer loop and blocks the inner one, so a group's weights
// stay in the L1 cache while the row's patches pass under them, and the weight matrix is read once per row. The
// accumulators are requantized in registers, narrowed and stored. A row's last pixels form a smaller block; the
// last group of a layer computes padding channels (zero weights and bias) that are not stored.
//
// int8 filters have zero point 0 and are stored as bytes, widened as they are loaded (v128.load8x8_s costs no more
// than a plain load here); uint8 ones as int16 with the filter offset added. Requantization is requantize.ts's
// clamp-then-shift form: 'right' when every channel shifts right (all the MobileNets' layers), else 'any'; a layer
// with a right shift beyond 22 (a multiplier below 2^-23: squeeze-excite layers of 1x1 pixel seen in MobileNet v3)
// is left to the JS tiers.
//
// Measured (x86-64 at 3.2 GHz, one thread; a hand-written assembly loop of the same instructions does 36 GMAC/s),
// including requantization: pointwise 7x7x320→1280 34 GMAC/s, 14x14x96→576 29, 56x56x144→24 29, 112x112x32→16 19,
// 56x56x24→144 18 (few taps per output: requantization is about half the time); 224x224x3→32 3x3 stride 2: 15.
import type { FunctionBuilder, Local, ModuleBuilder } from '../../src/wasm/assembler.js';
import type { ModelOperator, ModelTensor } from '../../src/model.js';
import { allocBound, type MemoryBound, type SharedScratch, type SimdMemory, type WasmKernelModule } from '../../src/wasm/runtime.js';
import type { FastKernelWeights, QuantizedArray, WindowData } from '../conv-common.js';
import {
  addClampShiftTableFunctions, CLAMP_SHIFT_HEADER_BYTES, clampShiftForm, clampShiftTableBytes, clampShiftVectors,
  emitClampShift, emitHalfConstant, writeClampShiftTable,
} from './requantize.js';

/** Output pixels computed together: a block of patches. */
const PIXELS = 4;
/** Blocks of four output channels computed together. */
const BLOCKS = 2;
/** Output channels computed together: one weight group. */
const GROUP = 4 * BLOCKS;
/** Bytes of one tap pair of a block of patches: an int16 pair per pixel. */
const PAIR_BYTES = 4 * PIXELS;

/** Bytes of one packed weight: int8 as it is, uint8 as int16 with the filter offset added. */
function weightBytes(signed: boolean): number {
  return signed ? 1 : 2;
}


/**
 * What prepare knows of a quantized CONV_2D (see QuantizedConvData in ops/conv2d.ts). The filter is [outDepth,
 * filterHeight, filterWidth, filterDepth]; the kernel runs ungrouped convolutions only (filterDepth = inDepth).
 */
export interface SimdConvSource
  extends FastKernelWeights,
    Pick<
      WindowData,
      | 'inHeight' | 'inWidth' | 'inDepth' | 'filterHeight' | 'filterWidth' | 'outWidth' | 'outDepth' | 'strideH'
      | 'strideW' | 'dilationH' | 'dilationW' | 'padTop' | 'padLeft'
    > {
  dtype: 'int8' | 'uint8';
  /** Input channels per group. */
  filterDepth: number;
}

type ConvRowFunction = (
  descriptor: number, scratch: number, input: number, inputRows: number, output: number, row: number,
  inHeight: number, inWidth: number, padTop: number, padLeft: number,
) => void;

type PackWeights = (
  filter: number, weights: number, outDepth: number, groups: number, filterHeight: number, runTaps: number,
  pairs: number, filterOffset: number,
) => void;

/** conv_row_{int8,uint8}_{right,any} and pack_weights_{int8,uint8}. */
/** pack_weights_int8_transposed: the filter's `groups` · GROUP rows of `taps` taps each, from `filter` to `weights`. */
type PackWeightsTransposed = (filter: number, weights: number, groups: number, taps: number) => void;

type Kernels = Record<string, ConvRowFunction & PackWeights & PackWeightsTransposed>;

/**
 * A prepared layer: its constants live in SIMD memory at `descriptor`. The input's extent and padding are kept here
 * and passed at each call, so that folding a PAD into the layer (foldWindowPadding) is a copy of this object with
 * those four fields changed: they decide nothing that prepare sized.
 */
export interface SimdConv {
  run: ConvRowFunction;
  descriptor: number;
  /** The convolutions' shared scratch: the row's patches, then the row buffer. */
  scratch: SharedScratch;
  /** The form of clamp-then-shift requantization the layer's shifts allow (ops/wasm/requantize.ts). */
  requantization: 'right' | 'any';
  inHeight: number;
  inWidth: number;
  padTop: number;
  padLeft: number;
}

// The descriptor: int32 fields at these byte offsets.
const D_OUT_WIDTH = 0;
const D_OUT_DEPTH = 4;
const D_DEPTH = 8;
const D_FILTER_HEIGHT = 12;
const D_STRIDE_H = 16;
const D_STRIDE_W = 20;
/** Taps of one filter row in a patch: filterWidth · depth rounded up to even, so that every run starts a pair. */
const D_RUN = 24;
/** Where the row buffer starts in the scratch (after the patches), and its width in pixels. */
const D_ROW_BUFFER = 28;
const D_ROW_BUFFER_WIDTH = 32;
/** Tap pairs in a patch: filterHeight · run / 2. */
const D_PAIRS = 36;
const D_WEIGHTS = 40;
const D_BIAS = 44;
const D_TABLE = 48;
const D_GROUPS = 52;
const D_INPUT_OFFSET = 56;
const DESCRIPTOR_BYTES = 60;

/** The layer's sizes in SIMD memory (prepareSimdConv, convKernels.memoryBound). */
function convLayout(
  signed: boolean, form: 'right' | 'any', outDepth: number, filterHeight: number, filterWidth: number, depth: number,
  outWidth: number, bufferWidth: number,
) {
  const runTaps = filterWidth * depth;
  const run = runTaps + (runTaps & 1);
  const pairs = (filterHeight * run) / 2;
  const groups = Math.ceil(outDepth / GROUP);
  const taps = filterHeight * runTaps;
  const packedBytes = groups * GROUP * pairs * 2 * weightBytes(signed);
  const recordBytes = clampShiftVectors(form) * 16;
  const patchesBytes = Math.ceil(outWidth / PIXELS) * pairs * PAIR_BYTES;
  // The row buffer's last run may read one element past its columns (a run of odd length): its weight is zero.
  const rowBufferBytes = (bufferWidth * depth + 1) * 2;
  return {
    runTaps, run, pairs, groups, taps, packedBytes, recordBytes, patchesBytes,
    /** The packed weights, and behind them room for a group's copy of the filter (see emitPackWeights). */
    weightsBytes: packedBytes + GROUP * taps,
    biasBytes: groups * GROUP * 4,
    tableBytes: clampShiftTableBytes(recordBytes, outDepth, (groups * GROUP) / 4),
    scratchBytes: patchesBytes + rowBufferBytes,
  };
}

/**
 * Prepares the layer for the SIMD tier, or returns null for what the kernel does not run (the JS tiers do): single
 * rounding and right shifts beyond 22 (see requantize.ts), dilation, grouped convolution, an empty activation range
 * (min > max, which only a zero point outside the type gives). Places the layer's constants in `simd`, and asks for
 * its share of the scratch.
 */
export function prepareSimdConv(simd: SimdMemory, s: SimdConvSource): SimdConv | null {
  const signed = s.dtype === 'int8';
  if (s.stage.min > s.stage.max) return null;
  if (s.dilationH !== 1 || s.dilationW !== 1 || s.filterDepth !== s.inDepth) return null;
  // int8 weights are stored as bytes, which holds only with zero points of 0 (TFLM requires them).
  if (weightBytes(signed) === 1 && s.filterOffset !== 0) return null;
  const form = clampShiftForm(s.stage, s.outDepth);
  if (!form) return null;
  const { outDepth, filter, filterOffset, filterHeight, outWidth, inDepth: depth } = s;
  // The row buffer spans the input columns the row's taps read, padding included.
  const bufferWidth = (outWidth - 1) * s.strideW + s.filterWidth;
  const layout = convLayout(signed, form, outDepth, filterHeight, s.filterWidth, depth, outWidth, bufferWidth);
  const { runTaps, pairs, groups, taps, packedBytes } = layout;

  // Weights: group g, tap pair j, block b, lane i holds channel g·GROUP + 4b + i, taps 2j and 2j + 1; the odd tap
  // ending a run of odd length pairs with a zero. Packed by pack_weights (WebAssembly: a JS loop over 3.5 million
  // weights takes milliseconds) from a copy of the filter placed in the same allocation, far enough behind the
  // packed groups that each group is read before it is overwritten (see emitPackWeights).
  const weights = simd.alloc(layout.weightsBytes);
  const filterCopy = weights + packedBytes - (groups - 1) * GROUP * taps;
  simd.bytes().set(new Uint8Array(filter.buffer, filter.byteOffset, outDepth * taps), filterCopy);
  const kernels = simd.exports<Kernels>(convKernels);
  // Runs of even length chain into one sequence of pairs per channel, the order they are packed in.
  if (signed && runTaps % 2 === 0 && taps % TRANSPOSED_TAPS === 0 && outDepth % GROUP === 0) {
    kernels.pack_weights_int8_transposed(filterCopy, weights, groups, taps);
  } else {
    kernels[`pack_weights_${s.dtype}`](filterCopy, weights, outDepth, groups, filterHeight, runTaps, pairs, filterOffset);
  }

  // Fresh memory is zero: the padding channels' bias.
  const bias = simd.alloc(layout.biasBytes);
  if (s.bias) simd.int32s().set(s.bias.subarray(0, outDepth), bias / 4);
  const table = simd.alloc(layout.tableBytes);
  writeClampShiftTable(simd, convKernels, table, layout.recordBytes, s.stage, form, outDepth, (groups * GROUP) / 4);

  const descriptor = simd.alloc(DESCRIPTOR_BYTES);
  const fields = simd.int32s();
  const field = (offset: number, value: number) => {
    fields[(descriptor + offset) / 4] = value;
  };
  field(D_OUT_WIDTH, outWidth);
  field(D_OUT_DEPTH, outDepth);
  field(D_DEPTH, depth);
  field(D_FILTER_HEIGHT, filterHeight);
  field(D_STRIDE_H, s.strideH);
  field(D_STRIDE_W, s.strideW);
  field(D_RUN, layout.run);
  field(D_ROW_BUFFER, layout.patchesBytes);
  field(D_ROW_BUFFER_WIDTH, bufferWidth);
  field(D_PAIRS, pairs);
  field(D_WEIGHTS, weights);
  field(D_BIAS, bias);
  field(D_TABLE, table);
  field(D_GROUPS, groups);
  field(D_INPUT_OFFSET, s.inputOffset);

  return {
    run: kernels[`conv_row_${s.dtype}_${form}`],
    descriptor,
    scratch: simd.scratch(convKernels, layout.scratchBytes),
    requantization: form,
    inHeight: s.inHeight,
    inWidth: s.inWidth,
    padTop: s.padTop,
    padLeft: s.padLeft,
  };
}

/**
 * RowEvaluation.evalRow (src/op.ts) for a prepared layer: output row `row` of one batch at element `outputStart` of
 * `output`, input row y at element inputStart + (y mod inputRows) · inWidth · inDepth of `input`. Both arrays must
 * be views of the SimdMemory the layer was prepared in.
 */
export function simdConvRow(
  conv: SimdConv,
  input: QuantizedArray,
  inputStart: number,
  inputRows: number,
  output: QuantizedArray,
  outputStart: number,
  row: number,
): void {
  conv.run(
    conv.descriptor, conv.scratch.address, input.byteOffset + inputStart, inputRows, output.byteOffset + outputStart,
    row, conv.inHeight, conv.inWidth, conv.padTop, conv.padLeft,
  );
}

/** The module's functions (Kernels). */
export const convKernels: WasmKernelModule = {
  name: 'ops/wasm/conv.ts',
  emit(m: ModuleBuilder) {
    for (const signed of [true, false]) {
      const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
      m.addFunction(`pack_weights_${signed ? 'int8' : 'uint8'}`, [...params], [], (f) => emitPackWeights(f, signed));
    }
    m.addFunction('pack_weights_int8_transposed', ['i32', 'i32', 'i32', 'i32'], [], emitPackWeightsTransposed);
    addClampShiftTableFunctions(m);
    for (const signed of [true, false]) {
      for (const form of ['right', 'any'] as const) {
        const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
        m.addFunction(`conv_row_${signed ? 'int8' : 'uint8'}_${form}`, [...params], [], (f) => {
          const [descriptor, scratch, input, inputRows, output, row, inHeight, inWidth, padTop, padLeft] = f.params;
          const field = (offset: number) => {
            const l = f.local('i32');
            f.get(descriptor).mem('i32.load', offset).set(l);
            return l;
          };
          const d: Descriptor = {
            outWidth: field(D_OUT_WIDTH), outDepth: field(D_OUT_DEPTH), depth: field(D_DEPTH),
            filterHeight: field(D_FILTER_HEIGHT), strideH: field(D_STRIDE_H), strideW: field(D_STRIDE_W),
            run: field(D_RUN), rowBuffer: field(D_ROW_BUFFER), rowBufferWidth: field(D_ROW_BUFFER_WIDTH),
            pairs: field(D_PAIRS), weights: field(D_WEIGHTS), bias: field(D_BIAS), table: field(D_TABLE),
            patches: scratch, groups: field(D_GROUPS), inputOffset: field(D_INPUT_OFFSET),
          };
          f.get(scratch).get(d.rowBuffer).op('i32.add').set(d.rowBuffer);
          const rowParams = { input, inputRows, row, inHeight, inWidth, padTop, padLeft };
          emitPointwisePatches(f, d, signed, rowParams, () => emitPatches(f, d, signed, rowParams));
          emitProduct(f, d, signed, form, output);
        });
      }
    }
  },
  memoryBound(op: ModelOperator, tensors: readonly ModelTensor[]): MemoryBound {
    const [input, filter] = op.inputs.map((i) => (i >= 0 ? tensors[i] : null));
    const output = tensors[op.outputs[0]];
    const shapes = [input?.shape, filter?.shape, output?.shape];
    if (!shapes.every((shape) => shape?.length === 4)) return { placed: 0, scratch: 0 };
    const [, , inWidth, depth] = input!.shape;
    const [outDepth, filterHeight, filterWidth] = filter!.shape;
    // A row's taps span at most the input and its padding, less than a filter's width on the two sides together.
    const signed = input!.dtype === 'int8';
    const layout = convLayout(signed, 'any', outDepth, filterHeight, filterWidth, depth, output.shape[2], inWidth + filterWidth - 1);
    const placed = [layout.weightsBytes, layout.biasBytes, layout.tableBytes, DESCRIPTOR_BYTES];
    return { placed: placed.reduce((sum, bytes) => sum + allocBound(bytes), 0), scratch: layout.scratchBytes };
  },
};

/** The descriptor's fields, loaded into locals; the row buffer's as its address. */
interface Descriptor {
  outWidth: Local;
  outDepth: Local;
  depth: Local;
  filterHeight: Local;
  strideH: Local;
  strideW: Local;
  run: Local;
  rowBuffer: Local;
  rowBufferWidth: Local;
  pairs: Local;
  weights: Local;
  bias: Local;
  table: Local;
  patches: Local;
  groups: Local;
  inputOffset: Local;
}

interface RowParams {
  input: Local;
  inputRows: Local;
  row: Local;
  inHeight: Local;
  inWidth: Local;
  padTop: Local;
  padLeft: Local;
}

/**
 * Emits a loop over `count` elements from `from` to `to` (locals it advances to the elements' ends), `step` a time,
 * the last step ending where the elements end (overlapping the one before it, never past the end); fewer than `step`
 * elements go one at a time. `vector` and `single` emit one step. An element takes `fromSize` bytes at the source (0
 * when there is none) and `toSize` at the destination.
 */
function emitChunks(
  f: FunctionBuilder, count: Local, from: Local, to: Local, last: Local, step: number, fromSize: number,
  toSize: number, vector: () => void, single: () => void,
): void {
  const advance = (elements: number) => {
    if (fromSize) f.get(from).i32(elements * fromSize).op('i32.add').set(from);
    f.get(to).i32(elements * toSize).op('i32.add').set(to);
  };
  // The pointer whose position marks the last step: the source, or the destination when there is none.
  const [lead, leadSize] = fromSize ? [from, fromSize] : [to, toSize];
  f.get(count).i32(step).op('i32.ge_s').if(() => {
    f.get(lead).get(count).i32(leadSize).op('i32.mul', 'i32.add').i32(step * leadSize).op('i32.sub').set(last);
    f.block(() => f.loop(() => {
      f.get(lead).get(last).op('i32.ge_u').brIf(1);
      vector();
      advance(step);
      f.br(0);
    }));
    // Back to the last step: `to` moves back as many elements as `from` overshot.
    if (fromSize) f.get(to).get(from).get(last).op('i32.sub').i32(toSize / fromSize).op('i32.mul', 'i32.sub').set(to);
    f.get(last).set(lead);
    vector();
    advance(step);
  }, () => {
    f.block(() => f.loop(() => {
      f.get(count).op('i32.eqz').brIf(1);
      single();
      advance(1);
      f.get(count).i32(1).op('i32.sub').set(count);
      f.br(0);
    }));
  });
}

/**
 * pack_weights: the filter's values from `filter` (outDepth rows of filterHeight · runTaps taps) to the packed
 * weights at `weights` (int8 as they are, uint8 as int16 plus filterOffset), zeros for the padding channels and for
 * the pair partner of an odd tap ending a run, group by group. The copy may overlap the packed weights' end: prepare
 * places it (groups - 1) · GROUP · taps bytes before that end, so that group g's rows start where packed group g
 * ends or later (a packed group, GROUP · pairs · 2 · weightBytes bytes, is at least as long as its GROUP rows):
 * packing overwrites only rows it has read.
 */
function emitPackWeights(f: FunctionBuilder, signed: boolean): void {
  const [filter, weights, outDepth, groups, filterHeight, runTaps, pairs, filterOffset] = f.params;
  const n = f.local('i32');
  const fy = f.local('i32');
  const j = f.local('i32');
  const count = f.local('i32');
  const from = f.local('i32');
  const to = f.local('i32');
  const last = f.local('i32');
  const offset = f.local('v128');
  const v = f.local('v128');
  const size = weightBytes(signed);
  const bytes = size === 1;
  const pairStride = 2 * size * GROUP;
  const storePair = bytes ? 'i32.store16' : 'i32.store';
  f.get(filterOffset).op('i16x8.splat').set(offset);
  // One tap as a packed weight: the byte, or the byte plus the offset as the low 16 bits of an i32.
  const tap = (at: number) => {
    if (bytes) f.get(from).mem('i32.load8_u', at);
    else f.get(from).mem(signed ? 'i32.load8_s' : 'i32.load8_u', at).get(filterOffset).op('i32.add').i32(0xffff).op('i32.and');
  };
  f.forLoop(n, () => f.i32(0), () => f.get(groups).i32(GROUP).op('i32.mul'), 1, () => {
    // Channel n's column: its group's weights, its lane.
    f.get(weights).get(n).i32(Math.log2(GROUP)).op('i32.shr_u').get(pairs).i32(pairStride).op('i32.mul', 'i32.mul', 'i32.add');
    f.get(n).i32(GROUP - 1).op('i32.and').i32(2 * size).op('i32.mul', 'i32.add').set(to);
    f.get(n).get(outDepth).op('i32.lt_s').if(() => {
      f.get(filter).get(n).get(filterHeight).get(runTaps).op('i32.mul', 'i32.mul', 'i32.add').set(from);
      f.forLoop(fy, () => f.i32(0), () => f.get(filterHeight), 1, () => {
        f.get(runTaps).i32(1).op('i32.shr_u').set(count);
        // Four pairs a step.
        emitChunks(f, count, from, to, last, 4, 2, pairStride, () => {
          if (bytes) f.get(from).mem('v128.load64_zero').set(v);
          else f.get(from).mem(signed ? 'v128.load8x8_s' : 'v128.load8x8_u').get(offset).op('i16x8.add').set(v);
          for (let lane = 0; lane < 4; lane++) {
            f.get(to).get(v).storeLane(bytes ? 'v128.store16_lane' : 'v128.store32_lane', lane, lane * pairStride);
          }
        }, () => {
          f.get(to);
          tap(0);
          tap(1);
          f.i32(8 * size).op('i32.shl', 'i32.or').mem(storePair);
        });
        f.get(runTaps).i32(1).op('i32.and').if(() => {
          f.get(to);
          tap(0);
          f.mem(storePair);
          f.get(from).i32(1).op('i32.add').set(from);
          f.get(to).i32(pairStride).op('i32.add').set(to);
        });
      });
    }, () => {
      f.forLoop(j, () => f.i32(0), () => f.get(pairs), 1, () => {
        f.get(to).i32(0).mem(storePair);
        f.get(to).i32(pairStride).op('i32.add').set(to);
      });
    });
  });
}

/** Taps of a channel that pack_weights_int8_transposed moves at once: 8 pairs, one v128. */
const TRANSPOSED_TAPS = 16;

/**
 * pack_weights_int8 for a layer whose channels fill whole groups and whose taps pair up in one sequence per channel,
 * a multiple of TRANSPOSED_TAPS long (pointwise layers of 16k channels: nearly all of a MobileNet's weights). A
 * group is then GROUP rows of pairs, packed as its transpose: 8 channels × 8 pairs at a time, in three rounds of
 * interleaving (16-, 32-, then 64-bit lanes), with whole-vector loads and stores where pack_weights stores each pair
 * alone. The copy lies as pack_weights expects: group g's rows end where packed group g + 1 ends.
 */
function emitPackWeightsTransposed(f: FunctionBuilder): void {
  const [filter, weights, groups, taps] = f.params;
  const g = f.local('i32');
  const k = f.local('i32');
  const at = f.local('i32');
  const to = f.local('i32');
  const rows = Array.from({ length: GROUP }, () => f.local('v128'));
  // Interleaves lanes of a and b: the low halves' (`low`) or the high halves' lanes of `bytes` bytes, a's first.
  const interleave = (a: Local, b: Local, bytes: number, low: boolean) => {
    const lanes: number[] = [];
    for (let lane = 0; lane < 16 / bytes; lane++) {
      const from = (low ? 0 : 8) + (lane >> 1) * bytes + (lane & 1) * 16;
      for (let i = 0; i < bytes; i++) lanes.push(from + i);
    }
    f.get(a).get(b).shuffle(lanes);
  };
  // Rounds a, b ← interleave(a, b) low, high.
  const round = (a: Local, b: Local, bytes: number) => {
    interleave(a, b, bytes, true);
    interleave(a, b, bytes, false);
    f.set(b).set(a);
  };
  if (GROUP !== 8) throw new Error('pack_weights_int8_transposed transposes 8 channels');
  f.get(weights).set(to);
  f.forLoop(g, () => f.i32(0), () => f.get(groups), 1, () => {
    f.forLoop(k, () => f.i32(0), () => f.get(taps), TRANSPOSED_TAPS, () => {
      // Channel r's pairs k/2 .. k/2 + 7.
      f.get(filter).get(k).op('i32.add').set(at);
      rows.forEach((row, r) => f.get(at).get(taps).i32(r).op('i32.mul', 'i32.add').mem('v128.load').set(row));
      // Channels (0 1) (2 3) (4 5) (6 7), pairs 0-3 and 4-7: then rows 0 and 1 hold channels 0-1 of pairs 0-3, 4-7.
      for (let r = 0; r < 8; r += 2) round(rows[r], rows[r + 1], 2);
      // Channels 0-3 and 4-7: rows 0, 2, 1, 3 hold pairs 0-1, 2-3, 4-5, 6-7 of channels 0-3; rows 4-7 of 4-7.
      for (const r of [0, 1, 4, 5]) round(rows[r], rows[r + 2], 4);
      // Pair j of channels 0-3 beside pair j of channels 4-7.
      [0, 2, 1, 3].forEach((r, i) => {
        for (const low of [true, false]) {
          f.get(to);
          interleave(rows[r], rows[r + 4], 8, low);
          f.mem('v128.store', (2 * i + (low ? 0 : 1)) * 16);
        }
      });
      f.get(to).i32(TRANSPOSED_TAPS * GROUP).op('i32.add').set(to);
    });
    f.get(filter).get(taps).i32(GROUP).op('i32.mul', 'i32.add').set(filter);
  });
}

/**
 * Writes the row's blocks of patches straight from the input when each pixel's patch is one input pixel (a 1x1
 * filter, no left padding, an input row inside the input, no pixel past the input's width) of an even depth of at
 * least 8: per block of four pixels and 8 channels, four widened loads and a 4x4 transpose of their tap pairs, the
 * last step ending at the depth (overlapping the one before). Other layers and rows take `otherwise`.
 */
function emitPointwisePatches(f: FunctionBuilder, d: Descriptor, signed: boolean, p: RowParams, otherwise: () => void): void {
  const y = f.local('i32');
  const rowStart = f.local('i32');
  const pixelStep = f.local('i32');
  const lastPixel = f.local('i32');
  const px = f.local('i32');
  const c = f.local('i32');
  const lastChunk = f.local('i32');
  const to = f.local('i32');
  const pixels = Array.from({ length: 4 }, () => f.local('i32'));
  const v = Array.from({ length: 4 }, () => f.local('v128'));
  const offset = f.local('v128');
  const widen = signed ? 'v128.load8x8_s' : 'v128.load8x8_u';
  const lo32 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const hi32 = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
  const lo64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const hi64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  if (PIXELS !== 4) throw new Error('the pointwise patches transpose blocks of 4 pixels');
  f.get(p.row).get(d.strideH).op('i32.mul').get(p.padTop).op('i32.sub').set(y);
  f.get(d.filterHeight).i32(1).op('i32.eq');
  f.get(d.run).get(d.depth).op('i32.eq', 'i32.and');
  f.get(d.depth).i32(8).op('i32.ge_s', 'i32.and');
  f.get(p.padLeft).op('i32.eqz', 'i32.and');
  f.get(y).get(p.inHeight).op('i32.lt_u', 'i32.and');
  f.get(d.outWidth).i32(1).op('i32.sub').get(d.strideW).op('i32.mul').get(p.inWidth).op('i32.lt_s', 'i32.and');
  f.if(() => {
    f.get(d.inputOffset).op('i16x8.splat').set(offset);
    f.get(p.input).get(y).get(p.inputRows).op('i32.rem_u').get(p.inWidth).get(d.depth).op('i32.mul', 'i32.mul', 'i32.add').set(rowStart);
    f.get(d.strideW).get(d.depth).op('i32.mul').set(pixelStep);
    f.get(rowStart).get(d.outWidth).i32(1).op('i32.sub').get(pixelStep).op('i32.mul', 'i32.add').set(lastPixel);
    f.get(d.depth).i32(8).op('i32.sub').set(lastChunk);
    f.get(d.patches).set(to);
    // Channels c .. c + 7 of the block's four pixels to pairs c/2 .. c/2 + 3: pair j of pixel p at 16j + 4p.
    const chunk = () => {
      v.forEach((vp, k) => f.get(pixels[k]).get(c).op('i32.add').mem(widen).get(offset).op('i16x8.add').set(vp));
      f.get(v[0]).get(v[1]).shuffle(lo32).get(v[0]).get(v[1]).shuffle(hi32);
      f.get(v[2]).get(v[3]).shuffle(lo32).get(v[2]).get(v[3]).shuffle(hi32).set(v[3]).set(v[2]).set(v[1]).set(v[0]);
      const at = () => f.get(to).get(c).i32(3).op('i32.shl', 'i32.add');
      at();
      f.get(v[0]).get(v[2]).shuffle(lo64).mem('v128.store', 0);
      at();
      f.get(v[0]).get(v[2]).shuffle(hi64).mem('v128.store', 16);
      at();
      f.get(v[1]).get(v[3]).shuffle(lo64).mem('v128.store', 32);
      at();
      f.get(v[1]).get(v[3]).shuffle(hi64).mem('v128.store', 48);
    };
    f.forLoop(px, () => f.i32(0), () => f.get(d.outWidth), PIXELS, () => {
      // The last block's missing pixels read the row's last pixel (their lanes are not used).
      pixels.forEach((a, k) => {
        f.get(rowStart).get(px).i32(k).op('i32.add').get(pixelStep).op('i32.mul', 'i32.add').tee(a);
        f.get(lastPixel).get(a).get(lastPixel).op('i32.lt_u', 'select').set(a);
      });
      f.i32(0).set(c);
      f.block(() => f.loop(() => {
        f.get(c).get(lastChunk).op('i32.ge_s').brIf(1);
        chunk();
        f.get(c).i32(8).op('i32.add').set(c);
        f.br(0);
      }));
      f.get(lastChunk).set(c);
      chunk();
      f.get(to).get(d.pairs).i32(PAIR_BYTES).op('i32.mul', 'i32.add').set(to);
    });
  }, otherwise);
}

/**
 * Writes the row's blocks of patches. Per filter row: the input row, as int16 X = x + inputOffset with zeros for
 * the padding columns (all zeros for a row outside the input), goes to the row buffer; then every pixel's run of
 * taps is copied from there into its lane of its block, a pair of taps (4 bytes) at a time.
 */
function emitPatches(f: FunctionBuilder, d: Descriptor, signed: boolean, p: RowParams): void {
  const fy = f.local('i32');
  const ox = f.local('i32');
  const y = f.local('i32');
  const lead = f.local('i32');
  const columns = f.local('i32');
  const count = f.local('i32');
  const from = f.local('i32');
  const to = f.local('i32');
  const last = f.local('i32');
  const runStart = f.local('i32');
  const pixelStep = f.local('i32');
  const blockBytes = f.local('i32');
  const offset = f.local('v128');
  const zero = f.local('v128');
  const v = f.local('v128');
  f.get(d.inputOffset).op('i16x8.splat').set(offset);
  f.get(d.pairs).i32(PAIR_BYTES).op('i32.mul').set(blockBytes);
  f.get(d.strideW).get(d.depth).op('i32.mul').i32(1).op('i32.shl').set(pixelStep);
  // Columns of the row buffer: `lead` of left padding, then `columns` input columns, then right padding.
  const min = (a: () => void, b: () => void) => {
    a(); b(); a(); b();
    f.op('i32.lt_s', 'select');
  };
  min(() => f.get(p.padLeft), () => f.get(d.rowBufferWidth));
  f.set(lead);
  min(() => f.get(p.inWidth), () => f.get(d.rowBufferWidth).get(lead).op('i32.sub'));
  f.set(columns);

  const zeros = (start: () => void, elements: () => void) => {
    start();
    f.set(to);
    elements();
    f.set(count);
    emitChunks(f, count, from, to, last, 8, 0, 2, () => f.get(to).get(zero).mem('v128.store'), () => f.get(to).i32(0).mem('i32.store16'));
  };

  f.forLoop(fy, () => f.i32(0), () => f.get(d.filterHeight), 1, () => {
    f.get(p.row).get(d.strideH).op('i32.mul').get(p.padTop).op('i32.sub').get(fy).op('i32.add').set(y);
    f.get(y).get(p.inHeight).op('i32.lt_u').if(() => {
      zeros(() => f.get(d.rowBuffer), () => f.get(lead).get(d.depth).op('i32.mul'));
      f.get(p.input).get(y).get(p.inputRows).op('i32.rem_u').get(p.inWidth).get(d.depth).op('i32.mul', 'i32.mul', 'i32.add').set(from);
      f.get(columns).get(d.depth).op('i32.mul').set(count);
      const widen = signed ? 'v128.load8x8_s' : 'v128.load8x8_u';
      emitChunks(f, count, from, to, last, 8, 1, 2,
        () => f.get(to).get(from).mem(widen).get(offset).op('i16x8.add').mem('v128.store'),
        () => f.get(to).get(from).mem(signed ? 'i32.load8_s' : 'i32.load8_u').get(d.inputOffset).op('i32.add').mem('i32.store16'));
      zeros(() => f.get(to), () => f.get(d.rowBufferWidth).get(lead).op('i32.sub').get(columns).op('i32.sub').get(d.depth).op('i32.mul'));
    }, () => {
      zeros(() => f.get(d.rowBuffer), () => f.get(d.rowBufferWidth).get(d.depth).op('i32.mul'));
    });

    // Pixel ox's run: from the row buffer at column ox · strideW, to pair fy · run / 2 of its lane.
    f.get(d.patches).get(fy).get(d.run).op('i32.mul').i32(PAIR_BYTES / 2).op('i32.mul', 'i32.add').set(runStart);
    f.forLoop(ox, () => f.i32(0), () => f.get(d.outWidth), 1, () => {
      f.get(d.rowBuffer).get(ox).get(pixelStep).op('i32.mul', 'i32.add').set(from);
      f.get(runStart).get(ox).i32(Math.log2(PIXELS)).op('i32.shr_u').get(blockBytes).op('i32.mul', 'i32.add');
      f.get(ox).i32(PIXELS - 1).op('i32.and').i32(4).op('i32.mul', 'i32.add').set(to);
      // By pairs of taps: a vector holds 4, for 4 pairs of the block PAIR_BYTES apart.
      f.get(d.run).i32(1).op('i32.shr_u').set(count);
      emitChunks(f, count, from, to, last, 4, 4, PAIR_BYTES, () => {
        f.get(from).mem('v128.load').set(v);
        for (let lane = 0; lane < 4; lane++) f.get(to).get(v).storeLane('v128.store32_lane', lane, lane * PAIR_BYTES);
      }, () => f.get(to).get(from).mem('i32.load').mem('i32.store'));
    });
  });
}

/**
 * The product of the row's patches and the weights, requantized and stored at `output`. Full blocks of PIXELS
 * pixels, then the row's last one to PIXELS - 1 pixels as a block of that many (the others' lanes of the patches
 * block are not read): 7 or 14 pixels a row would waste an eighth of the work on a padding pixel otherwise.
 */
function emitProduct(f: FunctionBuilder, d: Descriptor, signed: boolean, form: 'right' | 'any', output: Local): void {
  const group = f.local('i32');
  const groupWeights = f.local('i32');
  const groupBytes = f.local('i32');
  const weightsEnd = f.local('i32');
  const w = f.local('i32');
  const x = f.local('i32');
  const px = f.local('i32');
  const channel = f.local('i32');
  const out = f.local('i32');
  const tableGroup = f.local('i32');
  const bias = Array.from({ length: BLOCKS }, () => f.local('v128'));
  const acc = Array.from({ length: PIXELS }, () => Array.from({ length: BLOCKS }, () => f.local('v128')));
  const weight = Array.from({ length: BLOCKS }, () => f.local('v128'));
  const pair = f.local('v128');
  const half = f.local('v128');
  const quads = Array.from({ length: BLOCKS }, () => f.local('v128'));
  emitHalfConstant(f, half);
  const narrow8 = signed ? 'i8x16.narrow_i16x8_s' : 'i8x16.narrow_i16x8_u';
  const size = weightBytes(signed);
  const recordBytes = clampShiftVectors(form) * 16;

  // Pixels px .. px + pixels - 1 of the group; `x` walks through their block of patches to the next block.
  const block = (pixels: number) => {
    const accs = acc.slice(0, pixels);
    accs.forEach((row) => row.forEach((a, b) => f.get(bias[b]).set(a)));
    f.get(groupWeights).set(w);
    // One pair of taps a step: pixels · BLOCKS dot products.
    f.loop(() => {
      weight.forEach((wb, b) => f.get(w).mem(size === 1 ? 'v128.load8x8_s' : 'v128.load', 8 * size * b).set(wb));
      accs.forEach((row, p) => {
        f.get(x).mem('v128.load32_splat', 4 * p).set(pair);
        row.forEach((a, b) => f.get(a).get(pair).get(weight[b]).op('i32x4.dot_i16x8_s', 'i32x4.add').set(a));
      });
      f.get(x).i32(PAIR_BYTES).op('i32.add').set(x);
      f.get(w).i32(8 * size * BLOCKS).op('i32.add').tee(w).get(weightsEnd).op('i32.lt_u').brIf(0);
    });
    f.get(output).get(px).get(d.outDepth).op('i32.mul', 'i32.add').get(channel).op('i32.add').set(out);
    for (const row of accs) {
      row.forEach((a, b) => {
        // Channels channel + 4b ...: record (channel + 4b) / 4 of the table.
        f.get(d.table).get(channel).i32(recordBytes / 4).op('i32.mul', 'i32.add');
        f.i32(CLAMP_SHIFT_HEADER_BYTES + b * recordBytes).op('i32.add').set(tableGroup);
        emitClampShift(f, form, a, (v) => f.get(tableGroup).mem('v128.load', 16 * v), () => f.get(d.table).mem('v128.load'), half);
        f.set(quads[b]);
      });
      emitNarrowStore(f, quads, narrow8, out, channel, d.outDepth);
      f.get(out).get(d.outDepth).op('i32.add').set(out);
    }
    f.get(px).i32(pixels).op('i32.add').set(px);
  };

  f.get(d.pairs).i32(2 * size * GROUP).op('i32.mul').set(groupBytes);
  f.forLoop(group, () => f.i32(0), () => f.get(d.groups), 1, () => {
    f.get(group).i32(GROUP).op('i32.mul').set(channel);
    f.get(d.weights).get(group).get(groupBytes).op('i32.mul', 'i32.add').tee(groupWeights).get(groupBytes).op('i32.add').set(weightsEnd);
    bias.forEach((b, k) => f.get(d.bias).get(channel).i32(2).op('i32.shl', 'i32.add').mem('v128.load', 16 * k).set(b));
    f.get(d.patches).set(x);
    f.i32(0).set(px);
    f.block(() => f.loop(() => {
      f.get(px).i32(PIXELS).op('i32.add').get(d.outWidth).op('i32.gt_s').brIf(1);
      block(PIXELS);
      f.br(0);
    }));
    for (let pixels = 1; pixels < PIXELS; pixels++) {
      f.get(d.outWidth).get(px).op('i32.sub').i32(pixels).op('i32.eq').if(() => block(pixels));
    }
  });
}

/**
 * Narrows the requantized quads (int32, already within the output type's range: exact) to bytes and stores the
 * channels of the group that exist: all GROUP at once, or, in the last group of a layer, byte by byte.
 */
function emitNarrowStore(
  f: FunctionBuilder, quads: Local[], narrow8: 'i8x16.narrow_i16x8_s' | 'i8x16.narrow_i16x8_u', out: Local,
  channel: Local, outDepth: Local,
): void {
  // int32 quads to int16 halves (pairs of quads) to bytes.
  const halves = [0, 2].filter((q) => q < BLOCKS).map((q) => {
    f.get(quads[q]).get(quads[Math.min(q + 1, BLOCKS - 1)]).op('i16x8.narrow_i32x4_s').set(quads[q]);
    return quads[q];
  });
  const bytes = quads[0];
  f.get(halves[0]).get(halves[halves.length - 1]).op(narrow8).set(bytes);
  f.get(channel).i32(GROUP).op('i32.add').get(outDepth).op('i32.le_s').if(() => {
    if (GROUP === 16) f.get(out).get(bytes).mem('v128.store');
    else if (GROUP >= 8) f.get(out).get(bytes).storeLane('v128.store64_lane', 0);
    if (GROUP === 4 || GROUP === 12) f.get(out).get(bytes).storeLane('v128.store32_lane', GROUP === 4 ? 0 : 2, GROUP - 4);
  }, () => {
    for (let lane = 0; lane < GROUP; lane++) {
      f.get(channel).i32(lane).op('i32.add').get(outDepth).op('i32.lt_s').if(() => {
        f.get(out).get(bytes).storeLane('v128.store8_lane', lane, lane);
      });
    }
  });
}
