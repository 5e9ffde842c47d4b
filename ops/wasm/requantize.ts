// Requantization for the SIMD kernels: int32 accumulators to int8/uint8 outputs, four channels a vector, each lane
// with its own multiplier and shift. Bit-identical to multiplyByQuantizedMultiplier in src/quant.ts (TFLM's double
// rounding), computed exactly with 32x32->64-bit lane products (extmul, cheap on every SIMD host; a general i64x2
// multiply and 64-bit arithmetic shifts are not, on x86 without AVX-512):
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
import type { FunctionBuilder, Local, ModuleBuilder } from '../../src/wasm/assembler.js';
import type { SimdMemory } from '../../src/wasm/runtime.js';
import type { OutputStage } from '../fast/requantize.js';

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
  const highHalves = [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31];
  // floor((lane + 2^30) / 2^31) of the 64-bit products in `low` and `high`, as one i32x4 on the stack.
  const divide = () => {
    for (const v of [low, high]) f.get(v).get(half).op('i64x2.add').i32(1).op('i64x2.shl').set(v);
    f.get(low).get(high).shuffle(highHalves);
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

/** Sets the v128 local `half` to 2^30 in both i64 lanes, for emitRequantize4. */
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
