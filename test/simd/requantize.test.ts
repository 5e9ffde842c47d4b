// The SIMD requantization (ops/wasm/requantize.ts) against multiplyByQuantizedMultiplier in src/quant.ts, on
// random and extreme accumulators, multipliers and shifts, channel counts that exercise every tail (16, 4, 1–3).
import { describe, expect, it } from 'vitest';
import { addRequantizeFunctions, prepareRequantTable } from '../../ops/wasm/requantize.js';
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
