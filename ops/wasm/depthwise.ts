// DEPTHWISE_CONV_2D in WebAssembly SIMD for 3x3 and 5x5 filters, stride 1 or 2, any depth multiplier, no
// dilation, int8 (per-channel) and uint8 (per-tensor, with a filter zero point): the depthwise layers of MobileNets
// v1 to v3. Byte for byte the result of depthwiseQuantizedRow in ops/depthwise-conv2d.ts (TFLM's
// reference_integer_ops and TFLite's reference uint8 depthwise convolution, double rounding).
//
// Lanes are output channels, four to a vector (a "group"). TFLM sums W·(x + inputOffset), W = w + filterOffset,
// over the taps inside the input in int32 and adds the bias; i32x4 lanes wrap as its int32 accumulator does, in any
// order. Here every tap multiplies the raw input value, and a tap outside the input reads the input zero point,
// -inputOffset: it adds W·(zp + inputOffset) = 0, as TFLM's skipped tap adds nothing, and inputOffset·(sum of the
// channel's W) is a constant folded into the bias. So the kernel has no border checks and no offset to add.
//
// Each input row the layer reads is converted once into a scratch row of int16 values, one lane per output channel
// (an input channel's value repeated for each of its depth multiplier's outputs): column pairs for
// i32x4.dot_i16x8_s, which multiplies and adds two taps per channel lane. Pair k holds, per channel, (x[j], x[j+1])
// for padded column j = k·stride. Output pixel ox takes the columns 2i and 2i + 1 of a filter row from pair
// ox + i·2/stride, the last column of an odd filter meeting a zero weight: six dot products for nine taps, fifteen
// for twenty-five. Stride 2 needs only the even columns' pairs, stride 1 all of them. A scratch row is group-major
// (a group's pairs are consecutive 16-byte vectors), so the kernel runs one group along the whole row with its
// weights and requantization constants in locals, four pixels a step. Consecutive output rows share input rows
// (all but one or two), so the last converted rows are kept by row index: see simdDepthwiseRow. The rows live in
// scratch memory that all depthwise layers share (SimdMemory.scratch), so a layer keeps them only while no other
// layer's call came between (two layers fused row by row take turns).
//
// Requantization, TFLM's MultiplyByQuantizedMultiplier (double rounding) then the activation's clamp and the output
// offset, is requantize.ts's clamp-then-shift form, exact for right shifts up to 22 (multipliers from 2^-23 up;
// prepare declines the others), in registers. The compact form of this file is its 'folded' variant, for the usual
// layer (every channel shifting right, and |bias| + 255·(sum of |W|) < 2^30, so twice the sum fits int32 whatever
// the input): the weights are doubled, the bias is folded into the product's rounding term, five operations fewer
// than the 'any' variant, which the other layers run with the bias added.
import type { FunctionBuilder, Local, ModuleBuilder, ValueType } from '../../src/wasm/assembler.js';
import type { ModelOperator, ModelTensor } from '../../src/model.js';
import { allocBound, type MemoryBound, type SharedScratch, type SimdMemory, type WasmKernelModule } from '../../src/wasm/runtime.js';
import type { FastKernelWeights, QuantizedArray, WindowData } from '../conv-common.js';
import {
  addClampShiftTableFunctions, CLAMP_SHIFT_HEADER_BYTES, CLAMP_SHIFT_INPUT_BYTES, clampShiftForm, clampShiftVectors, emitClampShift, emitHalfConstant, writeClampShiftTable, type ClampShiftForm,
} from './requantize.js';

/** Filter sizes (square) the kernel is built for. */
const SIZES = [3, 5];

/**
 * The layer's constants in SIMD memory: requantize.ts's clamp-then-shift table ('folded' or 'any'), whose record
 * for each group of four channels goes on with these vectors: the bias ('any'), then per filter row the int16
 * weights of its column pairs (0, 1), (2, 3) ... with a zero after the last column, in each channel's lane.
 */
const REQUANTIZATION = clampShiftVectors('any');
const BIAS = REQUANTIZATION;
const WEIGHTS = BIAS + 1;

