import { describe, expect, it } from 'vitest';
import { HardSwish } from '../../ops/hard-swish.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

// With input and output scale s = 3/256 (v = q - zp):
//   hires = 128 v; the output multiplier s/128/s = 2^-7 is int16 16384 with exponent -6, so the pre-shift output
//   scale value is srdhm16(128 v, 16384) = 64 v. The relu-ish multiplier (s/128) / (3/32768) = 1 is 16384 with
//   exponent 1: shift left 0, srdhm16 halves, shift left 1 doubles back, so relu-ish = 128 v; then
//   (128 v + 32768) >> 1 = 64 v + 16384. The product trunc((64 v + 16384) * 64 v / 32768) = trunc(v (v + 256) / 8),
//   divided by 2^6 rounding half away: out = v (v + 256) / 512, which is x (x + 3) / 6 / s for x = v s.
const s = 3 / 256;

describe('HARD_SWISH int8 (TFLM)', () => {
  it('follows x * relu6(x + 3) / 6 in int16 fixed point, with zero points', () => {
    //   v = 0 -> 0;  64 -> 2560 / 64 = 40;  127 -> trunc(6080.125) = 6080, / 64 = 95;
    //   -125 -> trunc(-2046.875) = -2046, / 64 = -31.97 -> -32;  -64 -> -1536 / 64 = -24;
    //   1 -> trunc(32.125) = 32, / 64 = 0.5 -> 1;  -1 -> trunc(-31.875) = -31, -0.48 -> 0;
    //   3 -> trunc(97.125) = 97, 1.52 -> 2;  -2 -> trunc(-63.5) = -63, -0.98 -> -1.
    // Input zero point -3 (q = v - 3), output zero point 5.
    const v = [0, 64, 127, -125, -64, 1, -1, 3, -2];
    const x = makeTensor('int8', [v.length], v.map((t) => t - 3), { scale: s, zeroPoint: -3 });
    const y = makeTensor('int8', [v.length], undefined, { scale: s, zeroPoint: 5 });
    runKernel(HardSwish, undefined, [x], [y]);
    expect(values(y)).toEqual([0, 40, 95, -32, -24, 1, 0, 2, -1].map((o) => o + 5));
  });

  it('saturates the output at the type limits', () => {
    // Output scale 3/2048: the output multiplier is 2^-4 (16384, exponent -3), so out = v (v + 256) / 64:
    // v = 127 -> 760 -> 127;  v = -128 -> -256 -> -128;  v = 8 -> 33.
    const x = makeTensor('int8', [3], [127, -128, 8], { scale: s, zeroPoint: 0 });
    const y = makeTensor('int8', [3], undefined, { scale: 3 / 2048, zeroPoint: 0 });
    runKernel(HardSwish, undefined, [x], [y]);
    expect(values(y)).toEqual([127, -128, 33]);
  });

  it('saturates the relu-ish factor at ±3 when its multiplier needs a left shift', () => {
    // Scales 3/64: relu-ish multiplier 4 (16384, exponent 3), output multiplier still 2^-7.
    //   v = 100 (x = 4.69 >= 3): 12800 << 2 saturates to 32767, srdhm16 -> 16384, << 1 -> 32767: factor 1,
    //     so out = trunc(32767 * 6400 / 32768) = 6399, / 64 -> 100 (hard swish is x itself).
    //   v = 64 (x = 3): 8192 << 2 = 32768 saturates the same way: 4095 / 64 -> 64.
    //   v = -100 (x < -3): -51200 saturates to -32768, srdhm16 -> -16384, << 1 -> -32768: factor 0, out 0.
    //   v = 10 (x = 0.47): 5120, srdhm16 -> 2560, << 1 -> 5120; (5120 + 32768) >> 1 = 18944;
    //     trunc(18944 * 640 / 32768) = 370, / 64 = 5.78 -> 6 (x (x + 3) / 6 / s = 5.78).
    const x = makeTensor('int8', [4], [100, 64, -100, 10], { scale: 3 / 64, zeroPoint: 0 });
    const y = makeTensor('int8', [4], undefined, { scale: 3 / 64, zeroPoint: 0 });
    const data = runKernel(HardSwish, undefined, [x], [y]);
    const p = data.params!;
    expect([p.reluishMultiplier, p.reluishExponent, p.outputMultiplier, p.outputExponent]).toEqual([16384, 3, 16384, -6]);
    expect(values(y)).toEqual([100, 64, 0, 6]);
  });

  it('gives the output zero point for a zero output scale, and refuses an output multiplier above 1', () => {
    const y = makeTensor('int8', [3], undefined, { scale: 0, zeroPoint: 7 });
    runKernel(HardSwish, undefined, [makeTensor('int8', [3], [-100, 0, 100], { scale: s, zeroPoint: 0 })], [y]);
    expect(values(y)).toEqual([7, 7, 7]);
    // 1 / 128 / 0.001 = 7.8: exponent 3.
    expect(() =>
      runKernel(HardSwish, undefined, [makeTensor('int8', [1], [0], { scale: 1, zeroPoint: 0 })], [makeTensor('int8', [1], undefined, { scale: 0.001, zeroPoint: 0 })]),
    ).toThrow(/the output multiplier needs a left shift/);
  });
});

describe('HARD_SWISH uint8 (TFLite)', () => {
  it('uses the same arithmetic around zero point 128', () => {
    // v = q - 128 with scales 3/256: 127 -> 95, -128 -> -32, 64 -> 40, 0 -> 0; plus 128.
    const x = makeTensor('uint8', [4], [255, 0, 192, 128], { scale: s, zeroPoint: 128 });
    const y = makeTensor('uint8', [4], undefined, { scale: s, zeroPoint: 128 });
    runKernel(HardSwish, undefined, [x], [y]);
    expect(values(y)).toEqual([223, 96, 168, 128]);
  });
});

describe('HARD_SWISH float32 (TFLM reference)', () => {
  it('is in * min(6, max(0, in + 3)) / 6, keeping the sign of zero', () => {
    const y = makeTensor('float32', [7]);
    runKernel(HardSwish, undefined, [makeTensor('float32', [7], [-4, -3, -1.5, 0, 1, 3, 5])], [y]);
    expect(values(y)).toEqual([-0, -0, -0.375, 0, Math.fround(4 / 6), 3, 5]);
  });
});
