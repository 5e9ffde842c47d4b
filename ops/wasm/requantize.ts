// Requantization for the SIMD kernels: int32 accumulators to int8/uint8 outputs, four channels a vector, each lane
// with its own multiplier and shift. Bit-identical to multiplyByQuantizedMultiplier in src/quant.ts (TFLM's double
// rounding), then the activation's clamp and the output offset. Two forms, both exact:
//   - the general form, for any shift from -31 to +30 (emitRequantize4, addRequantizeFunctions);
//   - the clamp-then-shift form, for right shifts up to 22 (every layer of the MobileNets), cheaper: the
//     convolution kernels requantize with it in registers (emitClampShift).
//
// The general form computes exactly with 32x32->64-bit lane products (extmul, cheap on every SIMD host; a general
// i64x2 multiply and 64-bit arithmetic shifts are not, on x86 without AVX-512):
//
//   x'   = x · 2^left                                     i32x4.mul wraps as TFLM's x * (1 << left)
//   high = floor((x'·M + 2^30) / 2^31)                     SaturatingRoundingDoublingHighMul (M < 2^31: no saturation)
//   out  = floor(((high - [high < 0]) · 2^(31-r) + 2^30) / 2^31)   RoundingDivideByPOT(high, r), r ≥ 1
//   out  = high                                            r = 0
//
// Both divisions by 2^31 are "shift the 64-bit lane left by one and keep its high half" (no 64-bit arithmetic
// shift needed). The third line is RoundingDivideByPOT without a per-lane shift, which SIMD128 lacks:
// floor((high + 2^(r-1) - [high<0]) / 2^r) scaled by u = 2^(31-r); since high·u is a multiple of u, subtracting u
// for the negative half-way case lands on the same floor as subtracting 1. high ≥ 1 - 2^31, so high - 1 does not
// wrap, and |(high - 1) · u| < 2^61.
//
// The clamp comes before the output offset is added, so that a result near 2^31 cannot wrap (the scalar kernels
// compute in float64 and never wrap there): clamp to [min - offset, max - offset], then add the offset.
//
// A layer's table in SIMD memory (prepareRequantTable) holds the output offset and the clamp as i32x4 vectors, then
// per group of four channels (padded), 64 bytes of i32x4: 2^left, M, 2^(31-r) (1 where r = 0), and a mask of the
// lanes with r = 0. Interleaved by group, so a kernel compiled once finds every entry at a fixed offset.
//
// The clamp-then-shift form is below, with its own table.
import type { FunctionBuilder, Local, ModuleBuilder } from '../../src/wasm/assembler.js';
import type { SimdMemory, WasmKernelModule } from '../../src/wasm/runtime.js';
import type { OutputStage } from '../fast/requantize.js';

/** The high i32 halves of the i64 lanes of two vectors. */
const HIGH_HALVES = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];

/** Bytes of the table's header: output offset, min - offset, max - offset, each as an i32x4. */
export const REQUANT_HEADER_BYTES = 48;
/** Bytes per group of four channels. */
export const REQUANT_GROUP_BYTES = 64;

/** Places a layer's requantization table in SIMD memory; returns its address. Double rounding only. */
export function prepareRequantTable(simd: SimdMemory, stage: OutputStage, channels: number): number {
  if (stage.rounding !== 'double') throw new Error('SIMD requantization implements double rounding only');
  const groups = Math.ceil(channels / 4);
  const table = new Int32Array((REQUANT_HEADER_BYTES + groups * REQUANT_GROUP_BYTES) / 4);
  table.fill(stage.outputOffset, 0, 4);
  table.fill(stage.min - stage.outputOffset, 4, 8);
  table.fill(stage.max - stage.outputOffset, 8, 12);
  for (let n = 0; n < groups * 4; n++) {
    // Padding lanes compute values that are never stored; give them a real channel's.
    const c = Math.min(n, channels - 1);
    const shift = stage.shifts[c];
    const right = shift > 0 ? 0 : -shift;
    const at = REQUANT_HEADER_BYTES / 4 + (n >> 2) * 16 + (n & 3);
    table[at] = shift > 0 ? 2 ** shift | 0 : 1;
    table[at + 4] = stage.multipliers[c];
    table[at + 8] = right > 0 ? 2 ** (31 - right) : 1;
    table[at + 12] = right === 0 ? -1 : 0;
  }
  return simd.place(table);
}