/** Column pairs of a filter row of `size` columns. */
const pairsOf = (size: number) => Math.ceil(size / 2);
/** Vectors of a group's constants for a filter of `size` by `size`. */
const groupVectors = (size: number) => WEIGHTS + size * pairsOf(size);

/** The scratch's first bytes: `pin` (see emitDepthwise); the converted rows' slots follow. */
const PIN_BYTES = 16;
/** What a slot holds (slotRows): nothing, or a row of zero points, which rows above and below the input read. */
const EMPTY = -1;
const PADDING_ROW = -2;

/**
 * The layer's sizes in SIMD memory (prepareSimdDepthwise, depthwiseKernels.memoryBound): output pixel ox reads
 * pairs ox + i·2/stride, i < pairsOf(size), so a converted row holds `pairs` pairs per group; groups a multiple of
 * 256 bytes apart put the conversion's stores to sixteen groups 4 KiB apart, which the cache takes badly (twice the
 * time at 14x14x576, measured): one pair more then.
 */
function depthwiseLayout(size: number, channels: number, inDepth: number, outWidth: number, stride: number) {
  const groups = Math.ceil(channels / 4);
  const pairs = outWidth + ((pairsOf(size) - 1) * 2) / stride;
  const groupBytes = (pairs + (pairs % 16 === 0 ? 1 : 0)) * 16;
  const rowBytes = groups * groupBytes;
  const recordBytes = groupVectors(size) * 16;
  const records = CLAMP_SHIFT_HEADER_BYTES + groups * recordBytes;
  return {
    groups, pairs, groupBytes, rowBytes, recordBytes,
    /**
     * Behind the records: first the filter's copy for pack_weights (which reads 3 bytes past it), then the
     * requantization table's inputs (writeClampShiftTable).
     */
    filterCopy: records,
    paramsBytes: records + Math.max(size * size * channels + 3, CLAMP_SHIFT_INPUT_BYTES * channels),
    /** The zero point once per input channel, at least 8 times. */
    paddingBytes: Math.max(inDepth, 8),
    scratchBytes: PIN_BYTES + size * rowBytes,
  };
}

type ConvertRow = (
  src: number, width: number, channels: number, padLeft: number, pairs: number, dst: number, padding: number,
  groupBytes: number, multiplier: number,
) => void;
type DepthwiseRow = (
  groupBytes: number, params: number, out: number, outWidth: number, channels: number, pin: number,
  ...rows: number[]
) => void;

/** The module's functions: `convert_s1_int8`, `depthwise3x3_s2_compact`, ... */
type Kernels = Record<string, (...args: number[]) => void>;

/** The filter is [1, filterHeight, filterWidth, output channels]; its type is the input's and the output's. */
export interface SimdDepthwiseSource extends WindowData, FastKernelWeights {
  depthMultiplier: number;
}

export interface SimdDepthwise {
  /** Filter rows and columns. */
  size: number;
  channels: number;
  /** Output channels per input channel. */
  multiplier: number;
  stride: number;
  /** Column pairs a converted row holds per group, the bytes from one group's pairs to the next group's, and a
   * converted row's bytes. */
  pairs: number;
  groupBytes: number;
  rowBytes: number;
  convertRow: ConvertRow;
  row: DepthwiseRow;
  /** Whether the layer runs the compact form of requantization (see the file's comment). */
  compact: boolean;
  /** Byte addresses in SIMD memory: the layer's constants; the zero point once per input channel (at least 8
   * times), which columns left and right of the input read. */
  params: number;
  padding: number;
  /** The depthwise layers' shared scratch: `pin`, then `size` slots of converted rows. */
  scratch: SharedScratch;
  /** What each slot holds: an input row, PADDING_ROW or EMPTY; valid while the scratch's owner is this layer. */
  slotRows: Int32Array;
  /** Where the last call read its input, the window it had, and which output row it computed. */
  lastInput: number;
  lastInputRows: number;
  lastWindow: WindowData | null;
  lastRow: number;
  /** This row's converted rows, top to bottom. */
  taps: Int32Array;
}

