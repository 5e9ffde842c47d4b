import { describe, expect, it } from 'vitest';
import { broadcastShape, forEachBroadcastRow, planBroadcast } from '../../ops/broadcast.js';
import { makeTensor } from '../helpers/op-harness.js';

/** The (a index, b index) pair each output element is computed from, in output order. */
function walk(aShape: number[], bShape: number[], outShape: number[]): [number, number][] {
  const plan = planBroadcast(makeTensor('int8', aShape), makeTensor('int8', bShape), makeTensor('int8', outShape));
  const pairs: [number, number][] = [];
  forEachBroadcastRow(
    plan,
    (_: null, _a: null, aStart, aStep, _b: null, bStart, bStep, _out: null, outStart, n) => {
      for (let i = 0; i < n; i++) {
        expect(pairs.length).toBe(outStart + i);
        pairs.push([aStart + i * aStep, bStart + i * bStep]);
      }
    },
    null,
    null,
    null,
    null,
  );
  return pairs;
}

describe('broadcastShape', () => {
  it('aligns shapes at the right and takes the non-1 dim', () => {
    expect(broadcastShape([1, 2, 2, 3], [3])).toEqual([1, 2, 2, 3]);
    expect(broadcastShape([], [2, 3])).toEqual([2, 3]);
    expect(broadcastShape([2, 1, 3], [1, 4, 3])).toEqual([2, 4, 3]);
    expect(broadcastShape([1, 1, 1, 1], [2, 3])).toEqual([1, 1, 2, 3]);
    expect(broadcastShape([0, 3], [1, 3])).toEqual([0, 3]);
    expect(broadcastShape([2, 3], [3, 2])).toBeNull();
  });
});

describe('planBroadcast', () => {
  it('walks [1,2,2,3] + [3] as 4 rows of 3, the second operand restarting each row', () => {
    const plan = planBroadcast(makeTensor('int8', [1, 2, 2, 3]), makeTensor('int8', [3]), makeTensor('int8', [1, 2, 2, 3]));
    expect([plan.rows, plan.rowLength, plan.rowStepA, plan.rowStepB]).toEqual([4, 3, 1, 1]);
    expect(walk([1, 2, 2, 3], [3], [1, 2, 2, 3])).toEqual(
      Array.from({ length: 12 }, (_, i) => [i, i % 3]),
    );
  });

  it('fuses equal shapes into one row and a scalar into a zero step', () => {
    const same = planBroadcast(makeTensor('int8', [2, 3]), makeTensor('int8', [2, 3]), makeTensor('int8', [2, 3]));
    expect([same.rows, same.rowLength, same.rowStepA, same.rowStepB]).toEqual([1, 6, 1, 1]);
    expect(walk([1, 1, 1, 1], [2, 3], [1, 1, 2, 3])).toEqual(Array.from({ length: 6 }, (_, i) => [0, i]));
    expect(walk([2, 3], [], [2, 3])).toEqual(Array.from({ length: 6 }, (_, i) => [i, 0]));
    expect(walk([], [], [])).toEqual([[0, 0]]);
  });

  it('broadcasts both operands along different dims', () => {
    // out[i][j][k] = f(a[i][0][k], b[0][j][k]): a index 3i + k, b index 3j + k.
    const expected: [number, number][] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 3; k++) expected.push([3 * i + k, 3 * j + k]);
    expect(walk([2, 1, 3], [1, 4, 3], [2, 4, 3])).toEqual(expected);
    // A broadcast innermost dim: out[i][j] = f(a[i][0], b[j]).
    expect(walk([3, 1], [2], [3, 2])).toEqual([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
  });

  it('walks nothing for an empty output', () => {
    expect(walk([0, 3], [1, 3], [0, 3])).toEqual([]);
  });

  it('rejects shapes that do not broadcast, and an output of another shape', () => {
    expect(() => walk([2, 3], [3, 2], [2, 3])).toThrow(/int8\[2,3\] and int8\[3,2\] do not broadcast/);
    expect(() => walk([1, 2, 2, 3], [3], [1, 2, 2, 4])).toThrow(/broadcast to \[1,2,2,3\], output is int8\[1,2,2,4\]/);
    expect(() => walk([2, 3], [3], [1, 2, 3])).toThrow(/broadcast to \[2,3\], output is int8\[1,2,3\]/);
  });
});