/**
 * Emits the requantization of the four int32 accumulators in v128 local `acc` (channels 4g..4g+3) and leaves the
 * four results, clamped and offset, on the stack. `group` holds the byte address of the channels' group in the
 * table (table + REQUANT_HEADER_BYTES + 64·g), `table` the table's. `low` and `high` are v128 locals it overwrites,
 * as it does `acc`. `half` must hold 2^30 in both i64 lanes (emitHalfConstant), set once outside the loops.
 */
export function emitRequantize4(
  f: FunctionBuilder, acc: Local, table: Local, group: Local, low: Local, high: Local, half: Local,
): void {
  // floor((lane + 2^30) / 2^31) of the 64-bit products in `low` and `high`, as one i32x4 on the stack.
  const divide = () => {
    for (const v of [low, high]) f.get(v).get(half).op('i64x2.add').i32(1).op('i64x2.shl').set(v);
    f.get(low).get(high).shuffle(HIGH_HALVES);
  };
  // high = SaturatingRoundingDoublingHighMul(x · 2^left, M)
  f.get(acc).get(group).mem('v128.load', 0).op('i32x4.mul').set(acc);
  f.get(acc).get(group).mem('v128.load', 16).op('i64x2.extmul_low_i32x4_s').set(low);
  f.get(acc).get(group).mem('v128.load', 16).op('i64x2.extmul_high_i32x4_s').set(high);
  divide();
  f.set(acc);
  // RoundingDivideByPOT(high, r): (high - [high < 0]) · 2^(31-r), divided as above; r = 0 lanes keep high.
  f.get(acc).get(acc).i32(31).op('i32x4.shr_s', 'i32x4.add').set(low);
  f.get(low).get(group).mem('v128.load', 32).op('i64x2.extmul_high_i32x4_s').set(high);
  f.get(low).get(group).mem('v128.load', 32).op('i64x2.extmul_low_i32x4_s').set(low);
  f.get(acc);
  divide();
  f.get(group).mem('v128.load', 48).op('v128.bitselect');
  // The activation's clamp, shifted by the offset, then the offset.
  f.get(table).mem('v128.load', 16).op('i32x4.max_s');
  f.get(table).mem('v128.load', 32).op('i32x4.min_s');
  f.get(table).mem('v128.load', 0).op('i32x4.add');
}

/** Sets the v128 local `half` to 2^30 in both i64 lanes, for emitRequantize4 and emitClampShift. */
export function emitHalfConstant(f: FunctionBuilder, half: Local): void {
  f.i64x2(1n << 30n).set(half);
}

/**
 * Adds `requantize_int8` and `requantize_uint8` to a kernel module, with parameters
 *   (acc, pixels, accStride, channels, table, out, outStride) — byte addresses and byte strides —
 * writing out[p·outStride + n] for p < pixels, n < channels from the int32 at acc + p·accStride + 4n. The
 * accumulator rows must have room for `channels` rounded up to 4: those lanes are read, never stored.
 */