/**
 * The SIMD kernel of a layer it handles (3x3 or 5x5, no dilation, stride 1 or 2, double rounding, right shifts up
 * to 22), else null. Places the layer's constants in `simd`, and asks for its share of the scratch.
 */
export function prepareSimdDepthwise(simd: SimdMemory, s: SimdDepthwiseSource): SimdDepthwise | null {
  const { filterHeight: K, outDepth: C, strideW: stride, filter, filterOffset, inputOffset, stage } = s;
  const fits = SIZES.includes(K) && s.filterWidth === K && s.dilationH === 1 && s.dilationW === 1 &&
    s.strideW === s.strideH && (stride === 1 || stride === 2);
  // Double rounding and right shifts up to CLAMP_SHIFT_MAX_RIGHT; 'right' when every shift is a right shift.
  const shifts = clampShiftForm(stage, C);
  if (!fits || !shifts) return null;
  const taps = K * K;
  // The compact form needs right shifts and |bias| + 255·(sum of |W|) < 2^30, the bias including the input offset's
  // share: taking 255 for every |W| and for |inputOffset|, that holds when the model's bias is below
  // 2^30 - 2·255·255·taps. (Loops, not Array.every: thousands of channels at every load.)
  let compact = shifts === 'right';
  for (let c = 0; compact && s.bias && c < C; c++) compact = Math.abs(s.bias[c]) < 2 ** 30 - 2 * 255 * 255 * taps;

  // The constants, straight into SIMD memory. The weights are packed by pack_weights (WebAssembly: a JS loop runs
  // slowly until the JIT has warmed to it, in the first loads of a process) from a copy of the filter behind the
  // records; it leaves the sum of each channel's weights (W = w + filterOffset) in its bias lane.
  const layout = depthwiseLayout(K, C, s.inDepth, s.outWidth, stride);
  const { recordBytes } = layout;
  const params = simd.alloc(layout.paramsBytes);
  const records = params + CLAMP_SHIFT_HEADER_BYTES;
  const filterCopy = params + layout.filterCopy;
  simd.bytes().set(new Uint8Array(filter.buffer, filter.byteOffset, taps * C), filterCopy);
  const kernels = simd.exports<Kernels>(depthwiseKernels);
  const type = filter instanceof Int8Array ? 'int8' : 'uint8';
  kernels[`pack_weights_${type}`](filterCopy, K, C, filterOffset, compact ? 2 : 1, records, recordBytes);

  // The bias with the input offset's share, exact (TFLM's int32 sum wraps it, and so do the 'any' form's lanes):
  // folded into the requantization, or in its own vector.
  const bias = new Float64Array(C);
  const words = simd.int32s();
  const biasWords = (records + BIAS * 16) >>> 2;
  for (let c = 0; c < C; c++) {
    const lane = biasWords + (c >> 2) * (recordBytes >>> 2) + (c & 3);
    bias[c] = (s.bias ? s.bias[c] : 0) + inputOffset * words[lane];
    if (!compact) words[lane] = bias[c];
  }
  const form: ClampShiftForm = compact ? 'folded' : 'any';
  writeClampShiftTable(simd, depthwiseKernels, params, recordBytes, stage, form, C, layout.groups, bias);
  const padding = simd.alloc(layout.paddingBytes);
  simd.bytes().fill(-inputOffset & 0xff, padding, padding + layout.paddingBytes);

  return {
    size: K, channels: C, multiplier: s.depthMultiplier, stride,
    pairs: layout.pairs, groupBytes: layout.groupBytes, rowBytes: layout.rowBytes,
    convertRow: kernels[`convert_s${stride}_${type}`],
    row: kernels[`depthwise${K}x${K}_s${stride}${compact ? '_compact' : ''}`],
    compact, params, padding,
    scratch: simd.scratch(depthwiseKernels, layout.scratchBytes),
    slotRows: new Int32Array(K).fill(EMPTY),
    lastInput: -1, lastInputRows: -1, lastWindow: null, lastRow: -1,
    taps: new Int32Array(Math.max(...SIZES)),
  };
}

