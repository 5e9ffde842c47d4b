// FULLY_CONNECTED: TFLM kernels/fully_connected.cc + fully_connected_common.cc, math of
// reference/integer_ops/fully_connected.h (int8) and reference/fully_connected.h (uint8, float32).
//
// Weights are [units, depth]; the input is read as [batches, depth] whatever its rank. int8: per-tensor
// weights (whose zero point is applied, as TFLM keeps it "for backward compatibility") or per-channel
// weights along dimension 0 (symmetric, zero points 0). uint8: per-tensor with a weights zero point.
// float32: float32 accumulation in TFLM's order. Requantization is TFLM's double rounding, except for int8 with
// `rounding: 'single'`: TFLite's built-in int8 kernel (optimized_integer_ops::FullyConnected) multiplies on ruy
// through cpu_backend_gemm, which rounds once, as for int8 CONV_2D (measured by the kernel suite). Its uint8
// kernel rounds twice, as TFLM.
import {
  readFullyConnectedOptions, BuiltinOperator, BuiltinOptionsType, type FullyConnectedOptions,
} from '../schema/tflite.js';
import { check, checkArity, input, KernelError, output, type OpKernel } from '../src/op.js';
import { multiplyByQuantizedMultiplier, requantizer } from '../src/quant.js';
import {
  evalWeighted, floatWeighted, quantizedWeighted, withFields, type FloatWeighted, type QuantizedArray,
  type QuantizedWeighted,
} from './conv-common.js';


/** FullyConnectedOptionsWeightsFormat.DEFAULT; the other value, SHUFFLED4x16INT8, is a uint8→int16 layout. */
const WEIGHTS_FORMAT_DEFAULT = 0;

interface FullyConnectedShape {
  batches: number;
  depth: number;
  units: number;
}

interface QuantizedFullyConnectedData extends FullyConnectedShape, QuantizedWeighted {
  requantize: (x: number, multiplier: number, shift: number) => number;
}

interface FloatFullyConnectedData extends FullyConnectedShape, FloatWeighted {}

type FullyConnectedData = QuantizedFullyConnectedData | FloatFullyConnectedData;

export const FullyConnected: OpKernel<FullyConnectedOptions, FullyConnectedData> = {
  name: 'FULLY_CONNECTED',
  code: BuiltinOperator.FULLY_CONNECTED,
  optionsType: BuiltinOptionsType.FullyConnectedOptions,
  parseOptions: readFullyConnectedOptions,

  prepare(node, context) {
    const opts = node.options;
    check(
      opts.weightsFormat === WEIGHTS_FORMAT_DEFAULT,
      () => `weights_format ${opts.weightsFormat === 1 ? 'SHUFFLED4x16INT8' : opts.weightsFormat} is not supported, only DEFAULT`,
    );
    checkArity(node, [2, 3], 1);
    const inputT = input(node, 0);
    const filter = input(node, 1);
    const bias = node.inputs[2] ?? null;
    const outputT = output(node, 0);

    check(outputT.dtype === inputT.dtype, () => `output is ${outputT.dtype}, input is ${inputT.dtype}`);
    check(
      filter.dtype === inputT.dtype,
      () => `weights are ${filter.dtype}, input is ${inputT.dtype} (hybrid and int4 weights are not supported)`,
    );
    check(filter.shape.length === 2, () => `weights must have rank 2 [units, depth], have shape [${filter.shape}]`);
    const [units, depth] = filter.shape;
    check(depth > 0, () => `weights have depth 0, shape [${filter.shape}]`);
    check(
      inputT.size % depth === 0,
      () => `input shape [${inputT.shape}] has ${inputT.size} elements, not a multiple of the weights' depth ${depth}`,
    );
    const batches = inputT.size / depth;
    if (opts.keepNumDims) {
      check(
        inputT.shape[inputT.shape.length - 1] === depth,
        () => `keep_num_dims needs the input's last dimension to be the weights' depth ${depth}, input is [${inputT.shape}]`,
      );
    }
    const expected = opts.keepNumDims ? [...inputT.shape.slice(0, -1), units] : [batches, units];
    check(
      outputT.shape.length === expected.length && expected.every((d, i) => outputT.shape[i] === d),
      () => `output shape is [${outputT.shape}], expected [${expected}]`,
    );
    if (bias) check(bias.size === units, () => `bias has ${bias.size} elements, weights have ${units} units`);

    const shape: FullyConnectedShape = { batches, depth, units };
    switch (inputT.dtype) {
      case 'float32':
        return withFields(shape, floatWeighted(bias, opts.activation, units));
      case 'int8':
      case 'uint8':
        return Object.assign(
          shape,
          quantizedWeighted('fully-connected', { inputT, filter, bias, outputT }, opts.activation, units),
          { requantize: inputT.dtype === 'int8' ? requantizer(context.rounding) : multiplyByQuantizedMultiplier },
        );
      default:
        throw new KernelError(`input type ${inputT.dtype} is not supported (float32, int8, uint8)`);
    }
  },

  eval: (node, data) => evalWeighted(node, data, fullyConnectedFloat, fullyConnectedQuantized),
};

function fullyConnectedQuantized(
  inputData: QuantizedArray,
  filterData: QuantizedArray,
  biasData: Int32Array,
  outputData: QuantizedArray,
  d: QuantizedFullyConnectedData,
): void {
  const { batches, depth, units, inputOffset, filterOffset, outputOffset, multipliers, shifts, requantize, min, max } = d;
  let out = 0;
  for (let b = 0; b < batches; b++) {
    const inputBase = b * depth;
    for (let u = 0; u < units; u++) {
      const filterBase = u * depth;
      // Exact in a double (each product is below 2^16 in magnitude); `| 0` below wraps the sum to int32
      // as TFLM's int32 accumulator would.
      let acc = 0;
      for (let k = 0; k < depth; k++) {
        acc += (filterData[filterBase + k] + filterOffset) * (inputData[inputBase + k] + inputOffset);
      }
      const v = requantize((acc + biasData[u]) | 0, multipliers[u], shifts[u]) + outputOffset;
      outputData[out++] = v < min ? min : v > max ? max : v;
    }
  }
}

function fullyConnectedFloat(
  inputData: Float32Array,
  filterData: Float32Array,
  biasData: Float32Array,
  outputData: Float32Array,
  d: FloatFullyConnectedData,
): void {
  const { batches, depth, units, min, max } = d;
  let out = 0;
  for (let b = 0; b < batches; b++) {
    const inputBase = b * depth;
    for (let u = 0; u < units; u++) {
      const filterBase = u * depth;
      // float32 arithmetic, rounded after every product and every sum, in TFLM's order.
      let total = 0;
      for (let k = 0; k < depth; k++) {
        total = Math.fround(total + Math.fround(filterData[filterBase + k] * inputData[inputBase + k]));
      }
      const v = Math.fround(total + biasData[u]);
      outputData[out++] = v < min ? min : v > max ? max : v;
    }
  }
}
