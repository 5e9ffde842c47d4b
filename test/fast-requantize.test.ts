// The closed-form requantizations against src/quant.ts, the arithmetic they restate: ops/fast/requantize.ts (the
// fast convolutions' output stage) and the branch-free output multiply of quantized ADD and SUB (ops/add.ts).
// Seeded random multipliers with every shift the formats allow, accumulators over the whole int32 range and at the
// closed form's limits, every zero point and clamp, both roundings.
import { describe, expect, it } from 'vitest';
import { Add } from '../ops/add.js';
import { multiplyWide, prepareRequantizer, requantizeChannels, requantizeWithin } from '../ops/fast/requantize.js';
import { Sub } from '../ops/sub.js';
import {
  multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierSingleRounding, type Rounding,
} from '../src/quant.js';
import { makeTensor, runKernel } from './helpers/op-harness.js';
import { random } from './helpers/random.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** A one-channel requantizer to int8, outputs unshifted. */
function singleChannel(multiplier: number, shift: number, rounding: Rounding) {
  const stage = { multipliers: Int32Array.of(multiplier), shifts: Int32Array.of(shift), outputOffset: 0, min: -128, max: 127 };
  return prepareRequantizer({ ...stage, rounding }, 1);
}

/** a^-1 modulo m (a odd, m a power of two), by the extended Euclidean algorithm. */
function modularInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