export function addRequantizeFunctions(m: ModuleBuilder): void {
  for (const signed of [true, false]) {
    const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
    m.addFunction(signed ? 'requantize_int8' : 'requantize_uint8', [...params], [], (f) => {
      const [acc, pixels, accStride, channels, table, out, outStride] = f.params;
      const p = f.local('i32');
      const n = f.local('i32');
      const a = f.local('i32');
      const o = f.local('i32');
      const group = f.local('i32');
      const x = f.local('v128');
      const low = f.local('v128');
      const high = f.local('v128');
      const g0 = f.local('v128');
      const g1 = f.local('v128');
      const g2 = f.local('v128');
      const half = f.local('v128');
      emitHalfConstant(f, half);
      const narrow8 = signed ? 'i8x16.narrow_i16x8_s' : 'i8x16.narrow_i16x8_u';
      // Channels n + k .. n + k + 3 requantized onto the stack.
      const requantize = (k: number) => {
        f.get(a).get(n).i32(2).op('i32.shl').op('i32.add').mem('v128.load', k * 4).set(x);
        f.get(table).get(n).i32(4).op('i32.shl').op('i32.add').i32(REQUANT_HEADER_BYTES + k * 16).op('i32.add').set(group);
        emitRequantize4(f, x, table, group, low, high, half);
      };
      // The clamped int32 lanes in x, narrowed to bytes in x's low lanes (the values are in range: exact).
      const narrowX = () => f.get(x).get(x).op('i16x8.narrow_i32x4_s').get(x).get(x).op('i16x8.narrow_i32x4_s', narrow8).set(x);
      f.forLoop(p, () => f.i32(0), () => f.get(pixels), 1, () => {
        f.get(acc).get(p).get(accStride).op('i32.mul', 'i32.add').set(a);
        f.get(out).get(p).get(outStride).op('i32.mul', 'i32.add').set(o);
        f.i32(0).set(n);
        // 16 channels a step: four groups narrowed into one vector.
        f.block(() => f.loop(() => {
          f.get(n).i32(16).op('i32.add').get(channels).op('i32.gt_s').brIf(1);
          requantize(0);
          f.set(g0);
          requantize(4);
          f.set(g1);
          requantize(8);
          f.set(g2);
          requantize(12);
          f.set(x);
          f.get(o).get(n).op('i32.add');
          f.get(g0).get(g1).op('i16x8.narrow_i32x4_s').get(g2).get(x).op('i16x8.narrow_i32x4_s', narrow8);
          f.mem('v128.store');
          f.get(n).i32(16).op('i32.add').set(n);
          f.br(0);
        }));
        // Then four at a time.
        f.block(() => f.loop(() => {
          f.get(n).i32(4).op('i32.add').get(channels).op('i32.gt_s').brIf(1);
          requantize(0);
          f.set(x);
          narrowX();
          f.get(o).get(n).op('i32.add').get(x).storeLane('v128.store32_lane', 0);
          f.get(n).i32(4).op('i32.add').set(n);
          f.br(0);
        }));
        // Then the last one to three, lane by lane.
        f.get(n).get(channels).op('i32.lt_s').if(() => {
          requantize(0);
          f.set(x);
          narrowX();
          for (let lane = 0; lane < 3; lane++) {
            f.get(n).i32(lane).op('i32.add').get(channels).op('i32.lt_s').if(() => {
              f.get(o).get(n).op('i32.add').get(x).storeLane('v128.store8_lane', lane, lane);
            });
          }
        });
      });
    });
  }
}

// The clamp-then-shift form, for layers whose right shifts r are all at most CLAMP_SHIFT_MAX_RIGHT:
//   high = floor((x·2^left · M + 2^30) / 2^31)      as in the general form
//   h    = clamp(high, lo, hi)                      lo, hi per channel: the least and the greatest `high` whose
//                                                   rounded quotient lies in [min - offset, max - offset]
//   out  = floor((h·2^(22-r) - [h<0]·s + 2^21 + offset·2^22) / 2^22),   s = 2^(22-r), or 2^21 where r = 0
// RoundingDivideByPOT(h, r) is floor((h - [h<0] + 2^(r-1)) / 2^r) for r ≥ 1 and h for r = 0; scaling numerator and
// denominator by 2^(22-r) makes the division one arithmetic shift for every lane, r = 0 lanes included. It is
// nondecreasing in `high`, so clamping `high` to [lo, hi] clamps the result, and it bounds |h|·2^(22-r) below
// 2^30 + 2^21: nothing wraps, offset included.
//
// Three variants (ClampShiftForm), chosen per layer:
//   'any'    as above: left shifts, and r = 0;
//   'right'  every channel shifts right (r ≥ 1, no left shift): no 2^left, and with s = 2^(22-r) the sign term
//            folds into (h + (h >> 31))·2^(22-r);
//   'folded' 'right', for a kernel that folds its bias into the requantization (ops/wasm/depthwise.ts): x is
//            twice the sum of the taps without the bias, and the high halves of x·M + (2·bias·M + 2^31) are
//            `high`: the bias and the rounding term are one 64-bit constant per lane, and no shift is needed.
//            The caller must know that twice the sum, and the sum plus the bias, fit int32 whatever the input.
//
// The table: a 16-byte header, the i32x4 2^21 + offset·2^22, then per group of four channels a record of i32x4
// vectors at CS_MULTIPLIER ... (clampShiftVectors of them), which a kernel may follow with vectors of its own.