/**
 * RowEvaluation.evalRow for such a layer, with its (possibly PAD-folded) window `d`: output row `row` into
 * `output` from element `outputStart`; input row y at element inputStart + (y mod inputRows) · inWidth · inDepth.
 * Both views must lie in the SimdMemory the kernel was prepared on.
 *
 * Converted rows are reused only from the previous call, and only when that call was this layer's (no other
 * layer used the shared slots since) and computed row - 1 of the same pass (same input address, ring size and
 * window): then every row both windows read was already written when the previous call read it and is still in
 * place, in a ring of at least the window's rows as in a whole tensor or one computed in place (a row is
 * overwritten only once no later output row reads it). A new pass starts at output row 0, or at another address,
 * and finds nothing cached. All input rows are read before any output is written, so the output may overwrite
 * input rows no later call reads. Rows above and below the input read a row of zero points, converted into a
 * slot as the input rows are.
 */
export function simdDepthwiseRow(
  dw: SimdDepthwise,
  d: WindowData,
  input: QuantizedArray,
  inputStart: number,
  inputRows: number,
  output: QuantizedArray,
  outputStart: number,
  row: number,
): void {
  const { size: K, channels: C, scratch, slotRows, taps } = dw;
  const inputAddress = input.byteOffset + inputStart;
  const samePass = scratch.owner === dw && row === dw.lastRow + 1 && inputAddress === dw.lastInput &&
    inputRows === dw.lastInputRows && d === dw.lastWindow;
  if (!samePass) {
    slotRows.fill(EMPTY);
    scratch.owner = dw;
    dw.lastInput = inputAddress;
    dw.lastInputRows = inputRows;
    dw.lastWindow = d;
  }
  dw.lastRow = row;
  const top = row * dw.stride - d.padTop;
  const readsPadding = top < 0 || top + K > d.inHeight;
  const slots = scratch.address + PIN_BYTES;
  for (let fy = 0; fy < K; fy++) {
    const y = top + fy;
    const content = y < 0 || y >= d.inHeight ? PADDING_ROW : y;
    let slot = slotRows.indexOf(content);
    if (slot < 0) {
      // A slot holding nothing this window reads: K slots, at most K different rows.
      slot = 0;
      for (;; slot++) {
        const held = slotRows[slot];
        if (held === EMPTY || (held === PADDING_ROW ? !readsPadding : held < top || held >= top + K)) break;
      }
      slotRows[slot] = content;
      const { pairs, padding, groupBytes, multiplier } = dw;
      const at = slots + slot * dw.rowBytes;
      if (content === PADDING_ROW) dw.convertRow(padding, 0, d.inDepth, 0, pairs, at, padding, groupBytes, multiplier);
      else {
        const source = inputAddress + (y % inputRows) * d.inWidth * d.inDepth;
        dw.convertRow(source, d.inWidth, d.inDepth, d.padLeft, pairs, at, padding, groupBytes, multiplier);
      }
    }
    taps[fy] = slots + slot * dw.rowBytes;
  }
  // Rows past the filter's are extra arguments, which WebAssembly ignores.
  dw.row(
    dw.groupBytes, dw.params, output.byteOffset + outputStart, d.outWidth, C, scratch.address, taps[0], taps[1],
    taps[2], taps[3], taps[4],
  );
}

