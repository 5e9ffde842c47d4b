// DEQUANTIZE: int8, uint8 or int16 to float32, out = static_cast<float>(double(scale) * (q - zero_point)) as
// TFLM's reference_ops::Dequantize computes it (TFLite's optimized kernel does the same for uint8). The double
// product of a float scale and a small integer is exact, so the float32 store rounds it once.
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkArity, checkQuantized, input, output, type Node, type OpKernel } from '../src/op.js';

export interface DequantizeData {
  readonly scale: number;
  readonly zeroPoint: number;
}

function prepareDequantize(node: Node<void>): DequantizeData {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  check(
    x.dtype === 'int8' || x.dtype === 'uint8' || x.dtype === 'int16',
    () => `input is ${x.dtype}; expected int8, uint8 or int16`,
  );
  check(y.dtype === 'float32', () => `output is ${y.dtype}; expected float32`);
  check(y.shape.join() === x.shape.join(), () => `output is ${y.describe()}, input is ${x.describe()}`);
  checkQuantized(x, 'input');
  check(
    x.quantization!.scale.length === 1,
    () => `input has ${x.quantization!.scale.length} scales; DEQUANTIZE supports per-tensor quantization only`,
  );
  return { scale: x.scale, zeroPoint: x.zeroPoint };
}

function evalDequantize(node: Node<void>, d: DequantizeData): void {
  const x = node.inputs[0]!.data as Int8Array | Uint8Array | Int16Array;
  const y = node.outputs[0].float32();
  const { scale, zeroPoint } = d;
  for (let i = 0; i < x.length; i++) y[i] = scale * (x[i] - zeroPoint);
}

export const Dequantize: OpKernel<void, DequantizeData> = {
  name: 'DEQUANTIZE',
  code: BuiltinOperator.DEQUANTIZE,
  parseOptions: () => undefined,
  prepare: prepareDequantize,
  eval: evalDequantize,
};
