// The SIMD requantization (ops/wasm/requantize.ts) against multiplyByQuantizedMultiplier in src/quant.ts, on
// random and extreme accumulators, multipliers and shifts, channel counts that exercise every tail (16, 4, 1–3);
// the clamp-then-shift form in each of its variants, on rounding ties of both roundings too.
import { describe, expect, it } from 'vitest';
import { emitUniformMultiply } from '../../ops/wasm/elementwise.js';
import {
  addClampShiftTableFunctions, addRequantizeFunctions, clampShiftForm, clampShiftTableBytes, clampShiftVectors,
  emitClampShift, emitHalfConstant, prepareRequantTable, writeClampShiftTable, type ClampShiftForm,
} from '../../ops/wasm/requantize.js';
import { multiplyByQuantizedMultiplier, quantizeMultiplier } from '../../src/quant.js';
import { hostSupportsSimd, SimdMemory, type WasmKernelModule } from '../../src/wasm/runtime.js';
import { random } from '../helpers/random.js';

const kernels: WasmKernelModule = { name: 'requantize test', emit: addRequantizeFunctions };
type Requantize = (acc: number, pixels: number, accStride: number, channels: number, table: number, out: number, outStride: number) => void;

const EXTREMES = [-2147483648, 2147483647, -1, 0, 1, -1073741824, 1073741823, 65536, -65537];

describe('SIMD requantization', () => {
  it('runs on this host', () => expect(hostSupportsSimd()).toBe(true));

  for (const signed of [true, false]) {
    for (const channels of [1, 2, 3, 4, 5, 7, 16, 19, 32, 37]) {
      it(`${signed ? 'int8' : 'uint8'}, ${channels} channels`, () => {
        const { next } = random(channels * 7 + (signed ? 1 : 2));
        const pixels = 5;
        const multipliers = new Int32Array(channels);
        const shifts = new Int32Array(channels);
        for (let c = 0; c < channels; c++) {
          // Real multipliers from 2^-40 to 2^8: shifts from below -31 (flushed to zero) to +9.
          const q = quantizeMultiplier(2 ** (next() * 48 - 40));
          multipliers[c] = q.multiplier;
          shifts[c] = q.shift;
        }
        if (channels > 2) {
          shifts[0] = -31; // the largest right shift
          multipliers[1] = 2147483647;
          shifts[1] = 0;
        }
        const [lo, hi] = signed ? [-128, 127] : [0, 255];
        const min = lo + Math.floor(next() * 20);
        const max = hi - Math.floor(next() * 20);
        const outputOffset = Math.floor(next() * 256) + lo;
        const stage = { multipliers, shifts, rounding: 'double' as const, outputOffset, min, max };
        const simd = new SimdMemory();
        const table = prepareRequantTable(simd, stage, channels);
        const accStride = Math.ceil(channels / 4) * 16 + 16;
        const accAddress = simd.alloc(pixels * accStride);
        const outStride = channels + 3;
        const outAddress = simd.alloc(pixels * outStride);
        const requantize = simd.exports<Record<string, Requantize>>(kernels)[signed ? 'requantize_int8' : 'requantize_uint8'];
        simd.freeze();
        const acc = new Int32Array(simd.memory.buffer, accAddress, (pixels * accStride) / 4);
        const expected: number[] = [];
        for (let p = 0; p < pixels; p++) {
          for (let c = 0; c < channels; c++) {
            const k = p * channels + c;
            const x = k < EXTREMES.length ? EXTREMES[k] : Math.floor(next() * 2 ** 32) - 2 ** 31;
            acc[(p * accStride) / 4 + c] = x;
            const v = multiplyByQuantizedMultiplier(x, multipliers[c], shifts[c]) + outputOffset;
            expected.push(Math.min(max, Math.max(min, v)));
          }
        }
        const bytes = new Uint8Array(simd.memory.buffer);
        bytes.fill(0xee, outAddress, outAddress + pixels * outStride);
        requantize(accAddress, pixels, accStride, channels, table, outAddress, outStride);
        const view = signed ? new Int8Array(simd.memory.buffer) : bytes;
        const got: number[] = [];
        for (let p = 0; p < pixels; p++) {
          for (let c = 0; c < channels; c++) got.push(view[outAddress + p * outStride + c]);
          // Nothing written past the row's channels.
          for (let c = channels; c < outStride; c++) expect(bytes[outAddress + p * outStride + c]).toBe(0xee);
        }
        expect(got).toEqual(expected);
      });
    }
  }
});