export const depthwiseKernels: WasmKernelModule = {
  name: 'ops/wasm/depthwise.ts',
  emit(m: ModuleBuilder) {
    const i32 = (n: number) => new Array<ValueType>(n).fill('i32');
    for (const signed of [true, false]) {
      m.addFunction(`pack_weights_${signed ? 'int8' : 'uint8'}`, i32(7), [], (f) => emitPackWeights(f, signed));
    }
    addClampShiftTableFunctions(m);
    for (const stride of [1, 2]) {
      for (const signed of [true, false]) {
        const name = `convert_s${stride}_${signed ? 'int8' : 'uint8'}`;
        m.addFunction(name, i32(9), [], (f) => emitConvert(f, stride, signed));
      }
      for (const size of SIZES) {
        for (const compact of [false, true]) {
          m.addFunction(`depthwise${size}x${size}_s${stride}${compact ? '_compact' : ''}`, i32(6 + size), [], (f) =>
            emitDepthwise(f, size, stride, compact));
        }
      }
    }
  },
  memoryBound(op: ModelOperator, tensors: readonly ModelTensor[]): MemoryBound {
    const [input, filter] = op.inputs.map((i) => (i >= 0 ? tensors[i] : null));
    const output = tensors[op.outputs[0]];
    const shapes = [input?.shape, filter?.shape, output?.shape];
    if (!shapes.every((shape) => shape?.length === 4)) return { placed: 0, scratch: 0 };
    // Stride 1 reads the most pairs.
    const layout = depthwiseLayout(filter!.shape[1], filter!.shape[3], input!.shape[3], output.shape[2], 1);
    return { placed: allocBound(layout.paramsBytes) + allocBound(layout.paddingBytes), scratch: layout.scratchBytes };
  },
};

/**
 * pack_weights(filter, size, channels, filterOffset, scale, records, recordBytes): from the filter's bytes at
 * `filter` ([size, size, channels]), each weight W = w + filterOffset, times `scale`, as int16 into its lane of its
 * pair's vector in the group records at `records`, `recordBytes` apart (see prepareSimdDepthwise); and each
 * channel's sum of W (not scaled) into its lane of the bias vector. Four channels a step: the last group's
 * padding lanes read the bytes after its channels (up to 3 past the filter) and get values nothing uses.
 */
function emitPackWeights(f: FunctionBuilder, signed: boolean): void {
  const [filter, size, channels, filterOffset, scale, records, recordBytes] = f.params;
  const [c, record, fy, pair, column, pairsPerRow] = Array.from({ length: 6 }, () => f.local('i32'));
  const [offset, scales, sum, even, odd] = Array.from({ length: 5 }, () => f.local('v128'));
  const extend = signed ? 'i16x8.extend_low_i8x16_s' : 'i16x8.extend_low_i8x16_u';
  f.get(size).i32(1).op('i32.add').i32(1).op('i32.shr_u').set(pairsPerRow);
  f.get(filterOffset).op('i16x8.splat').set(offset);
  f.get(scale).op('i16x8.splat').set(scales);
  // The four channels' W of filter column `column` of row fy, as int16 in the low lanes.
  const weights = () => {
    f.get(filter).get(fy).get(size).op('i32.mul').get(column).op('i32.add').get(channels).op('i32.mul', 'i32.add');
    f.get(c).op('i32.add').mem('v128.load32_zero').op(extend).get(offset).op('i16x8.add');
  };
  f.forLoop(c, () => f.i32(0), () => f.get(channels), 4, () => {
    f.get(records).get(c).i32(2).op('i32.shr_u').get(recordBytes).op('i32.mul', 'i32.add').set(record);
    f.i32(0).op('i32x4.splat').set(sum);
    f.forLoop(fy, () => f.i32(0), () => f.get(size), 1, () => {
      f.forLoop(pair, () => f.i32(0), () => f.get(pairsPerRow), 1, () => {
        // Columns 2·pair and 2·pair + 1 (a zero weight past the row's last column).
        f.get(pair).i32(1).op('i32.shl').set(column);
        weights();
        f.set(even);
        f.i32(0).op('i32x4.splat').set(odd);
        f.get(column).i32(1).op('i32.add').tee(column).get(size).op('i32.lt_s').if(() => {
          weights();
          f.set(odd);
        });
        f.get(sum).get(even).op('i32x4.extend_low_i16x8_s', 'i32x4.add').get(odd).op('i32x4.extend_low_i16x8_s', 'i32x4.add').set(sum);
        f.get(record).i32(WEIGHTS).get(fy).get(pairsPerRow).op('i32.mul', 'i32.add').get(pair).op('i32.add');
        f.i32(4).op('i32.shl', 'i32.add');
        f.get(even).get(odd).shuffle(INTERLEAVE_LOW).get(scales).op('i16x8.mul').mem('v128.store');
      });
    });
    f.get(record).get(sum).mem('v128.store', BIAS * 16);
  });
}

