// RESHAPE: the same bytes under another shape. The output's shape is the model's (TFLM's reshape_common.cc
// uses the output tensor's own dims); the requested shape, from the optional shape tensor or else the
// options (as TFLite's reshape.cc picks it), is only checked against it.
import { BuiltinOperator, BuiltinOptionsType, readReshapeOptions, type ReshapeOptions } from '../schema/tflite.js';
import { check, checkArity, input, output, type InputReuse, type Node, type OpKernel } from '../src/op.js';
import { constantInts, type Tensor } from '../src/tensor.js';

function prepareReshape(node: Node<ReshapeOptions>): void {
  checkArity(node, [1, 2], 1);
  const x = input(node, 0);
  const y = output(node, 0);
  check(y.dtype === x.dtype, `output is ${y.dtype}, input is ${x.dtype}`);
  check(y.size === x.size, () => `output ${y.describe()} has ${y.size} elements, input ${x.describe()} has ${x.size}`);
  const requested = requestedShape(node.inputs[1] ?? null, node.options);
  if (requested) {
    const resolved = resolveStretch(requested, x.size);
    check(
      resolved.length === y.shape.length && resolved.every((d, i) => d === y.shape[i]),
      () => `new shape [${requested.join(',')}] gives [${resolved.join(',')}], output is ${y.describe()}`,
    );
  }
}

/**
 * TFLite's GetOutputShape: a 1-D int32 shape tensor wins over the options. A shape tensor computed at run
 * time cannot be checked here; TFLM never reads it either.
 */
function requestedShape(shapeTensor: Tensor | null, options: ReshapeOptions): number[] | null {
  if (shapeTensor && shapeTensor.dtype === 'int32' && shapeTensor.shape.length === 1) {
    return shapeTensor.isConstant ? constantInts(shapeTensor) : null;
  }
  if (!options.newShape) return null;
  // Legacy converters wrote new_shape [0] for a scalar.
  return options.newShape.length === 1 && options.newShape[0] === 0 ? [] : options.newShape;
}

/** Replaces the one -1 allowed in a shape by whatever makes the element count `elements`. */
function resolveStretch(shape: readonly number[], elements: number): number[] {
  const stretch = shape.indexOf(-1);
  check(stretch === shape.lastIndexOf(-1), () => `new shape [${shape.join(',')}] has more than one -1`);
  if (stretch < 0) return [...shape];
  const known = shape.reduce((n, d, i) => (i === stretch ? n : n * d), 1);
  check(known > 0 && elements % known === 0, () => `new shape [${shape.join(',')}] cannot hold ${elements} elements`);
  return shape.map((d, i) => (i === stretch ? elements / known : d));
}

/**
 * The whole of RESHAPE and SQUEEZE at run time: a copy, or nothing when the planner gave the output the
 * input's memory (possibly through a different view object).
 */
export function copyUnlessAliased(node: Node<unknown>): void {
  const from = node.inputs[0]!.bytes;
  const to = node.outputs[0].bytes;
  if (to.buffer !== from.buffer || to.byteOffset !== from.byteOffset) to.set(from);
}

/** OpKernel.reusableInputs of RESHAPE and SQUEEZE: the output is the input's bytes. */
export function aliasInput0(): InputReuse[] {
  return [{ input: 0, kind: 'alias' }];
}

export const Reshape: OpKernel<ReshapeOptions, void> = {
  name: 'RESHAPE',
  code: BuiltinOperator.RESHAPE,
  optionsType: BuiltinOptionsType.ReshapeOptions,
  parseOptions: readReshapeOptions,
  prepare: prepareReshape,
  eval: copyUnlessAliased,
  reusableInputs: aliasInput0,
};
