// Build tensors and run one kernel outside any model: the unit-test harness for ops/.
import type { OpKernel, PrepareContext } from '../../src/op.js';
import { Tensor, ELEMENT_SIZE, elementCount, type DType } from '../../src/tensor.js';
import { SimdMemory } from '../../src/wasm/runtime.js';

export interface QuantSpec {
  scale: number | number[];
  zeroPoint?: number | number[];
  quantizedDimension?: number;
}

/** A tensor with its own buffer, filled with `values` (converted to the dtype) when given. */
export function makeTensor(
  dtype: DType,
  shape: number[],
  values?: ArrayLike<number>,
  quant?: QuantSpec,
  constant = values !== undefined,
): Tensor {
  const scales = quant === undefined ? null : Array.isArray(quant.scale) ? quant.scale : [quant.scale];
  const zeros =
    quant === undefined
      ? []
      : Array.isArray(quant.zeroPoint)
        ? quant.zeroPoint
        : scales!.map(() => (quant.zeroPoint as number | undefined) ?? 0);
  const t = new Tensor(
    0,
    'test',
    dtype,
    shape,
    scales ? { scale: Float32Array.from(scales), zeroPoint: zeros, quantizedDimension: quant?.quantizedDimension ?? 0 } : null,
    constant,
  );
  const bytes = new Uint8Array(elementCount(shape) * (ELEMENT_SIZE[dtype] ?? 1));
  t.setBytes(bytes);
  if (values) {
    if (t.data instanceof BigInt64Array) t.data.set(Array.from(values, (v) => BigInt(v)));
    else t.data.set(values);
  }
  return t;
}

/** Runs parse-free prepare + eval of `kernel` on the given tensors; returns the prepared data. */
export function runKernel<O, D>(
  kernel: OpKernel<O, D>,
  options: O,
  inputs: (Tensor | null)[],
  outputs: Tensor[],
  context: Partial<PrepareContext> = {},
  beforeEval: () => void = () => undefined,
): D {
  const node = { index: 0, op: kernel.name, inputs, outputs, options };
  const data = kernel.prepare(node, { rounding: 'double', ...context });
  beforeEval();
  kernel.eval(node, data);
  return data;
}

/** The output values as a plain array, for toEqual against hand-derived expectations. */
export function values(t: Tensor): number[] {
  return Array.from(t.data as ArrayLike<number>);
}

/**
 * runKernel on the SIMD tier: prepare with a SimdMemory, then every non-constant tensor moved into that memory (as
 * the interpreter places its arena there), then eval. The tensors keep their values and end up as views of it.
 */
export function runKernelSimd<O, D>(
  kernel: OpKernel<O, D>,
  options: O,
  inputs: (Tensor | null)[],
  outputs: Tensor[],
  context: Partial<PrepareContext> = {},
): D {
  const simd = new SimdMemory();
  return runKernel(kernel, options, inputs, outputs, { kernels: 'fast', ...context, simd }, () => {
    const moved = [...new Set([...inputs, ...outputs])].filter((t): t is Tensor => t !== null && !t.isConstant);
    const addresses = moved.map((t) => simd.alloc(t.byteLength));
    simd.freeze();
    moved.forEach((t, i) => {
      const bytes = new Uint8Array(simd.memory.buffer, addresses[i], t.byteLength);
      bytes.set(t.bytes);
      t.setBytes(bytes);
    });
  });
}