/**
 * convert(src, width, channels, padLeft, pairs, dst, padding, groupBytes, multiplier): for k < pairs and output
 * channel c (input channel c / multiplier), writes at dst + (c >> 2)·groupBytes + k·16 + (c & 3)·4 the int16 pair
 * (x[j], x[j+1]), j = k·stride, where x[j] is the input value of column j - padLeft, or the zero point (from
 * `padding`) outside [0, width). Reads only the input row's bytes: channels go sixteen at a time, then eight,
 * four, and one by one; with a depth multiplier, one by one.
 */
function emitConvert(f: FunctionBuilder, stride: number, signed: boolean): void {
  const [src, width, channels, padLeft, pairs, dst, padding, groupBytes, multiplier] = f.params;
  const k = f.local('i32');
  const m = f.local('i32');
  const value = f.local('i32');
  const c = f.local('i32');
  const out = f.local('i32');
  const column = f.local('i32');
  const sources = [f.local('i32'), f.local('i32')];
  const columns = [f.local('v128'), f.local('v128'), f.local('v128'), f.local('v128')];
  const load8x8 = signed ? 'v128.load8x8_s' : 'v128.load8x8_u';
  const load8 = signed ? 'i32.load8_s' : 'i32.load8_u';
  const extend = signed ? 'i16x8.extend_low_i8x16_s' : 'i16x8.extend_low_i8x16_u';
  // Stores `vector` in group `g` from out's.
  const store = (g: number, vector: () => void) => {
    f.get(out);
    for (let i = 0; i < g; i++) f.get(groupBytes).op('i32.add');
    vector();
    f.mem('v128.store');
  };
  // Channels c .. c + 8·n - 1 of the two columns, interleaved into 2·n groups.
  const chunk = (n: number) => {
    for (let i = 0; i < n; i++) {
      for (let side = 0; side < 2; side++) {
        f.get(sources[side]).get(c).op('i32.add').mem(load8x8, 8 * i).set(columns[2 * i + side]);
      }
    }
    for (let i = 0; i < n; i++) {
      store(2 * i, () => f.get(columns[2 * i]).get(columns[2 * i + 1]).shuffle(INTERLEAVE_LOW));
      store(2 * i + 1, () => f.get(columns[2 * i]).get(columns[2 * i + 1]).shuffle(INTERLEAVE_HIGH));
    }
    f.get(out).get(groupBytes).i32(2 * n).op('i32.mul', 'i32.add').set(out);
    f.get(c).i32(8 * n).op('i32.add').set(c);
  };
  f.forLoop(k, () => f.i32(0), () => f.get(pairs), 1, () => {
    // The two columns' addresses: the input pixel, or the zero points.
    for (let side = 0; side < 2; side++) {
      f.get(k).i32(stride).op('i32.mul').get(padLeft).op('i32.sub').i32(side).op('i32.add').set(column);
      f.get(src).get(column).get(channels).op('i32.mul', 'i32.add').get(padding);
      f.get(column).get(width).op('i32.lt_u', 'select').set(sources[side]);
    }
    f.get(dst).get(k).i32(4).op('i32.shl', 'i32.add').set(out);
    f.get(multiplier).i32(1).op('i32.ne').if(() => {
      // Each input channel's value in its `multiplier` output channels' lanes.
      f.forLoop(c, () => f.i32(0), () => f.get(channels), 1, () => {
        for (let side = 0; side < 2; side++) {
          f.get(sources[side]).get(c).op('i32.add').mem(load8).set(value);
          const first = () => f.get(c).get(multiplier).op('i32.mul');
          const end = () => f.get(c).i32(1).op('i32.add').get(multiplier).op('i32.mul');
          f.forLoop(m, first, end, 1, () => {
            f.get(dst).get(m).i32(2).op('i32.shr_u').get(groupBytes).op('i32.mul', 'i32.add');
            f.get(k).i32(4).op('i32.shl', 'i32.add').get(m).i32(3).op('i32.and').i32(2).op('i32.shl', 'i32.add');
            f.get(value).mem('i32.store16', 2 * side);
          });
        }
      });
    }, () => {
      f.i32(0).set(c);
      f.block(() => f.loop(() => {
        f.get(c).i32(16).op('i32.add').get(channels).op('i32.gt_s').brIf(1);
        chunk(2);
        f.br(0);
      }));
      f.get(c).i32(8).op('i32.add').get(channels).op('i32.le_s').if(() => chunk(1));
      f.get(c).i32(4).op('i32.add').get(channels).op('i32.le_s').if(() => {
        for (let side = 0; side < 2; side++) {
          f.get(sources[side]).get(c).op('i32.add').mem('v128.load32_zero').op(extend).set(columns[side]);
        }
        store(0, () => f.get(columns[0]).get(columns[1]).shuffle(INTERLEAVE_LOW));
        f.get(out).get(groupBytes).op('i32.add').set(out);
        f.get(c).i32(4).op('i32.add').set(c);
      });
      // The last one to three channels, one by one, into their lanes of the last group.
      f.block(() => f.loop(() => {
        f.get(c).get(channels).op('i32.ge_s').brIf(1);
        for (let side = 0; side < 2; side++) {
          f.get(out).get(c).i32(3).op('i32.and').i32(2).op('i32.shl', 'i32.add');
          f.get(sources[side]).get(c).op('i32.add').mem(load8).mem('i32.store16', 2 * side);
        }
        f.get(c).i32(1).op('i32.add').set(c);
        f.br(0);
      }));
    });
  });
}

