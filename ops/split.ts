// SPLIT: cuts input 1 into num_splits equal parts along the axis held by constant input 0 (TFLM split.cc
// requires it constant; TFLite's split.cc requires the even division). The inverse of CONCATENATION: for each
// slice of the dims before the axis, consecutive blocks of bytes go to each output in turn.
import { BuiltinOperator, BuiltinOptionsType, readSplitOptions, type SplitOptions } from '../schema/tflite.js';
import { check, input, type Node, type OpKernel } from '../src/op.js';
import { constantInts, ELEMENT_SIZE } from '../src/tensor.js';

export interface SplitData {
  /** Product of the input dims before the axis. */
  readonly outer: number;
  /** Bytes of each output's block in one outer slice. */
  readonly blockBytes: number;
}

function prepareSplit(node: Node<SplitOptions>): SplitData {
  check(node.inputs.length === 2, `expects 2 inputs, has ${node.inputs.length}`);
  const axisTensor = input(node, 0);
  const x = input(node, 1);
  const parts = node.options.numSplits;
  check(parts > 0 && node.outputs.length === parts, `num_splits is ${parts}, node has ${node.outputs.length} outputs`);
  check(
    axisTensor.dtype === 'int32' && axisTensor.size === 1,
    () => `axis is ${axisTensor.describe()}, expected one int32`,
  );
  check(axisTensor.isConstant, 'axis must be a constant tensor');
  const elementSize = ELEMENT_SIZE[x.dtype];
  check(elementSize !== undefined, `input type ${x.dtype} is not supported`);
  const rank = x.shape.length;
  const [requestedAxis] = constantInts(axisTensor);
  const axis = requestedAxis < 0 ? requestedAxis + rank : requestedAxis;
  check(axis >= 0 && axis < rank, `axis ${requestedAxis} is out of range for a ${rank}-D input`);
  check(x.shape[axis] % parts === 0, () => `dim ${axis} of ${x.describe()} does not split into ${parts} equal parts`);

  const expected = x.shape.map((d, i) => (i === axis ? d / parts : d));
  node.outputs.forEach((y, i) => {
    check(y.dtype === x.dtype, `output ${i} is ${y.dtype}, input is ${x.dtype}`);
    check(
      y.shape.length === rank && expected.every((d, k) => y.shape[k] === d),
      () => `output ${i} is ${y.describe()}, expected [${expected.join(',')}]`,
    );
  });
  const inner = x.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  return {
    outer: x.shape.slice(0, axis).reduce((n, d) => n * d, 1),
    blockBytes: expected[axis] * inner * elementSize,
  };
}

function split(d: SplitData, node: Node<SplitOptions>): void {
  const x = node.inputs[1]!.bytes;
  const { outer, blockBytes } = d;
  let from = 0;
  for (let k = 0; k < outer; k++) {
    const to = k * blockBytes;
    for (let o = 0; o < node.outputs.length; o++) {
      const y = node.outputs[o].bytes;
      for (let j = 0; j < blockBytes; j++) y[to + j] = x[from++];
    }
  }
}

export const Split: OpKernel<SplitOptions, SplitData> = {
  name: 'SPLIT',
  code: BuiltinOperator.SPLIT,
  optionsType: BuiltinOptionsType.SplitOptions,
  parseOptions: readSplitOptions,
  prepare: prepareSplit,
  eval: (node, data) => split(data, node),
};
