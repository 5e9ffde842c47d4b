import { describe, expect, it } from 'vitest';
import {
  frexp,
  multiplyByQuantizedMultiplier,
  multiplyByQuantizedMultiplierSingleRounding,
  quantizeMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
  INT32_MAX,
  INT32_MIN,
} from '../src/quant.js';

// Definitional 64-bit forms of gemmlowp/TFLite fixed-point ops, in BigInt, to check our float64 splits.
function srdhmRef(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C++
}
function singleRoundingRef(x: number, m: number, shift: number): number {
  const total = BigInt(31 - shift);
  const r = (BigInt(x) * BigInt(m) + (1n << (total - 1n))) >> total;
  return Number(r < BigInt(INT32_MIN) ? BigInt(INT32_MIN) : r > BigInt(INT32_MAX) ? BigInt(INT32_MAX) : r);
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s | 0;
  };
}

describe('fixed-point arithmetic', () => {
  it('SaturatingRoundingDoublingHighMul matches the 64-bit definition', () => {
    const next = rng(1);
    const edges = [0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, 1 << 30, -(1 << 30), 65535, -65536];
    for (const a of edges) for (const b of edges) expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmRef(a, b));
    for (let i = 0; i < 20000; i++) {
      const a = next();
      const b = next();
      expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmRef(a, b));
    }
  });

  it('RoundingDivideByPOT rounds half away from zero', () => {
    expect(roundingDivideByPOT(5, 1)).toBe(3); // 2.5 -> 3
    expect(roundingDivideByPOT(-5, 1)).toBe(-3); // -2.5 -> -3
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // -1.5 -> -2
    expect(roundingDivideByPOT(6, 2)).toBe(2); // 1.5 -> 2
    expect(roundingDivideByPOT(5, 2)).toBe(1); // 1.25 -> 1
    expect(roundingDivideByPOT(7, 0)).toBe(7);
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1);
  });

  it('QuantizeMultiplier encodes as TFLite does', () => {
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 1 << 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 1 << 30, shift: 1 });
    expect(quantizeMultiplier(0.75)).toEqual({ multiplier: 0x60000000, shift: 0 });
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(2 ** -40)).toEqual({ multiplier: 0, shift: 0 }); // flushed, shift < -31
    // q * 2^31 rounds up to 2^31: halved, shift incremented
    expect(quantizeMultiplier(1 - 2 ** -40)).toEqual({ multiplier: 1 << 30, shift: 1 });
    expect(quantizeMultiplier(Infinity)).toEqual({ multiplier: 0, shift: 0 }); // zero output scale, as TFLM on x86
    expect(quantizeMultiplier(NaN)).toEqual({ multiplier: 0, shift: 0 });
    expect(frexp(3)).toEqual({ q: 0.75, exp: 2 });
    expect(frexp(-0.1).exp).toBe(-3);
  });

  it('double rounding: hand-derived values, negative and zero shifts', () => {
    const half = quantizeMultiplier(0.5);
    expect(multiplyByQuantizedMultiplier(3, half.multiplier, half.shift)).toBe(2); // 1.5 -> 2
    // the doubling high multiply rounds ties upward (its nudge for negatives is 1 - 2^30): -1.5 -> -1
    expect(multiplyByQuantizedMultiplier(-3, half.multiplier, half.shift)).toBe(-1);
    const quarter = quantizeMultiplier(0.25); // shift -1
    expect(quarter.shift).toBe(-1);
    expect(multiplyByQuantizedMultiplier(6, quarter.multiplier, quarter.shift)).toBe(2); // 1.5 -> 2
    // -6 * 0.5 -> -3 exactly, then -3 / 2 = -1.5 rounds away from zero in RoundingDivideByPOT
    expect(multiplyByQuantizedMultiplier(-6, quarter.multiplier, quarter.shift)).toBe(-2);
    const three = quantizeMultiplier(3); // positive shift: x is shifted left first
    expect(three.shift).toBe(2);
    expect(multiplyByQuantizedMultiplier(7, three.multiplier, three.shift)).toBe(21);
    expect(multiplyByQuantizedMultiplier(5, 0, 0)).toBe(0); // zero multiplier (zero scale)
  });

  it('double and single rounding differ where the first rounding crosses a half', () => {
    // 0x40000001 * 2^-31 is just above 0.5: x=1 -> srdhm rounds 0.5000000005 to 1... then /2 is 0.5 -> 1;
    // single rounding sees 0.2500000002 -> 0.
    expect(multiplyByQuantizedMultiplier(1, 0x40000001, -1)).toBe(1);
    expect(multiplyByQuantizedMultiplierSingleRounding(1, 0x40000001, -1)).toBe(0);
  });

  it('single rounding matches the 64-bit definition', () => {
    const next = rng(7);
    for (let i = 0; i < 20000; i++) {
      const x = next();
      const m = (next() >>> 1) | 0x40000000;
      const shift = (Math.abs(next()) % 50) - 31; // -31 .. 18
      expect(multiplyByQuantizedMultiplierSingleRounding(x, m, shift)).toBe(singleRoundingRef(x, m, shift));
    }
  });
});