describe('SIMD requantization with one multiplier and shift for all lanes (ADD, SUB)', () => {
  // MultiplyByQuantizedMultiplierSmallerThanOneExp: SaturatingRoundingDoublingHighMul then RoundingDivideByPOT,
  // on random values and on exact ties of the division (x ≡ ±2^(e-1) mod 2^e, both signs), every exponent 0..31.
  const uniform: WasmKernelModule = {
    name: 'uniform multiply test',
    emit: (m) =>
      m.addFunction('multiply', ['i32', 'i32', 'i32', 'i32'], [], (f) => {
        const [from, to, table, exponent] = f.params;
        const x = f.local('v128');
        const mask = f.local('v128');
        const low = f.local('v128');
        const high = f.local('v128');
        const half = f.local('v128');
        emitHalfConstant(f, half);
        f.i32(1).get(exponent).op('i32.shl').i32(1).op('i32.sub', 'i32x4.splat').set(mask);
        f.get(from).mem('v128.load').set(x);
        f.get(to);
        emitUniformMultiply(f, x, table, 0, exponent, mask, low, high, half);
        f.mem('v128.store');
      }),
  };

  it('matches multiplyByQuantizedMultiplier for every exponent, ties included', () => {
    const { next, int } = random(77);
    const simd = new SimdMemory();
    const table = simd.alloc(16);
    const from = simd.alloc(16);
    const to = simd.alloc(16);
    const multiply = simd.exports<{ multiply: (from: number, to: number, table: number, exponent: number) => void }>(uniform).multiply;
    simd.freeze();
    const words = new Int32Array(simd.memory.buffer);
    const failures: string[] = [];
    for (let exponent = 0; exponent <= 31; exponent++) {
      for (let trial = 0; trial < 40; trial++) {
        const multiplier = int(2 ** 30, 2 ** 31 - 1);
        words.fill(multiplier, table / 4, table / 4 + 4);
        // Values whose SaturatingRoundingDoublingHighMul lands on a tie of the division: solve for x roughly,
        // then take x itself and its neighbours; plus random and extreme values.
        const xs = [
          int(-(2 ** 31), 2 ** 31 - 1),
          trial % 2 ? -2147483648 : 2147483647,
          Math.round(((trial % 2 ? -1 : 1) * (2 ** (exponent - 1) + int(0, 1000) * 2 ** exponent) * 2 ** 31) / multiplier),
          Math.floor(next() * 2 ** 20) - 2 ** 19,
        ].map((v) => Math.max(-2147483648, Math.min(2147483647, v)));
        words.set(xs, from / 4);
        multiply(from, to, table, exponent);
        xs.forEach((x, lane) => {
          const expected = multiplyByQuantizedMultiplier(x, multiplier, -exponent);
          const got = words[to / 4 + lane];
          if (got !== expected) failures.push(`x ${x} M ${multiplier} e ${exponent}: ${got}, expected ${expected}`);
        });
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('SIMD clamp-then-shift requantization (emitClampShift, writeClampShiftTable)', () => {
  // requantize_<form>(acc, groups, table, out): the int32 results of the accumulators' groups of four, unnarrowed.
  // Each record has one vector more than the form's, as a kernel's own, which the table must leave alone.
  const FORMS = ['right', 'any', 'folded'] as const;
  const recordBytes = (form: ClampShiftForm) => (clampShiftVectors(form) + 1) * 16;
  const kernels: WasmKernelModule = {
    name: 'clamp-then-shift test',
    emit: (m) => {
      addClampShiftTableFunctions(m);
      for (const form of FORMS) {
        m.addFunction(`requantize_${form}`, ['i32', 'i32', 'i32', 'i32'], [], (f) => {
          const [acc, groups, table, out] = f.params;
          const g = f.local('i32');
          const record = f.local('i32');
          const x = f.local('v128');
          const half = f.local('v128');
          emitHalfConstant(f, half);
          f.forLoop(g, () => f.i32(0), () => f.get(groups), 1, () => {
            f.get(table).i32(16).op('i32.add').get(g).i32(recordBytes(form)).op('i32.mul', 'i32.add').set(record);
            f.get(acc).get(g).i32(4).op('i32.shl', 'i32.add').mem('v128.load').set(x);
            f.get(out).get(g).i32(4).op('i32.shl', 'i32.add');
            emitClampShift(f, form, x, (v) => f.get(record).mem('v128.load', 16 * v), () => f.get(table).mem('v128.load'), half);
            f.mem('v128.store');
          });
        });
      }
    },
  };
  type Requantize = (acc: number, groups: number, table: number, out: number) => void;

  for (const form of FORMS) {
    it(`'${form}': multiplyByQuantizedMultiplier, clamped and offset, for every shift it takes`, () => {
      const r = random(FORMS.indexOf(form) + 100);
      const failures: string[] = [];
      for (let trial = 0; trial < 60; trial++) {
        const channels = r.int(1, 13);
        const groups = Math.ceil(channels / 4);
        // Right shifts 1 to 22 (and for 'any', none, and left shifts to 30), ends included.
        const shift = () => (form === 'any' ? r.pick([0, 30, -22, r.int(-22, 30), r.int(-3, 3)]) : r.pick([-1, -22, r.int(-22, -1)]));
        const shifts = Int32Array.from({ length: channels }, shift);
        if (form === 'any') shifts[r.int(0, channels - 1)] = r.pick([0, 30, r.int(0, 30)]);
        // M = 2^30 makes the first rounding a tie for every odd x.
        const multipliers = Int32Array.from({ length: channels }, () => r.pick([2 ** 30, 2 ** 31 - 1, r.int(2 ** 30, 2 ** 31 - 1), 0]));
        const signed = r.next() < 0.5;
        const [lo, hi] = signed ? [-128, 127] : [0, 255];
        const outputOffset = r.pick([lo, hi, r.int(lo, hi)]);
        const min = r.pick([lo, r.int(lo, hi)]);
        const max = r.pick([hi, r.int(min, hi)]);
        const stage = { multipliers, shifts, rounding: 'double' as const, outputOffset, min, max };
        if (form !== 'folded') expect(clampShiftForm(stage, channels)).toBe(form);
        // 'folded' takes twice the sum, its bias apart: |sum| + |bias| < 2^30.
        const bias = Float64Array.from({ length: channels }, () => r.pick([0, r.int(-(2 ** 29), 2 ** 29), r.int(-1000, 1000)]));
        const sums: number[] = [];
        for (let c = 0; c < groups * 4; c++) {
          const k = c < channels ? c : channels - 1;
          const right = Math.max(0, -shifts[k]);
          // Sums on ties of the second rounding (x/2 ≡ 2^(r-1) mod 2^r with M = 2^30), and anywhere.
          const tie = 2 * (r.int(-300, 300) * 2 ** right + (right > 0 ? 2 ** (right - 1) : 0)) + r.pick([0, 1, -1]);
          const any = form === 'folded' ? r.int(-(2 ** 29), 2 ** 29) : r.pick([-(2 ** 31), 2 ** 31 - 1, r.int(-(2 ** 31), 2 ** 31 - 1)]);
          const x = r.pick([tie, any, r.int(-100000, 100000)]);
          sums.push(form === 'folded' ? Math.max(-(2 ** 29), Math.min(2 ** 29, x - bias[k])) : Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, x)));
        }
        const simd = new SimdMemory();
        const table = simd.alloc(clampShiftTableBytes(recordBytes(form), channels, groups));
        const acc = simd.alloc(groups * 16);
        const out = simd.alloc(groups * 16);
        const requantize = simd.exports<Record<string, Requantize>>(kernels)[`requantize_${form}`];
        simd.freeze();
        const words = new Int32Array(simd.memory.buffer);
        // The kernel's own vector: a sentinel the table must not touch.
        const own = (g: number) => (table + 16 + g * recordBytes(form)) / 4 + clampShiftVectors(form) * 4;
        for (let g = 0; g < groups; g++) words.fill(0x5a5a5a5a, own(g), own(g) + 4);
        writeClampShiftTable(simd, kernels, table, recordBytes(form), stage, form, channels, groups, bias);
        for (let g = 0; g < groups; g++) expect(Array.from(words.subarray(own(g), own(g) + 4))).toEqual(Array(4).fill(0x5a5a5a5a));
        words.set(sums.map((sum) => (form === 'folded' ? 2 * sum : sum)), acc / 4);
        requantize(acc, groups, table, out);
        for (let c = 0; c < channels; c++) {
          const x = form === 'folded' ? sums[c] + bias[c] : sums[c];
          const expected = Math.min(max, Math.max(min, multiplyByQuantizedMultiplier(x, multipliers[c], shifts[c]) + outputOffset));
          const got = words[out / 4 + c];
          if (got !== expected) failures.push(`x ${x} M ${multipliers[c]} shift ${shifts[c]} offset ${outputOffset} [${min}, ${max}]: ${got}, expected ${expected}`);
        }
      }
      expect(failures).toEqual([]);
    });
  }

  it('takes right shifts up to 22, double rounding only', () => {
    const stage = (shifts: number[], rounding: 'double' | 'single' = 'double') => ({
      multipliers: new Int32Array(shifts.length), shifts: Int32Array.from(shifts), rounding, outputOffset: 0, min: -128, max: 127,
    });
    expect(clampShiftForm(stage([-1, -22]), 2)).toBe('right');
    expect(clampShiftForm(stage([-1, 0]), 2)).toBe('any');
    expect(clampShiftForm(stage([30, -22]), 2)).toBe('any');
    expect(clampShiftForm(stage([-1, -23]), 2)).toBeNull();
    expect(clampShiftForm(stage([-1, -23]), 1)).toBe('right');
    expect(clampShiftForm(stage([-1], 'single'), 1)).toBeNull();
  });
});
