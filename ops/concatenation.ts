// CONCATENATION: joins tensors along one axis. For each slice of the dims before the axis, each input's block
// is copied in turn, so the kernel moves raw bytes whatever the element type.
//
// uint8 inputs whose scale or zero point differs from the output's are requantized, as TFLite's uint8 kernel
// does (reference_ops::ConcatenationWithScaling, in float: round(q * s + b) + output_zp with
// s = input_scale * (1 / output_scale), b = -input_zp * s, then clamped). int8 is copied unchanged whatever
// the scales, as TFLM does (TFLite's Prepare rejects mismatched int8 instead); converters always give int8
// concatenation equal quantization, so we follow the runtime whose outputs we reproduce.
import {
  BuiltinOperator,
  BuiltinOptionsType,
  readConcatenationOptions,
  type ConcatenationOptions,
} from '../schema/tflite.js';
import { check, output, type Node, type OpKernel } from '../src/op.js';
import { FusedActivation, roundHalfAwayFromZero, typeRange } from '../src/quant.js';
import { ELEMENT_SIZE } from '../src/tensor.js';

export interface ConcatenationData {
  /** Product of the output dims before the axis. */
  readonly outer: number;
  /** Per input: bytes of its block in one outer slice. */
  readonly blockBytes: Int32Array;
  /** Per input: whether it is requantized rather than copied. */
  readonly requantize: Uint8Array;
  /** Per input requantized: the float32 scale and bias of ConcatenationWithScaling. */
  readonly scale: Float32Array;
  readonly bias: Float32Array;
  readonly outputZeroPoint: number;
  readonly min: number;
  readonly max: number;
}

function prepareConcatenation(node: Node<ConcatenationOptions>): ConcatenationData {
  check(node.inputs.length >= 1, 'expects at least 1 input, has 0');
  check(node.outputs.length === 1, `expects 1 output, has ${node.outputs.length}`);
  const y = output(node, 0);
  const inputs = node.inputs.map((t, i) => {
    check(t, `input ${i} is missing`);
    return t;
  });
  const { activation } = node.options;
  check(activation === FusedActivation.NONE, `fused activation ${activation} is not supported`);
  const elementSize = ELEMENT_SIZE[y.dtype];
  check(elementSize !== undefined, `output type ${y.dtype} is not supported`);
  const rank = y.shape.length;
  const axis = node.options.axis < 0 ? node.options.axis + rank : node.options.axis;
  check(axis >= 0 && axis < rank, `axis ${node.options.axis} is out of range for a ${rank}-D output`);

  let axisTotal = 0;
  inputs.forEach((t, i) => {
    check(t.dtype === y.dtype, `input ${i} is ${t.dtype}, output is ${y.dtype}`);
    check(
      t.shape.length === rank && t.shape.every((d, k) => k === axis || d === y.shape[k]),
      () => `input ${i} is ${t.describe()}; output ${y.describe()} needs the same dims except axis ${axis}`,
    );
    axisTotal += t.shape[axis];
  });
  check(
    axisTotal === y.shape[axis],
    () => `inputs sum to ${axisTotal} along axis ${axis}, output has ${y.shape[axis]}`,
  );

  const inner = y.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const rescales = y.dtype === 'uint8';
  const { min, max } = rescales ? typeRange('uint8') : { min: 0, max: 0 };
  const inverseOutputScale = Math.fround(1 / y.scale);
  const scale = new Float32Array(inputs.length);
  const bias = new Float32Array(inputs.length);
  const requantize = new Uint8Array(inputs.length);
  inputs.forEach((t, i) => {
    if (!rescales || (t.scale === y.scale && t.zeroPoint === y.zeroPoint)) return;
    requantize[i] = 1;
    scale[i] = t.scale * inverseOutputScale;
    bias[i] = -t.zeroPoint * scale[i];
  });
  return {
    outer: y.shape.slice(0, axis).reduce((n, d) => n * d, 1),
    blockBytes: Int32Array.from(inputs, (t) => t.shape[axis] * inner * elementSize),
    requantize,
    scale,
    bias,
    outputZeroPoint: y.zeroPoint,
    min,
    max,
  };
}

function concatenate(d: ConcatenationData, node: Node<ConcatenationOptions>): void {
  const y = node.outputs[0].bytes;
  const yValues = node.outputs[0].data as Uint8Array;
  const { blockBytes, requantize, outputZeroPoint, min, max } = d;
  let to = 0;
  for (let k = 0; k < d.outer; k++) {
    for (let i = 0; i < blockBytes.length; i++) {
      const block = blockBytes[i];
      const x = node.inputs[i]!;
      const from = k * block;
      if (requantize[i]) {
        // Elements are bytes here (uint8), so byte offsets are element offsets.
        const xValues = x.data as Uint8Array;
        const scale = d.scale[i];
        const bias = d.bias[i];
        for (let j = 0; j < block; j++) {
          const v = roundHalfAwayFromZero(Math.fround(Math.fround(xValues[from + j] * scale) + bias)) + outputZeroPoint;
          yValues[to + j] = v < min ? min : v > max ? max : v;
        }
      } else {
        const xBytes = x.bytes;
        for (let j = 0; j < block; j++) y[to + j] = xBytes[from + j];
      }
      to += block;
    }
  }
}

export const Concatenation: OpKernel<ConcatenationOptions, ConcatenationData> = {
  name: 'CONCATENATION',
  code: BuiltinOperator.CONCATENATION,
  optionsType: BuiltinOptionsType.ConcatenationOptions,
  parseOptions: readConcatenationOptions,
  prepare: prepareConcatenation,
  eval: (node, data) => concatenate(data, node),
};