describe('requantizeChannels: the closed form and its exact fallback give src/quant.ts results', () => {
  for (const rounding of ['double', 'single'] as const) {
    it(`${rounding} rounding, 300 seeded layers`, () => {
      let compared = 0;
      for (let seed = 1; seed <= 300; seed++) {
        const r = random(seed * 7 + (rounding === 'single' ? 1 : 0));
        const channels = r.int(1, 9);
        const pixels = r.int(1, 40);
        const multipliers = Int32Array.from({ length: channels }, () =>
          r.pick([0, 1 << 30, INT32_MAX, r.int(1 << 30, INT32_MAX), r.int(1 << 30, INT32_MAX)]),
        );
        // Shifts from -31 to +30; mostly the realistic -12..0.
        const shiftOf = (multiplier: number) => (multiplier === 0 ? 0 : r.next() < 0.5 ? r.int(-31, 30) : r.int(-12, 0));
        const shifts = Int32Array.from(multipliers, shiftOf);
        const dtype = r.pick(['int8', 'uint8'] as const);
        const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
        const outputOffset = r.int(lo, hi);
        const a = r.int(lo, hi);
        const b = r.int(lo, hi);
        const stage = { multipliers, shifts, rounding, outputOffset, min: Math.min(a, b), max: Math.max(a, b) };
        const requantizer = prepareRequantizer(stage, channels);
        const acc = new Int32Array(channels * pixels);
        for (let n = 0; n < channels; n++) {
          const limit = requantizer.limits[n];
          for (let p = 0; p < pixels; p++) {
            // Around the channel's limit, anywhere in int32, or small.
            acc[n * pixels + p] = r.pick([
              limit, -limit, limit + 1, -limit - 1, INT32_MIN, INT32_MAX, 0, -1,
              r.int(INT32_MIN, INT32_MAX), r.int(-100000, 100000), r.int(-limit, limit),
            ]) | 0;
          }
        }
        const output = new (dtype === 'int8' ? Int8Array : Uint8Array)(channels * pixels);
        requantizeChannels(acc, pixels, channels, requantizer, output, 0, 0, channels);
        const exact = rounding === 'single' ? multiplyByQuantizedMultiplierSingleRounding : multiplyByQuantizedMultiplier;
        for (let n = 0; n < channels; n++) {
          for (let p = 0; p < pixels; p++) {
            const x = acc[n * pixels + p];
            const v = exact(x, multipliers[n], shifts[n]) + outputOffset;
            const expected = Math.min(Math.max(v, stage.min), stage.max);
            const describe = `seed ${seed} channel ${n}: x ${x}, M ${multipliers[n]}, shift ${shifts[n]}`;
            expect(output[p * channels + n], describe).toBe(expected);
            compared++;
            // Within the limit, the closed form a fused kernel calls gives the same.
            if (Math.abs(x) <= requantizer.limits[n]) {
              const { scales, nudges, negativeNudges, units, lowest, range, min } = requantizer;
              const closed = requantizeWithin(x, scales[n], nudges[n], negativeNudges[n], units[n], lowest, range, min);
              expect(closed, describe).toBe(expected);
            }
          }
        }
      }
      expect(compared).toBeGreaterThan(25000);
    });
  }

  it('at the rounding boundaries: accumulators whose scaled value is within 2^-14 of a step of the floor', () => {
    // Where x·S + c is a multiple of 2^e, or just off one, an error of one in a nudge changes the result; random
    // accumulators almost never land there. Scan ±2^17 for them, per seeded multiplier and shift.
    let found = 0;
    for (let seed = 1; seed <= 16; seed++) {
      const r = random(seed * 31);
      const rounding = r.pick(['double', 'single'] as const);
      const multiplier = r.pick([1 << 30, r.int(1 << 30, INT32_MAX) | 1, r.int(1 << 30, INT32_MAX)]);
      const shift = r.int(-12, 1);
      const { scales, nudges, negativeNudges, units, lowest, range, min } = singleChannel(multiplier, shift, rounding);
      const modulus = 1 / units[0];
      const near = modulus / 2 ** 14;
      const exact = rounding === 'single' ? multiplyByQuantizedMultiplierSingleRounding : multiplyByQuantizedMultiplier;
      for (let x = -(2 ** 17); x <= 2 ** 17; x++) {
        const scaled = x * scales[0] + (x < 0 ? negativeNudges[0] : 0) + nudges[0];
        const residue = ((scaled % modulus) + modulus) % modulus;
        if (residue > near && residue < modulus - near) continue;
        found++;
        const expected = Math.min(Math.max(exact(x, multiplier, shift), -128), 127);
        const closed = requantizeWithin(x, scales[0], nudges[0], negativeNudges[0], units[0], lowest, range, min);
        expect(closed, `x ${x}, M ${multiplier}, shift ${shift}, ${rounding}`).toBe(expected);
      }
    }
    expect(found).toBeGreaterThan(100);
  });

  it('the wide form at its rounding boundaries: accumulators solved for x·M + c just off a multiple of 2^e', () => {
    // For an odd M, x·M ≡ t (mod 2^e) has one solution per 2^e; with e = 31 + r <= 32 it lies in int32. Targets
    // around 0 and around ±2^15, ±2^16 put the exact numerator where each of the wide form's two floors decides.
    let checked = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = random(seed * 17);
      const multiplier = r.int(1 << 30, INT32_MAX) | 1;
      const shift = r.pick([0, -1]);
      const e = 31 - shift;
      const requantizer = singleChannel(multiplier, shift, 'double');
      const modulus = 1n << BigInt(e);
      const nudge = BigInt(requantizer.nudges[0]);
      const inverse = modularInverse(BigInt(multiplier), modulus);
      for (const target of [0n, -1n, 1n, -(1n << 15n), (1n << 15n) - 1n, -(1n << 16n), 1n << 16n]) {
        for (const negative of [false, true]) {
          const c = nudge + (negative ? BigInt(requantizer.negativeNudges[0]) : 0n);
          let x = (((target - c) * inverse) % modulus + modulus) % modulus;
          if (negative) x -= modulus; // the solution's negative representative, where the negative nudge applies
          if (x < BigInt(INT32_MIN) || x > BigInt(INT32_MAX) || (x < 0n) !== negative) continue;
          const { nudges, negativeNudges, units } = requantizer;
          const wide = multiplyWide(Number(x), multiplier, nudges[0], negativeNudges[0], units[0]);
          expect(wide, `x ${x}, M ${multiplier}, shift ${shift}`).toBe(multiplyByQuantizedMultiplier(Number(x), multiplier, shift));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('keeps the closed form for realistic layers: the limit is at least 2^20', () => {
    expect(singleChannel(INT32_MAX, 0, 'double').limits[0]).toBeGreaterThanOrEqual(2 ** 20);
    expect(singleChannel(1 << 30, -20, 'double').limits[0]).toBeGreaterThanOrEqual(2 ** 20);
  });
});

describe('quantized ADD and SUB: the branch-free output multiply gives MultiplyByQuantizedMultiplier', () => {
  const kernels = { ADD: Add, SUB: Sub };
  for (const op of ['ADD', 'SUB'] as const) {
    it(`${op}: every pair of input bytes, 40 seeded quantizations`, () => {
      let ran = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const r = random(seed * 13 + (op === 'SUB' ? 5 : 0));
        const dtype = r.pick(['int8', 'uint8'] as const);
        const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
        // Powers of two too, whose sums land exactly on rounding ties, where the nudges decide.
        const scale = () => 2 ** r.int(-12, 4) * (r.next() < 0.5 ? 1 : 0.5 + r.next());
        const quant = () => ({ scale: scale(), zeroPoint: r.pick([lo, hi, r.int(lo, hi)]) });
        // All 65536 (a, b) pairs, a in the first operand, b in the second.
        const a = makeTensor(dtype, [256 * 256], Array.from({ length: 65536 }, (_, i) => lo + (i >> 8)), quant());
        const b = makeTensor(dtype, [256 * 256], Array.from({ length: 65536 }, (_, i) => lo + (i & 255)), quant());
        const y = makeTensor(dtype, [256 * 256], undefined, quant());
        let data;
        try {
          data = runKernel(kernels[op], { activation: r.pick([0, 1, 3]) }, [a, b], [y]);
        } catch {
          continue; // a multiplier outside (0, 1), refused at prepare as TFLM does
        }
        ran++;
        for (let i = 0; i < 65536; i++) {
          const sum = (data.input1Scaled[a.bytes[i]] + data.input2Sign * data.input2Scaled[b.bytes[i]]) | 0;
          const v = multiplyByQuantizedMultiplier(sum, data.outputMultiplier, data.outputShift) + data.outputOffset;
          const expected = Math.min(Math.max(v, data.activationMin), data.activationMax);
          if ((y.data as Int8Array | Uint8Array)[i] !== expected) {
            expect((y.data as Int8Array | Uint8Array)[i], `${op} seed ${seed}, pair ${i}`).toBe(expected);
          }
        }
      }
      expect(ran).toBeGreaterThan(30);
    });
  }
});
