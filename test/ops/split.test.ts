import { describe, expect, it } from 'vitest';
import { Split } from '../../ops/split.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const axis = (a: number) => makeTensor('int32', [], [a]);

describe('SPLIT', () => {
  it('splits the last axis of int8 rows into equal blocks', () => {
    const quant = { scale: 1, zeroPoint: 0 };
    const x = makeTensor('int8', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8], quant);
    const y0 = makeTensor('int8', [2, 2], undefined, quant);
    const y1 = makeTensor('int8', [2, 2], undefined, quant);
    runKernel(Split, { numSplits: 2 }, [axis(1), x], [y0, y1]);
    expect(values(y0)).toEqual([1, 2, 5, 6]);
    expect(values(y1)).toEqual([3, 4, 7, 8]);
  });

  it('takes a negative axis, and moves multi-byte elements whole', () => {
    const x = makeTensor('float32', [4, 1], [0.5, -1, 2.25, 3]);
    const y0 = makeTensor('float32', [2, 1]);
    const y1 = makeTensor('float32', [2, 1]);
    runKernel(Split, { numSplits: 2 }, [axis(-2), x], [y0, y1]);
    expect(values(y0)).toEqual([0.5, -1]);
    expect(values(y1)).toEqual([2.25, 3]);
  });

  it('splits the middle axis of uint8 into three', () => {
    const x = makeTensor('uint8', [1, 3, 2], [1, 2, 3, 4, 5, 6], { scale: 1, zeroPoint: 128 });
    const ys = [0, 1, 2].map(() => makeTensor('uint8', [1, 1, 2], undefined, { scale: 1, zeroPoint: 128 }));
    runKernel(Split, { numSplits: 3 }, [axis(1), x], ys);
    expect(ys.map(values)).toEqual([[1, 2], [3, 4], [5, 6]]);
  });

  it('rejects uneven splits, output counts and shapes that do not match', () => {
    const x = makeTensor('int8', [2, 4], new Array(8).fill(0), { scale: 1 });
    const out = (shape: number[]) => makeTensor('int8', shape, undefined, { scale: 1 });
    expect(() => runKernel(Split, { numSplits: 3 }, [axis(1), x], [out([2, 1]), out([2, 1]), out([2, 1])])).toThrow(
      /dim 1 of int8\[2,4\] does not split into 3 equal parts/,
    );
    expect(() => runKernel(Split, { numSplits: 2 }, [axis(1), x], [out([2, 2])])).toThrow(/num_splits is 2, node has 1 outputs/);
    expect(() => runKernel(Split, { numSplits: 2 }, [axis(0), x], [out([1, 4]), out([2, 2])])).toThrow(
      /output 1 is int8\[2,2\], expected \[1,4\]/,
    );
  });
});
