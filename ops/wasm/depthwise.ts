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
// (all but one or two), so the last converted rows are kept by row index: see simdDepthwiseRow.
//
// Requantization, TFLM's MultiplyByQuantizedMultiplier (double rounding) then the activation's clamp and the output
// offset, is exact, and cheaper than the general form of ops/wasm/requantize.ts for layers whose right shifts r are
// at most 22 (multipliers from 2^-23 up; prepare declines the others):
//   high = floor((x·2^left · M + 2^30) / 2^31)      64-bit lane products (i64x2.extmul), as in requantize.ts
//   h    = clamp(high, lo, hi)                      lo, hi per channel: the least and the greatest `high` whose
//                                                   rounded quotient lies in [min - offset, max - offset]
//   out  = floor((h·2^(22-r) - [h<0]·s + 2^21 + offset·2^22) / 2^22),   s = 2^(22-r), or 2^21 where r = 0
// RoundingDivideByPOT(h, r) is floor((h - [h<0] + 2^(r-1)) / 2^r) for r ≥ 1 and h for r = 0; scaling numerator and
// denominator by 2^(22-r) makes the division one arithmetic shift for every lane, r = 0 lanes included. It is
// nondecreasing in `high`, so clamping `high` to [lo, hi] clamps the result, and it bounds |h|·2^(22-r) below
// 2^30 + 2^21: nothing wraps, offset included.
//
// The compact form, for the usual layer (every r ≥ 1, no left shift, and |bias| + 255·(sum of |W|) < 2^30, so
// twice the sum fits int32 whatever the input), saves five operations of that: the weights are doubled, so the
// lanes hold x = 2·(sum of the taps), and the high halves of x·M + (2·bias·M + 2^31) are `high`: the bias and the
// rounding term are one 64-bit constant per lane, and no shift is needed. With r ≥ 1, s = 2^(22-r) and the sign
// term folds into (h + (h >> 31))·2^(22-r).
import type { FunctionBuilder, Local, ModuleBuilder, ValueType } from '../../src/wasm/assembler.js';
import type { SimdMemory, WasmKernelModule } from '../../src/wasm/runtime.js';
import type { QuantizedArray, WindowData } from '../conv-common.js';
import type { OutputStage } from '../fast/requantize.js';
import { emitHalfConstant } from './requantize.js';

/** Right shifts up to this are requantized here: h·2^(22-r) must stay integral. */
const MAX_RIGHT_SHIFT = 22;

/** Filter sizes (square) the kernel is built for. */
const SIZES = [3, 5];

/**
 * The layer's constants in SIMD memory: a header, the i32x4 2^21 + offset·2^22, then per group of four channels
 * these vectors: i32x4 of 2^left (general form), M, lo, hi, 2^(22-r), s (general form), the bias (general form),
 * then per filter row the int16 weights of its column pairs (0, 1), (2, 3) ... with a zero after the last column,
 * in each channel's lane. The compact form keeps its i64x2 2·bias·M + 2^31 of channels 0, 1 and 2, 3 where 2^left
 * and s would be.
 */
const HEADER_BYTES = 16;
const LEFT = 0;
const MULTIPLIER = 1;
const LOW = 2;
const HIGH = 3;
const SCALE = 4;
const SIGN = 5;
const BIAS = 6;
const WEIGHTS = 7;
const BIAS_ROUNDING_LOW = LEFT;
const BIAS_ROUNDING_HIGH = SIGN;

/** Column pairs of a filter row of `size` columns. */
const pairsOf = (size: number) => Math.ceil(size / 2);
/** Vectors of a group's constants for a filter of `size` by `size`. */
const groupVectors = (size: number) => WEIGHTS + size * pairsOf(size);

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

export interface SimdDepthwiseSource extends WindowData {
  depthMultiplier: number;
  /** [1, filterHeight, filterWidth, output channels]; its type (int8 or uint8) is the input's and the output's. */
  filter: QuantizedArray;
  bias: Int32Array | null;
  inputOffset: number;
  filterOffset: number;
  stage: OutputStage;
}