/** i16 lanes a0 b0 a1 b1 a2 b2 a3 b3, and a4 b4 ... a7 b7, of two i16x8 a and b. */
const INTERLEAVE_LOW = [0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23];
const INTERLEAVE_HIGH = INTERLEAVE_LOW.map((i) => i + 8);

/** Output pixels a step takes. */
const BLOCK = 4;

/**
 * depthwise(groupBytes, params, out, outWidth, channels, pin, row 0, row 1, ...): output pixels ox < outWidth,
 * channels c < channels, at out + ox·channels + c, from the scratch rows of the filter rows. Group by group;
 * each group four pixels a step, then one by one. Stores four bytes a pixel, or of the last group the channels it
 * has: nothing is stored past a pixel's channels.
 *
 * `pin` is 16 bytes of scratch memory. V8's optimizing compiler keeps memory operations in program order but
 * computes pure SIMD operations where their result is first needed: without a store between them, a step's loads
 * for all four pixels come first and their values spill. Storing each pixel's sum pins its arithmetic in place.
 */
function emitDepthwise(f: FunctionBuilder, size: number, stride: number, compact: boolean): void {
  const [groupBytes, params, out, outWidth, channels, pin, ...scratchRows] = f.params;
  const pairsPerRow = pairsOf(size);
  const vectors = groupVectors(size);
  const c = f.local('i32');
  const ox = f.local('i32');
  const o = f.local('i32');
  const group = f.local('i32');
  const lanes = f.local('i32');
  const rows = scratchRows.map(() => f.local('i32'));
  const constants: Local[] = [];
  for (let v = 0; v < vectors; v++) constants.push(f.local('v128'));
  const rounding = f.local('v128');
  const half = f.local('v128');
  const acc: Local[] = [];
  for (let p = 0; p < BLOCK; p++) acc.push(f.local('v128'));
  if (!compact) emitHalfConstant(f, half);
  f.get(params).mem('v128.load').set(rounding);
  const lowBytes = f.local('v128');
  f.v128(new Uint8Array(new Uint16Array(8).fill(0xff).buffer)).set(lowBytes);
  // Four i32x4 of output values, in the output type's range, to bytes: narrowing to i16 keeps them, then their
  // low bytes are the int8 or uint8 values alike (an unsigned narrowing of values masked to 0..255).
  const narrowBytes = (values: readonly Local[]) => {
    for (let i = 0; i < 4; i += 2) {
      f.get(values[i]).get(values[i + 1]).op('i16x8.narrow_i32x4_s').get(lowBytes).op('v128.and');
    }
    f.op('i8x16.narrow_i16x8_u');
  };
  // The pair for columns 2i, 2i + 1 is i times this many bytes after the pair for columns 0 and 1.
  const second = (2 / stride) * 16;
  const constant = (v: number) => f.get(constants[v]);

  // acc[p] for pixels ox + p, p < n: the dot products of each filter row's pairs, and in the 'any' form the bias.
  const accumulate = (n: number) => {
    for (let p = 0; p < n; p++) {
      if (!compact) constant(BIAS);
      for (let fy = 0; fy < size; fy++) {
        for (let pair = 0; pair < pairsPerRow; pair++) {
          f.get(rows[fy]).mem('v128.load', p * 16 + pair * second);
          constant(WEIGHTS + fy * pairsPerRow + pair).op('i32x4.dot_i16x8_s');
          if (!compact || fy + pair > 0) f.op('i32x4.add');
        }
      }
      f.set(acc[p]);
      f.get(pin).get(acc[p]).mem('v128.store');
    }
  };
  // acc[p] requantized, clamped and offset (see the file's comment), in place.
  const requantize = (p: number) => {
    emitClampShift(f, compact ? 'folded' : 'any', acc[p], constant, () => f.get(rounding), half);
    f.set(acc[p]);
  };
  const moveOn = (pixels: number) => {
    for (const row of rows) f.get(row).i32(pixels * 16).op('i32.add').set(row);
    f.get(ox).i32(pixels).op('i32.add').set(ox);
  };
  // Pixels ox .. ox + n - 1 (n = 4 or 1) of a whole group: their four bytes each in one vector, pixel p in lane p.
  const step = (n: number) => {
    accumulate(n);
    for (let p = 0; p < n; p++) requantize(p);
    narrowBytes([0, 1, 2, 3].map((p) => acc[Math.min(p, n - 1)]));
    f.set(acc[0]);
    for (let p = 0; p < n; p++) {
      f.get(o).get(acc[0]).storeLane('v128.store32_lane', p);
      f.get(o).get(channels).op('i32.add').set(o);
    }
    moveOn(n);
  };
  // One pixel of the last group, whose channels stop at `lanes` (1 to 3).
  const partialStep = () => {
    accumulate(1);
    requantize(0);
    narrowBytes([acc[0], acc[0], acc[0], acc[0]]);
    f.set(acc[0]);
    for (let lane = 0; lane < 3; lane++) {
      f.get(lanes).i32(lane).op('i32.gt_s').if(() => f.get(o).get(acc[0]).storeLane('v128.store8_lane', lane, lane));
    }
    f.get(o).get(channels).op('i32.add').set(o);
    moveOn(1);
  };

  f.forLoop(c, () => f.i32(0), () => f.get(channels), 4, () => {
    f.get(params).i32(CLAMP_SHIFT_HEADER_BYTES).op('i32.add').get(c).i32(vectors * 4).op('i32.mul', 'i32.add').set(group);
    for (let v = 0; v < vectors; v++) f.get(group).mem('v128.load', v * 16).set(constants[v]);
    scratchRows.forEach((row, fy) => {
      f.get(row).get(c).i32(2).op('i32.shr_u').get(groupBytes).op('i32.mul', 'i32.add').set(rows[fy]);
    });
    f.get(out).get(c).op('i32.add').set(o);
    f.i32(0).set(ox);
    f.get(channels).get(c).op('i32.sub').tee(lanes).i32(4).op('i32.ge_s').if(
      () => {
        f.block(() => f.loop(() => {
          f.get(ox).i32(BLOCK).op('i32.add').get(outWidth).op('i32.gt_s').brIf(1);
          step(BLOCK);
          f.br(0);
        }));
        f.block(() => f.loop(() => {
          f.get(ox).get(outWidth).op('i32.ge_s').brIf(1);
          step(1);
          f.br(0);
        }));
      },
      () => {
        f.block(() => f.loop(() => {
          f.get(ox).get(outWidth).op('i32.ge_s').brIf(1);
          partialStep();
          f.br(0);
        }));
      },
    );
  });
}