/** Right shifts up to this are requantized in the clamp-then-shift form: h·2^(22-r) must stay integral. */
export const CLAMP_SHIFT_MAX_RIGHT = 22;
export type ClampShiftForm = 'right' | 'any' | 'folded';
export const CLAMP_SHIFT_HEADER_BYTES = 16;
// The vectors of a group's record.
const CS_MULTIPLIER = 0;
const CS_LOW = 1;
const CS_HIGH = 2;
const CS_SCALE = 3;
/** 'any': 2^left. 'folded': the i64x2 2·bias·M + 2^31 of channels 0 and 1. */
const CS_LEFT = 4;
const CS_BIAS_LOW = 4;
/** 'any': s. 'folded': the i64x2 2·bias·M + 2^31 of channels 2 and 3. */
const CS_SIGN = 5;
const CS_BIAS_HIGH = 5;

/** Vectors of a group's record in `form`. */
export function clampShiftVectors(form: ClampShiftForm): number {
  return form === 'right' ? 4 : 6;
}

/**
 * Which form of clamp-then-shift requantization `channels` of `stage` allow: 'right' when every one shifts right
 * (by 1 to CLAMP_SHIFT_MAX_RIGHT), 'any' when some do not, null when one shifts right by more, or for single rounding.
 * ('folded' is 'right' with a condition only the kernel knows.)
 */
export function clampShiftForm(stage: OutputStage, channels: number): 'right' | 'any' | null {
  if (stage.rounding !== 'double') return null;
  let right = true;
  for (let c = 0; c < channels; c++) {
    const shift = stage.shifts[c];
    if (shift < -CLAMP_SHIFT_MAX_RIGHT) return null;
    if (shift >= 0) right = false;
  }
  return right ? 'right' : 'any';
}

/** Bytes per channel that writeClampShiftTable needs behind a table's records, for its inputs. */
export const CLAMP_SHIFT_INPUT_BYTES = 12;

/** Bytes of a clamp-then-shift table of `groups` records of `recordBytes`, with the room for its inputs behind. */
export function clampShiftTableBytes(recordBytes: number, channels: number, groups: number): number {
  return CLAMP_SHIFT_HEADER_BYTES + groups * recordBytes + CLAMP_SHIFT_INPUT_BYTES * channels;
}

/**
 * Writes a clamp-then-shift table at byte `address` of `simd` (clampShiftTableBytes of it): the header, then the
 * requantization vectors of `groups` records `recordBytes` apart (their other vectors untouched). Lanes past
 * `channels` take the last channel's constants (their results are never stored). 'folded' needs each channel's
 * `bias`, including whatever the kernel folds into it, with |bias| < 2^30. The work is clamp_shift_table_<form> of
 * `kernels` (addClampShiftTableFunctions), on the multipliers, shifts and biases copied behind the records: a JS
 * loop over thousands of channels runs slowly in the first loads of a process, before the JIT has warmed to it.
 */