export interface SimdDepthwise {
  /** Filter rows and columns. */
  size: number;
  channels: number;
  /** Output channels per input channel. */
  multiplier: number;
  stride: number;
  /** Column pairs a scratch row holds per group, and the bytes from one group's pairs to the next group's. */
  pairs: number;
  groupBytes: number;
  convertRow: ConvertRow;
  row: DepthwiseRow;
  /** Whether the layer runs the compact form of requantization (see the file's comment). */
  compact: boolean;
  /** Byte addresses in SIMD memory: the layer's constants; the zero point once per input channel (at least 8
   * times), which columns left and right of the input read; a scratch row of zero points, which rows above and
   * below the input read. */
  params: number;
  padding: number;
  paddingRow: number;
  /** The scratch rows, and the input row each holds (-1: none). */
  slots: Int32Array;
  slotRows: Int32Array;
  /** Where the last call read its input, the window it had, and which output row it computed. */
  lastInput: number;
  lastInputRows: number;
  lastWindow: WindowData | null;
  lastRow: number;
  /** This row's scratch rows, top to bottom. */
  taps: Int32Array;
  /** 16 bytes of scratch memory (see emitDepthwise). */
  pin: number;
}

/**
 * The SIMD kernel of a layer it handles (3x3 or 5x5, no dilation, stride 1 or 2, double rounding, right shifts up
 * to 22), else null. Places the layer's constants and its scratch rows in `simd`.
 */
