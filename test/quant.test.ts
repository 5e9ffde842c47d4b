import { describe, expect, it } from 'vitest';
import {
  calculateInputRadius,
  expOnIntervalBetweenNegativeOneQuarterAnd0Excl,
  expOnNegativeValues,
  frexp,
  logisticFixedPoint,
  oneOverOnePlusXForXIn01,
  reciprocalMantissa,
  rescale,
  roundingDivideByPOTInt16,
  roundingHalfSum,
  saturatingRoundingDoublingHighMulInt16,
  saturatingRoundingMultiplyByPOT,
  truncateToInt32,
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

describe('conversions and parameters', () => {
  it('truncateToInt32 truncates toward zero and gives INT32_MIN for NaN and out-of-range values (x86)', () => {
    expect(truncateToInt32(2.9)).toBe(2);
    expect(truncateToInt32(-2.9)).toBe(-2);
    expect(Object.is(truncateToInt32(-0.5), 0)).toBe(true);
    expect(truncateToInt32(2147483647)).toBe(INT32_MAX);
    expect(truncateToInt32(-2147483648)).toBe(INT32_MIN);
    expect(truncateToInt32(2147483648)).toBe(INT32_MIN);
    expect(truncateToInt32(Infinity)).toBe(INT32_MIN);
    expect(truncateToInt32(-Infinity)).toBe(INT32_MIN);
    expect(truncateToInt32(NaN)).toBe(INT32_MIN);
  });

  it('calculateInputRadius is floor((2^bits - 1) * 2^(31 - bits) / 2^shift)', () => {
    expect(calculateInputRadius(4, 24)).toBe(120); // 15 * 2^27 / 2^24
    expect(calculateInputRadius(5, 27)).toBe(15); // 31 * 2^26 / 2^27 = 15.5
    expect(calculateInputRadius(5, 31)).toBe(0); // 31 / 32
  });
});

describe('gemmlowp fixed point', () => {
  it('RoundingHalfSum rounds half away from zero', () => {
    expect(roundingHalfSum(1, 2)).toBe(2); // 1.5
    expect(roundingHalfSum(-1, -2)).toBe(-2); // -1.5
    expect(roundingHalfSum(0, INT32_MAX)).toBe(2 ** 30); // 2^31 - 1 over 2 = 2^30 - 0.5 -> 2^30
    expect(roundingHalfSum(INT32_MAX, INT32_MAX)).toBe(INT32_MAX);
  });

  it('SaturatingRoundingMultiplyByPOT saturates left shifts and rounds right shifts', () => {
    expect(saturatingRoundingMultiplyByPOT(3, 4)).toBe(48);
    expect(saturatingRoundingMultiplyByPOT(2 ** 27 - 1, 4)).toBe(2 ** 31 - 16);
    expect(saturatingRoundingMultiplyByPOT(2 ** 27, 4)).toBe(INT32_MAX); // 2^31 does not fit
    expect(saturatingRoundingMultiplyByPOT(-(2 ** 27), 4)).toBe(INT32_MIN);
    expect(saturatingRoundingMultiplyByPOT(-5, 31)).toBe(INT32_MIN);
    expect(saturatingRoundingMultiplyByPOT(-6, -2)).toBe(-2); // -1.5 -> -2
    expect(saturatingRoundingMultiplyByPOT(7, 0)).toBe(7);
    expect(rescale(1 << 20, 0, 12)).toBe(1 << 8); // Q0.31 -> Q12.19: 12 bits to the right
  });

  it('exp on [-1/4, 0) and on negative values approximates exp to the Taylor error, exact at 0', () => {
    expect(expOnNegativeValues(0, 5)).toBe(INT32_MAX);
    // The expansion is around -1/8 (-2^28 in Q0.31): there every term but the constant exp(-1/8) vanishes.
    expect(expOnIntervalBetweenNegativeOneQuarterAnd0Excl(-(2 ** 28))).toBe(Math.round(Math.exp(-1 / 8) * 2 ** 31));
    // At -1/4, 1/8 away, the truncated 5th-order term (1/8)^5 / 5! = 2.5e-7 is about 546 units of 2^-31.
    expect(Math.abs(expOnIntervalBetweenNegativeOneQuarterAnd0Excl(-(2 ** 29)) - Math.exp(-0.25) * 2 ** 31)).toBeLessThan(600);
    for (const integerBits of [4, 5]) {
      let worst = 0;
      for (let i = 1; i <= 20000; i++) {
        const a = -Math.floor((i * (2 ** 31 - 1)) / 20000); // down to -2^integerBits
        const exact = Math.exp(a / 2 ** (31 - integerBits));
        worst = Math.max(worst, Math.abs(expOnNegativeValues(a, integerBits) / 2 ** 31 - exact));
      }
      expect(worst).toBeLessThan(5e-7); // (1/8)^5 / 5! = 2.5e-7, plus rounding
    }
    // Beyond -32 only formats with more than 5 integer bits reach, and exp is 0 there.
    expect(expOnNegativeValues(-(33 * 2 ** 24), 7)).toBe(0);
  });

  it('one_over_one_plus_x, logistic and GetReciprocal converge to their real values', () => {
    let worst = 0;
    for (let i = 0; i < 20000; i++) {
      const x = Math.floor((i * (2 ** 31 - 1)) / 20000);
      worst = Math.max(worst, Math.abs(oneOverOnePlusXForXIn01(x) / 2 ** 31 - 1 / (1 + x / 2 ** 31)));
    }
    expect(worst).toBeLessThan(1e-8); // three Newton-Raphson steps

    expect(logisticFixedPoint(0, 4)).toBe(2 ** 30); // exactly 1/2
    worst = 0;
    for (let i = -20000; i <= 20000; i++) {
      const a = i * 107374; // Q4.27, about -16 .. 16
      worst = Math.max(worst, Math.abs(logisticFixedPoint(a, 4) / 2 ** 31 - 1 / (1 + Math.exp(-a / 2 ** 27))));
    }
    expect(worst).toBeLessThan(2e-7);

    // 3 * 2^19 is 1.5 once normalized: its reciprocal is 2/3.
    expect(Math.abs(reciprocalMantissa(3 * 2 ** 19) / 2 ** 31 - 2 / 3)).toBeLessThan(1e-8);
    expect(Math.clz32(3 * 2 ** 19)).toBe(11); // so num_bits_over_unit is 12 - 11 = 1 for a Q12.19 sum
  });

  it('int16 SaturatingRoundingDoublingHighMul is the rounded high half of 2ab', () => {
    expect(saturatingRoundingDoublingHighMulInt16(-32768, -32768)).toBe(32767);
    expect(saturatingRoundingDoublingHighMulInt16(16384, 16384)).toBe(8192); // 0.5 * 0.5
    expect(saturatingRoundingDoublingHighMulInt16(1, 16384)).toBe(1); // 0.5 rounds up
    expect(saturatingRoundingDoublingHighMulInt16(-1, 16384)).toBe(0); // -0.5 rounds up too
    expect(saturatingRoundingDoublingHighMulInt16(3, 16384)).toBe(2); // 1.5 -> 2
    expect(saturatingRoundingDoublingHighMulInt16(-3, 16384)).toBe(-1); // -1.5 -> -1
    const next = rng(3);
    for (let i = 0; i < 20000; i++) {
      const a = next() >> 16;
      const b = next() >> 16;
      if (a === -32768 && b === -32768) continue;
      expect(saturatingRoundingDoublingHighMulInt16(a, b)).toBe(Math.floor((a * b + 16384) / 32768));
    }
  });

  it('int16 RoundingDivideByPOT rounds half away from zero, with an int16 mask', () => {
    expect(roundingDivideByPOTInt16(6080, 6)).toBe(95);
    expect(roundingDivideByPOTInt16(32, 6)).toBe(1); // 0.5 -> 1
    expect(roundingDivideByPOTInt16(-32, 6)).toBe(-1); // -0.5 -> -1
    expect(roundingDivideByPOTInt16(-31, 6)).toBe(0);
    expect(roundingDivideByPOTInt16(32767, 15)).toBe(1);
    expect(roundingDivideByPOTInt16(-32768, 15)).toBe(-1);
    // From 16 on, (1 << exponent) - 1 truncated to int16 is -1, so the threshold is -1 (x >= 0) or 0 (x < 0)
    // and the remainder is x itself: non-negative x always gets the +1, negative x never does.
    expect(roundingDivideByPOTInt16(-1, 16)).toBe(-1);
    expect(roundingDivideByPOTInt16(-32768, 16)).toBe(-1);
    expect(roundingDivideByPOTInt16(0, 16)).toBe(1);
    expect(roundingDivideByPOTInt16(32767, 16)).toBe(1);
  });
});