export function writeClampShiftTable(
  simd: SimdMemory, kernels: WasmKernelModule, address: number, recordBytes: number, stage: OutputStage,
  form: ClampShiftForm, channels: number, groups: number, bias: Float64Array | null = null,
): void {
  const words = simd.int32s();
  const inputs = address + CLAMP_SHIFT_HEADER_BYTES + groups * recordBytes;
  words.set(stage.multipliers.subarray(0, channels), inputs >>> 2);
  words.set(stage.shifts.subarray(0, channels), (inputs >>> 2) + channels);
  if (form === 'folded') words.set(bias!.subarray(0, channels), (inputs >>> 2) + 2 * channels);
  const write = simd.exports<Record<string, TableFunction>>(kernels)[`clamp_shift_table_${form}`];
  const low = stage.min - stage.outputOffset;
  const high = stage.max - stage.outputOffset;
  write(address, recordBytes, channels, groups, inputs, low, high, (1 << 21) + stage.outputOffset * (1 << 22));
}

type TableFunction = (
  table: number, recordBytes: number, channels: number, groups: number, inputs: number, low: number, high: number,
  rounding: number,
) => void;

/**
 * Adds clamp_shift_table_right, _any and _folded (see TableFunction) to a kernel module: writeClampShiftTable's
 * work, from the multipliers, shifts and ('folded') biases of `channels` at `inputs`, one after the other. Per
 * lane: lo and hi are greatestRoundingTo(low - 1, r) + 1 and greatestRoundingTo(high, r), where the greatest h
 * whose RoundingDivideByPOT(h, r) = floor((h - [h<0] + 2^(r-1)) / 2^r) is at most v is v for r = 0, else
 * v·2^r + 2^(r-1) - [v ≥ 0] (for v ≥ 0 every h < 0 qualifies and h ≥ 0 needs h + 2^(r-1) < (v + 1)·2^r; for
 * v < 0, h must be negative and h - 1 + 2^(r-1) < (v + 1)·2^r). |v| ≤ 2^9 and r ≤ 22 keep them within int32.
 */
export function addClampShiftTableFunctions(m: ModuleBuilder): void {
  for (const form of ['right', 'any', 'folded'] as const) {
    const params = ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'i32'] as const;
    m.addFunction(`clamp_shift_table_${form}`, [...params], [], (f) => {
      const [table, recordBytes, channels, groups, inputs, low, high, rounding] = f.params;
      const [n, c, plane, shift, right, scale, at] = Array.from({ length: 7 }, () => f.local('i32'));
      // Vector v of lane n's record is at `at` + 16v, past the header.
      const store = (v: number) => f.mem('i32.store', CLAMP_SHIFT_HEADER_BYTES + 16 * v);
      // Channel c's entry of input k (0: multipliers, 1: shifts, 2: biases) onto the stack.
      const input = (k: number) => {
        f.get(inputs).get(c).i32(2).op('i32.shl', 'i32.add').get(plane).i32(k).op('i32.mul', 'i32.add').mem('i32.load');
      };
      const greatestRoundingTo = (value: () => void) => {
        value();
        f.get(right).op('i32.shl').i32(1).get(right).op('i32.shl').i32(1).op('i32.shr_u', 'i32.add');
        value();
        f.i32(0).op('i32.ge_s').get(right).i32(0).op('i32.ne', 'i32.and', 'i32.sub');
      };
      f.get(table).get(rounding).op('i32x4.splat').mem('v128.store');
      f.get(channels).i32(2).op('i32.shl').set(plane);
      f.forLoop(n, () => f.i32(0), () => f.get(groups).i32(2).op('i32.shl'), 1, () => {
        f.get(n).get(channels).i32(1).op('i32.sub').get(n).get(channels).op('i32.lt_s', 'select').set(c);
        f.get(table).get(n).i32(2).op('i32.shr_u').get(recordBytes).op('i32.mul', 'i32.add');
        f.get(n).i32(3).op('i32.and').i32(2).op('i32.shl', 'i32.add').set(at);
        input(1);
        f.set(shift);
        // right = shift > 0 ? 0 : -shift
        f.i32(0).i32(0).get(shift).op('i32.sub').get(shift).i32(0).op('i32.gt_s', 'select').set(right);
        f.i32(1).i32(CLAMP_SHIFT_MAX_RIGHT).get(right).op('i32.sub', 'i32.shl').set(scale);
        f.get(at);
        input(0);
        store(CS_MULTIPLIER);
        f.get(at);
        greatestRoundingTo(() => f.get(low).i32(1).op('i32.sub'));
        f.i32(1).op('i32.add');
        store(CS_LOW);
        f.get(at);
        greatestRoundingTo(() => f.get(high));
        store(CS_HIGH);
        f.get(at).get(scale);
        store(CS_SCALE);
        if (form === 'any') {
          // 2^left (1 << 31 wraps, as TFLM's x * (1 << 31) does), and s.
          f.get(at).i32(1).get(shift).op('i32.shl').i32(1).get(shift).i32(0).op('i32.gt_s', 'select');
          store(CS_LEFT);
          f.get(at).get(scale).i32(1 << (CLAMP_SHIFT_MAX_RIGHT - 1)).get(right).i32(0).op('i32.gt_s', 'select');
          store(CS_SIGN);
        } else if (form === 'folded') {
          // The i64 2·bias·M + 2^31: channels 0 and 1 of a group in one vector, 2 and 3 in the other.
          f.get(at).get(n).i32(3).op('i32.and').i32(2).op('i32.shl', 'i32.sub');
          f.get(n).i32(1).op('i32.and').i32(3).op('i32.shl', 'i32.add');
          f.get(n).i32(1).op('i32.shr_u').i32(1).op('i32.and').i32(4).op('i32.shl', 'i32.add');
          input(2);
          f.op('i64.extend_i32_s').i64(1n).op('i64.shl');
          input(0);
          f.op('i64.extend_i32_s', 'i64.mul').i64(1n << 31n).op('i64.add');
          f.mem('i64.store', CLAMP_SHIFT_HEADER_BYTES + 16 * CS_BIAS_LOW);
        }
      });
    });
  }
}