export function prepareSimdDepthwise(simd: SimdMemory, s: SimdDepthwiseSource): SimdDepthwise | null {
  const { filterHeight: K, outDepth: C, strideW: stride, filter, filterOffset, inputOffset, stage } = s;
  const fits = SIZES.includes(K) && s.filterWidth === K && s.dilationH === 1 && s.dilationW === 1 &&
    s.strideW === s.strideH && (stride === 1 || stride === 2) && stage.rounding === 'double' &&
    stage.shifts.every((shift) => shift >= -MAX_RIGHT_SHIFT);
  if (!fits) return null;
  const taps = K * K;
  const pairsPerRow = pairsOf(K);

  // The bias with the input offset's share, exact (TFLM's int32 sum wraps it, and so do the general form's lanes).
  const bias = new Float64Array(C);
  let compact = stage.shifts.every((shift) => shift < 0);
  for (let c = 0; c < C; c++) {
    let sum = 0;
    let magnitude = 0;
    for (let t = 0; t < taps; t++) {
      const w = filter[t * C + c] + filterOffset;
      sum += w;
      magnitude += Math.abs(w);
    }
    bias[c] = (s.bias ? s.bias[c] : 0) + inputOffset * sum;
    if (Math.abs(bias[c]) + 255 * magnitude >= 2 ** 30) compact = false;
  }
  const groups = Math.ceil(C / 4);
  const groupInts = groupVectors(K) * 4;
  const params = new Int32Array(HEADER_BYTES / 4 + groups * groupInts);
  const weights = new Int16Array(params.buffer);
  params.fill(2 ** 21 + stage.outputOffset * 2 ** 22, 0, 4);
  for (let n = 0; n < groups * 4; n++) {
    // Padding lanes compute values that are never stored; give them a real channel's constants.
    const c = Math.min(n, C - 1);
    // Lane n & 3 of the group's vector v is params[group + 4v].
    const group = HEADER_BYTES / 4 + (n >> 2) * groupInts + (n & 3);
    for (let fy = 0; fy < K; fy++) {
      for (let fx = 0; fx < K; fx++) {
        const w = (filter[(fy * K + fx) * C + c] + filterOffset) * (compact ? 2 : 1);
        weights[2 * (group + 4 * (WEIGHTS + fy * pairsPerRow + (fx >> 1))) + (fx & 1)] = w;
      }
    }
    const shift = stage.shifts[c];
    const right = shift > 0 ? 0 : -shift;
    const multiplier = stage.multipliers[c];
    params[group + 4 * MULTIPLIER] = multiplier;
    params[group + 4 * LOW] = greatestRoundingTo(stage.min - stage.outputOffset - 1, right) + 1;
    params[group + 4 * HIGH] = greatestRoundingTo(stage.max - stage.outputOffset, right);
    params[group + 4 * SCALE] = 2 ** (MAX_RIGHT_SHIFT - right);
    if (compact) {
      // The i64 2·bias·M + 2^31 as two int32 words, exact in doubles: M's 16-bit halves keep products below 2^48.
      const high = 2 * bias[c] * Math.floor(multiplier / 2 ** 16);
      const highWords = Math.floor(high / 2 ** 16);
      const rest = (high - highWords * 2 ** 16) * 2 ** 16 + 2 * bias[c] * (multiplier % 2 ** 16) + 2 ** 31;
      const carry = Math.floor(rest / 2 ** 32);
      // Channels 0, 1 in the vector of 2^left, 2 and 3 in that of s.
      const vector = (n & 3) < 2 ? BIAS_ROUNDING_LOW : BIAS_ROUNDING_HIGH;
      const at = HEADER_BYTES / 4 + (n >> 2) * groupInts + 4 * vector + 2 * (n & 1);
      params[at] = rest - carry * 2 ** 32;
      params[at + 1] = highWords + carry;
    } else {
      params[group + 4 * BIAS] = bias[c];
      params[group + 4 * LEFT] = shift > 0 ? 2 ** shift : 1;
      params[group + 4 * SIGN] = Math.min(2 ** (MAX_RIGHT_SHIFT - right), 2 ** (MAX_RIGHT_SHIFT - 1));
    }
  }

  // Output pixel ox reads pairs ox + i·2/stride, i < pairsPerRow.
  const pairs = s.outWidth + ((pairsPerRow - 1) * 2) / stride;
  // Groups a multiple of 256 bytes apart put the conversion's stores to sixteen groups 4 KiB apart, which the
  // cache takes badly (twice the time at 14x14x576, measured): one pair more then.
  const rowGroupBytes = (pairs + (pairs % 16 === 0 ? 1 : 0)) * 16;
  const rowBytes = groups * rowGroupBytes;
  const kernels = simd.exports<Kernels>(depthwiseKernels);
  const type = filter instanceof Int8Array ? 'int8' : 'uint8';
  const zeroPoint = -inputOffset;
  return {
    size: K, channels: C, multiplier: s.depthMultiplier, stride, pairs, groupBytes: rowGroupBytes,
    convertRow: kernels[`convert_s${stride}_${type}`],
    row: kernels[`depthwise${K}x${K}_s${stride}${compact ? '_compact' : ''}`],
    compact,
    params: simd.place(params),
    padding: simd.place(new Uint8Array(Math.max(s.inDepth, 8)).fill(zeroPoint & 0xff)),
    paddingRow: simd.place(new Int16Array(rowBytes / 2).fill(zeroPoint)),
    slots: Int32Array.from({ length: K }, () => simd.alloc(rowBytes)),
    slotRows: new Int32Array(K).fill(-1),
    lastInput: -1, lastInputRows: -1, lastWindow: null, lastRow: -1,
    taps: new Int32Array(Math.max(...SIZES)),
    pin: simd.alloc(16),
  };
}

/**
 * The greatest h whose RoundingDivideByPOT(h, right) = floor((h - [h<0] + 2^(right-1)) / 2^right) is at most
 * `value` (|value| ≤ 2^8 + 1): for value ≥ 0 every h < 0 qualifies and h ≥ 0 needs h + 2^(right-1) <
 * (value + 1)·2^right; for value < 0, h must be negative and h - 1 + 2^(right-1) < (value + 1)·2^right.
 */
function greatestRoundingTo(value: number, right: number): number {
  if (right === 0) return value;
  return value * 2 ** right + 2 ** (right - 1) - (value >= 0 ? 1 : 0);
}

