import { describe, expect, it } from 'vitest';
import { Reshape } from '../../ops/reshape.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

const quant = { scale: 0.5, zeroPoint: -1 };

describe('RESHAPE', () => {
  it('copies the bytes when the output has its own memory; -1 in the shape tensor takes what is left', () => {
    const x = makeTensor('int8', [1, 2, 3], [1, -2, 3, -4, 5, -6], quant);
    const y = makeTensor('int8', [3, 2], undefined, quant);
    runKernel(Reshape, { newShape: null }, [x, makeTensor('int32', [2], [-1, 2])], [y]);
    expect(values(y)).toEqual([1, -2, 3, -4, 5, -6]);
  });

  it('does nothing when the output shares the input memory, even through another view', () => {
    const x = makeTensor('float32', [2, 2], [1.5, -2, 3, 4]);
    const y = makeTensor('float32', [4]);
    y.setBytes(new Uint8Array(x.bytes.buffer, x.bytes.byteOffset, x.bytes.byteLength));
    runKernel(Reshape, { newShape: [4] }, [x], [y]);
    expect(values(y)).toEqual([1.5, -2, 3, 4]);
  });

  it('reads the new shape from the options when there is no shape tensor; [0] is a legacy scalar', () => {
    const x = makeTensor('int32', [6], [1, 2, 3, 4, 5, 6]);
    const y = makeTensor('int32', [2, 3]);
    runKernel(Reshape, { newShape: [2, -1] }, [x], [y]);
    expect(values(y)).toEqual([1, 2, 3, 4, 5, 6]);

    const one = makeTensor('uint8', [1, 1], [7]);
    const scalar = makeTensor('uint8', []);
    runKernel(Reshape, { newShape: [0] }, [one], [scalar]);
    expect(values(scalar)).toEqual([7]);
  });

  it('rejects element counts and shapes that do not fit', () => {
    const x = makeTensor('int8', [2, 3], [0, 0, 0, 0, 0, 0], quant);
    expect(() => runKernel(Reshape, { newShape: null }, [x], [makeTensor('int8', [5], undefined, quant)])).toThrow(
      /output int8\[5\] has 5 elements, input int8\[2,3\] has 6/,
    );
    const y = makeTensor('int8', [2, 3], undefined, quant);
    expect(() => runKernel(Reshape, { newShape: [3, -1] }, [x], [y])).toThrow(/new shape \[3,-1\] gives \[3,2\], output is int8\[2,3\]/);
    expect(() => runKernel(Reshape, { newShape: [-1, -1] }, [x], [y])).toThrow(/has more than one -1/);
    expect(() => runKernel(Reshape, { newShape: [4, -1] }, [x], [y])).toThrow(/cannot hold 6 elements/);
  });
});