/**
 * Emits the clamp-then-shift requantization of the i32x4 in local `x`, four channels (for 'folded', twice their
 * sums without the bias), and leaves their four results, clamped and offset, on the stack; it overwrites `x`.
 * `vector(v)` must push the channels' record vector v (CS_MULTIPLIER ...), `rounding()` the table's header
 * vector; `half` must hold 2^30 in both i64 lanes (emitHalfConstant) unless the form is 'folded'.
 */
export function emitClampShift(
  f: FunctionBuilder, form: ClampShiftForm, x: Local, vector: (v: number) => void, rounding: () => void, half: Local,
): void {
  // high, from the 64-bit products of both halves.
  if (form === 'any') {
    f.get(x);
    vector(CS_LEFT);
    f.op('i32x4.mul').set(x);
  }
  for (const [extmul, biasVector] of [['low', CS_BIAS_LOW], ['high', CS_BIAS_HIGH]] as const) {
    f.get(x);
    vector(CS_MULTIPLIER);
    f.op(`i64x2.extmul_${extmul}_i32x4_s`);
    if (form === 'folded') {
      vector(biasVector);
      f.op('i64x2.add');
    } else {
      f.get(half).op('i64x2.add').i32(1).op('i64x2.shl');
    }
  }
  f.shuffle(HIGH_HALVES);
  // h, then h·2^(22-r) - [h<0]·s.
  vector(CS_LOW);
  f.op('i32x4.max_s');
  vector(CS_HIGH);
  f.op('i32x4.min_s').set(x);
  if (form === 'any') {
    f.get(x);
    vector(CS_SCALE);
    f.op('i32x4.mul').get(x).i32(31).op('i32x4.shr_s');
    vector(CS_SIGN);
    f.op('v128.and', 'i32x4.sub');
  } else {
    f.get(x).get(x).i32(31).op('i32x4.shr_s', 'i32x4.add');
    vector(CS_SCALE);
    f.op('i32x4.mul');
  }
  rounding();
  f.op('i32x4.add').i32(CLAMP_SHIFT_MAX_RIGHT).op('i32x4.shr_s');
}