/**
 * RowEvaluation.evalRow for such a layer, with its (possibly PAD-folded) window `d`: output row `row` into
 * `output` from element `outputStart`; input row y at element inputStart + (y mod inputRows) · inWidth · inDepth.
 * Both views must lie in the SimdMemory the kernel was prepared on.
 *
 * Converted rows are reused only from the previous call, and only when that call computed row - 1 of the same
 * pass (same input address, ring size and window): then every row both windows read was already written when
 * the previous call read it and is still in place, in a ring of at least the window's rows as in a whole tensor
 * or one computed in place (a row is overwritten only once no later output row reads it). A new pass starts at
 * output row 0, or at another address, and finds nothing cached. All input rows are read before any output is
 * written, so the output may overwrite input rows no later call reads.
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
  const { size: K, channels: C, slots, slotRows, taps } = dw;
  const inputAddress = input.byteOffset + inputStart;
  const samePass = row === dw.lastRow + 1 && inputAddress === dw.lastInput && inputRows === dw.lastInputRows &&
    d === dw.lastWindow;
  if (!samePass) {
    slotRows.fill(-1);
    dw.lastInput = inputAddress;
    dw.lastInputRows = inputRows;
    dw.lastWindow = d;
  }
  dw.lastRow = row;
  const top = row * dw.stride - d.padTop;
  for (let fy = 0; fy < K; fy++) {
    const y = top + fy;
    if (y < 0 || y >= d.inHeight) {
      taps[fy] = dw.paddingRow;
      continue;
    }
    let slot = slotRows.indexOf(y);
    if (slot < 0) {
      // A slot holding none of this window's rows: K slots, at most K rows.
      slot = 0;
      while (slotRows[slot] >= 0 && slotRows[slot] >= top && slotRows[slot] < top + K) slot++;
      slotRows[slot] = y;
      const source = inputAddress + (y % inputRows) * d.inWidth * d.inDepth;
      const { pairs, padding, groupBytes, multiplier } = dw;
      dw.convertRow(source, d.inWidth, d.inDepth, d.padLeft, pairs, slots[slot], padding, groupBytes, multiplier);
    }
    taps[fy] = slots[slot];
  }
  // Rows past the filter's are extra arguments, which WebAssembly ignores.
  dw.row(
    dw.groupBytes, dw.params, output.byteOffset + outputStart, d.outWidth, C, dw.pin, taps[0], taps[1], taps[2],
    taps[3], taps[4],
  );
}

export const depthwiseKernels: WasmKernelModule = {
  name: 'ops/wasm/depthwise.ts',
  emit(m: ModuleBuilder) {
    const i32 = (n: number) => new Array<ValueType>(n).fill('i32');
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
};

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
/** The high i32 halves of the i64 lanes of two vectors. */
const HIGH_HALVES = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];

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

  // acc[p] for pixels ox + p, p < n: the dot products of each filter row's pairs, and in the general form the bias.
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
    const x = acc[p];
    if (compact) {
      for (const [extmul, biasRounding] of [['low', BIAS_ROUNDING_LOW], ['high', BIAS_ROUNDING_HIGH]] as const) {
        f.get(x);
        constant(MULTIPLIER).op(`i64x2.extmul_${extmul}_i32x4_s`);
        constant(biasRounding).op('i64x2.add');
      }
    } else {
      f.get(x);
      constant(LEFT).op('i32x4.mul').set(x);
      for (const extmul of ['low', 'high'] as const) {
        f.get(x);
        constant(MULTIPLIER).op(`i64x2.extmul_${extmul}_i32x4_s`).get(half).op('i64x2.add').i32(1).op('i64x2.shl');
      }
    }
    f.shuffle(HIGH_HALVES);
    constant(LOW).op('i32x4.max_s');
    constant(HIGH).op('i32x4.min_s').set(x);
    if (compact) {
      f.get(x).get(x).i32(31).op('i32x4.shr_s', 'i32x4.add');
      constant(SCALE).op('i32x4.mul');
    } else {
      f.get(x);
      constant(SCALE).op('i32x4.mul');
      f.get(x).i32(31).op('i32x4.shr_s');
      constant(SIGN).op('v128.and', 'i32x4.sub');
    }
    f.get(rounding).op('i32x4.add').i32(MAX_RIGHT_SHIFT).op('i32x4.shr_s').set(x);
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
    f.get(params).i32(HEADER_BYTES).op('i32.add').get(c).i32(vectors * 4).op('i32.mul', 'i32.add').set(group);
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
