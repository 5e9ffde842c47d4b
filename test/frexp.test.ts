// frexp reads the exponent bits of a double; its edges, derived by hand: x = q * 2^exp with 0.5 <= |q| < 1.
import { describe, expect, it } from 'vitest';
import { frexp } from '../src/quant.js';

describe('frexp', () => {
  it('powers of two and their neighbours', () => {
    expect(frexp(1)).toEqual({ q: 0.5, exp: 1 });
    expect(frexp(0.5)).toEqual({ q: 0.5, exp: 0 });
    expect(frexp(1 - 2 ** -53)).toEqual({ q: 1 - 2 ** -53, exp: 0 });
    expect(frexp(-6)).toEqual({ q: -0.75, exp: 3 });
  });

  it('the largest and smallest normal doubles', () => {
    expect(frexp(Number.MAX_VALUE)).toEqual({ q: 1 - 2 ** -53, exp: 1024 });
    expect(frexp(2 ** -1022)).toEqual({ q: 0.5, exp: -1021 });
  });

  it('subnormals, down to the smallest double', () => {
    expect(frexp(2 ** -1023)).toEqual({ q: 0.5, exp: -1022 });
    expect(frexp(3 * 2 ** -1074)).toEqual({ q: 0.75, exp: -1072 });
    expect(frexp(-Number.MIN_VALUE)).toEqual({ q: -0.5, exp: -1073 });
  });

  it('zero and non-finite values come back unchanged with exponent 0', () => {
    expect(frexp(0)).toEqual({ q: 0, exp: 0 });
    expect(frexp(-Infinity)).toEqual({ q: -Infinity, exp: 0 });
    expect(frexp(NaN)).toEqual({ q: NaN, exp: 0 });
  });
});
