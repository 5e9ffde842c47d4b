// The SIMD requantization (ops/wasm/requantize.ts) against multiplyByQuantizedMultiplier in src/quant.ts, on
// random and extreme accumulators, multipliers and shifts, channel counts that exercise every tail (16, 4, 1–3).
import { describe, expect, it } from 'vitest';
import { emitUniformMultiply } from '../../ops/wasm/elementwise.js';
import { addRequantizeFunctions, emitHalfConstant, prepareRequantTable } from '../../ops/wasm/requantize.js';
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
