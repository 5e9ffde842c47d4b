// TRANSPOSE: output dim i is input dim perm[i], perm a constant int32 tensor (TFLM transpose.cc /
// reference_ops::Transpose, up to 6-D). Only bytes move, so any element type is handled as groups of
// element-size bytes: the output is walked in order while the input is read through permuted strides.
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkArity, input, output, type Node, type OpKernel } from '../src/op.js';
import { constantInts, ELEMENT_SIZE } from '../src/tensor.js';

const MAX_RANK = 6;

export interface TransposeData {
  /** Output dims, left-padded with 1s to MAX_RANK. */
  readonly outDims: Int32Array;
  /** For each output dim, the byte stride of the input dim it reads. */
  readonly inStrides: Int32Array;
  readonly elementSize: number;
}

function prepareTranspose(node: Node<void>): TransposeData {
  checkArity(node, 2, 1);
  const x = input(node, 0);
  const permTensor = input(node, 1);
  const y = output(node, 0);
  check(y.dtype === x.dtype, `output is ${y.dtype}, input is ${x.dtype}`);
  const elementSize = ELEMENT_SIZE[x.dtype];
  check(elementSize !== undefined, `input type ${x.dtype} is not supported`);
  const rank = x.shape.length;
  check(rank <= MAX_RANK, `input has ${rank} dimensions; at most ${MAX_RANK} are supported`);
  check(permTensor.dtype === 'int32', `perm is ${permTensor.dtype}, expected int32`);
  check(permTensor.isConstant, 'perm must be a constant tensor');
  const perm = constantInts(permTensor);
  check(
    perm.length === rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i),
    () => `perm [${perm.join(',')}] is not a permutation of the ${rank} input dims`,
  );
  const expected = perm.map((p) => x.shape[p]);
  check(
    y.shape.length === rank && expected.every((d, i) => y.shape[i] === d),
    () => `output is ${y.describe()}, expected [${expected.join(',')}]`,
  );

  const inputStrides = new Array<number>(rank);
  for (let i = rank - 1, stride = elementSize; i >= 0; i--) {
    inputStrides[i] = stride;
    stride *= x.shape[i];
  }
  const outDims = new Int32Array(MAX_RANK).fill(1);
  const inStrides = new Int32Array(MAX_RANK);
  for (let i = 0; i < rank; i++) {
    outDims[MAX_RANK - rank + i] = y.shape[i];
    inStrides[MAX_RANK - rank + i] = inputStrides[perm[i]];
  }
  return { outDims, inStrides, elementSize };
}

function transpose(d: TransposeData, x: Uint8Array, y: Uint8Array): void {
  const { outDims: n, inStrides: s, elementSize } = d;
  let to = 0;
  for (let a0 = 0; a0 < n[0]; a0++) {
    const i0 = a0 * s[0];
    for (let a1 = 0; a1 < n[1]; a1++) {
      const i1 = i0 + a1 * s[1];
      for (let a2 = 0; a2 < n[2]; a2++) {
        const i2 = i1 + a2 * s[2];
        for (let a3 = 0; a3 < n[3]; a3++) {
          const i3 = i2 + a3 * s[3];
          for (let a4 = 0; a4 < n[4]; a4++) {
            const i4 = i3 + a4 * s[4];
            for (let a5 = 0; a5 < n[5]; a5++) {
              const from = i4 + a5 * s[5];
              for (let k = 0; k < elementSize; k++) y[to++] = x[from + k];
            }
          }
        }
      }
    }
  }
}

export const Transpose: OpKernel<void, TransposeData> = {
  name: 'TRANSPOSE',
  code: BuiltinOperator.TRANSPOSE,
  parseOptions: () => undefined,
  prepare: prepareTranspose,
  eval: (node, data) => transpose(data, node.inputs[0]!.bytes, node.outputs[0].bytes),
};
