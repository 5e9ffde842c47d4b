import { describe, expect, it } from 'vitest';
import { Squeeze } from '../../ops/squeeze.js';
import { makeTensor, runKernel, values } from '../helpers/op-harness.js';

describe('SQUEEZE', () => {
  it('drops every size-1 dim when squeeze_dims is empty', () => {
    const x = makeTensor('int8', [1, 3, 1, 2], [1, 2, 3, 4, 5, 6], { scale: 1 });
    const y = makeTensor('int8', [3, 2], undefined, { scale: 1 });
    runKernel(Squeeze, { squeezeDims: [] }, [x], [y]);
    expect(values(y)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('drops only the listed dims, negative ones counted from the end', () => {
    const x = makeTensor('float32', [1, 3, 1, 2], [1, 2, 3, 4, 5, 6]);
    const y = makeTensor('float32', [1, 3, 2]);
    runKernel(Squeeze, { squeezeDims: [-2] }, [x], [y]);
    expect(values(y)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rejects squeezing a dim that is not 1, and a wrong output shape', () => {
    const x = makeTensor('float32', [1, 3, 1, 2], [1, 2, 3, 4, 5, 6]);
    expect(() => runKernel(Squeeze, { squeezeDims: [1] }, [x], [makeTensor('float32', [1, 1, 2])])).toThrow(
      /squeeze dim 1 has size 3 in float32\[1,3,1,2\], not 1/,
    );
    expect(() => runKernel(Squeeze, { squeezeDims: [0] }, [x], [makeTensor('float32', [3, 2])])).toThrow(
      /output is float32\[3,2\], expected \[3,1,2\]/,
    );
  });
});
