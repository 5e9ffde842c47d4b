// SQUEEZE: drops size-1 dims (those listed in squeeze_dims, or all of them when the list is empty), as TFLM's
// squeeze.cc checks them; the bytes are unchanged.
import { BuiltinOperator, BuiltinOptionsType, readSqueezeOptions, type SqueezeOptions } from '../schema/tflite.js';
import { check, checkArity, input, output, type Node, type OpKernel } from '../src/op.js';
import { aliasInput0, copyUnlessAliased } from './reshape.js';

function prepareSqueeze(node: Node<SqueezeOptions>): void {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  check(y.dtype === x.dtype, `output is ${y.dtype}, input is ${x.dtype}`);
  const rank = x.shape.length;
  const { squeezeDims } = node.options;
  const squeezed = x.shape.map((d) => squeezeDims.length === 0 && d === 1);
  for (const s of squeezeDims) {
    const axis = s < 0 ? s + rank : s;
    check(axis >= 0 && axis < rank, `squeeze dim ${s} is out of range for a ${rank}-D input`);
    check(x.shape[axis] === 1, () => `squeeze dim ${s} has size ${x.shape[axis]} in ${x.describe()}, not 1`);
    squeezed[axis] = true;
  }
  const expected = x.shape.filter((_, i) => !squeezed[i]);
  check(
    y.shape.length === expected.length && expected.every((d, i) => y.shape[i] === d),
    () => `output is ${y.describe()}, expected [${expected.join(',')}]`,
  );
}

export const Squeeze: OpKernel<SqueezeOptions, void> = {
  name: 'SQUEEZE',
  code: BuiltinOperator.SQUEEZE,
  optionsType: BuiltinOptionsType.SqueezeOptions,
  parseOptions: readSqueezeOptions,
  prepare: prepareSqueeze,
  eval: copyUnlessAliased,
  reusableInputs: aliasInput0,
};
