// The contract between the interpreter and an operator, in TFLM's image (kernels/conv.cc + conv_common.cc):
//   parseOptions — read the op's builtin options table (once, at load);
//   prepare      — check shapes and types, precompute everything that depends only on the model
//                  (multipliers, shifts, offsets, index tables); called once, may allocate;
//   eval         — integer arithmetic on the arena, allocating nothing.
// An op file exports one `OpKernel` object and registers nothing by itself: the resolver adds it.
import type { Table } from '../schema/flatbuffer.js';
import type { Rounding } from './quant.js';
import type { Tensor, TensorData } from './tensor.js';
import type { SimdMemory, WasmKernelModule } from './wasm/runtime.js';

/** One operator instance in the graph, as its kernel sees it. */
export interface Node<Options> {
  /** Position in the subgraph's operator list: the "number" in TFLM's error messages. */
  readonly index: number;
  /** BuiltinOperator name, e.g. "CONV_2D". */
  readonly op: string;
  /** Input tensors in the model's order; null where the model passes -1 (an absent optional input). */
  readonly inputs: readonly (Tensor | null)[];
  readonly outputs: readonly Tensor[];
  readonly options: Options;
}

/**
 * Which arithmetic a kernel with a fast path runs: 'fast' (the default) picks, in prepare, a specialized kernel
 * when the configuration fits — WebAssembly SIMD (ops/wasm/) when PrepareContext.simd is given, else pure JS
 * (ops/fast/); 'reference' always runs the readable kernel. All give identical bytes.
 */
export type KernelTier = 'reference' | 'fast';

export interface PrepareContext {
  /** Requantization rounding for kernels whose TFLM and TFLite forms differ (int8 CONV_2D and FULLY_CONNECTED). */
  readonly rounding: Rounding;
  /** Default 'fast'. */
  readonly kernels?: KernelTier;
  /**
   * The interpreter's WebAssembly memory when the SIMD tier is on (kernels 'fast' on a host with WASM SIMD): a
   * kernel may place its prepared weights there and run its SIMD form. The arena will live in the same memory.
   */
  readonly simd?: SimdMemory | null;
}

export interface OpKernel<Options = unknown, Data = unknown> {
  /** BuiltinOperator name. */
  readonly name: string;
  /** BuiltinOperator value. */
  readonly code: number;
  /** The BuiltinOptions union type this op reads; a table of another type is treated as absent. */
  readonly optionsType?: number;
  parseOptions(table: Table | null): Options;
  prepare(node: Node<Options>, context: PrepareContext): Data;
  eval(node: Node<Options>, data: Data): void;

  // What the optimized memory planner (src/memory-plan.ts) may do with this kernel. Each is a promise about
  // eval, so a kernel declares only what its code guarantees; a kernel without them runs as written.

  /** The inputs whose memory output 0 may take over (see InputReuse), in order of preference. */
  reusableInputs?(node: Node<Options>, data: Data): InputReuse[];
  /** PAD: the padding this node adds, when folding it into its consumer reads exactly as the padded copy. */
  implicitPadding?(node: Node<Options>, data: Data): SpatialPadding | null;
  /**
   * A convolution: its data for reading the unpadded tensor instead of input 0, the `padding` around it
   * skipped as the op's own padding is; null when skipping would not give the same result.
   */
  foldPadding?(node: Node<Options>, data: Data, padding: SpatialPadding): Data | null;
  /** Evaluation one output row at a time, for ops whose output rows read a window of input rows. */
  readonly rows?: RowEvaluation<Options, Data>;
  /**
   * The WebAssembly modules (ops/wasm/) its prepare may instantiate on the SIMD tier, for Interpreter.create to
   * compile ahead, asynchronously.
   */
  readonly simdKernels?: readonly WasmKernelModule[];
}

/**
 * Output 0 may live in input `input`'s memory. 'alias': output 0 is that input's bytes unchanged, and eval
 * copies nothing when they share memory. 'in-place': the two have the same byte length and layout, and eval
 * reads each element of the input before it writes the output element at the same byte offset.
 */
export interface InputReuse {
  input: number;
  kind: 'alias' | 'in-place';
}

/** Rows and columns of padding around the height and width of an NHWC tensor. */
export interface SpatialPadding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * The window of input rows each output row reads: output row `oy` of a batch reads input rows
 * oy * strideH - padTop + k * dilationH, k < filterHeight, those inside [0, inHeight).
 */
export interface RowWindow {
  batches: number;
  inHeight: number;
  outHeight: number;
  filterHeight: number;
  strideH: number;
  dilationH: number;
  padTop: number;
  /** Elements in one row (all columns and channels) of input 0 and of output 0. */
  inRowElements: number;
  outRowElements: number;
}

export interface RowEvaluation<Options, Data> {
  window(data: Data): RowWindow;
  /**
   * Computes output row `row` of one batch into `output` from element `outputStart`. Input row y of that
   * batch is read from `input` at element inputStart + (y mod inputRows) * inRowElements: the whole input
   * tensor (inputRows = its height), or a ring holding the last `inputRows` rows. Allocates nothing.
   */
  evalRow(
    node: Node<Options>,
    data: Data,
    input: TensorData,
    inputStart: number,
    inputRows: number,
    output: TensorData,
    outputStart: number,
    row: number,
  ): void;
}

/** A kernel's complaint about its node; the interpreter adds the node's number and op name. */
export class KernelError extends Error {}

/** Throws KernelError(message) unless `condition` holds. */
export function check(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new KernelError(typeof message === 'string' ? message : message());
}

/** Input `i`, which must be present. */
export function input(node: Node<unknown>, i: number): Tensor {
  const t = node.inputs[i];
  check(t, `input ${i} is missing (node has ${node.inputs.length} inputs)`);
  return t;
}

export function output(node: Node<unknown>, i: number): Tensor {
  const t = node.outputs[i];
  check(t, `output ${i} is missing (node has ${node.outputs.length} outputs)`);
  return t;
}

/** Checks the node's input and output counts. `inputs` may be a [min, max] range for optional inputs. */
export function checkArity(node: Node<unknown>, inputs: number | [number, number], outputs: number): void {
  const [lo, hi] = typeof inputs === 'number' ? [inputs, inputs] : inputs;
  check(
    node.inputs.length >= lo && node.inputs.length <= hi,
    () => `expects ${lo === hi ? lo : `${lo} to ${hi}`} inputs, has ${node.inputs.length}`,
  );
  check(node.outputs.length === outputs, () => `expects ${outputs} outputs, has ${node.outputs.length}`);
}

/** Throws unless `t` carries at least one scale, as quantized kernels require of every operand. */
export function checkQuantized(t: Tensor, role: string): void {
  check(
    t.quantization !== null && t.quantization.scale.length > 0,
    `${role} is ${t.dtype} but has no quantization parameters`,
  );
}

/**
 * OpKernel.reusableInputs of a one-input elementwise op whose eval computes y[i] from x[i] alone, reading it
 * first: the output may overwrite its input.
 */
export function overwriteInput0(): InputReuse[] {
  return [{ input: 0, kind: 'in-place' }];
}

/**
 * The prepare checks of a one-input elementwise op (LOGISTIC, HARD_SWISH, RELU, ...): one input and one
 * output, both int8, uint8 or float32, of the same type and shape.
 */
export function unaryElementwise(node: Node<unknown>): { x: Tensor; y: Tensor; dtype: 'int8' | 'uint8' | 'float32' } {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  const dtype = x.dtype;
  check(
    dtype === 'int8' || dtype === 'uint8' || dtype === 'float32',
    () => `input is ${dtype}; expected int8, uint8 or float32`,
  );
  check(y.dtype === dtype, () => `output is ${y.dtype}, input is ${dtype}`);
  check(y.shape.join() === x.shape.join(), () => `output is ${y.describe()}, input is ${x.describe()}`);
  return { x, y, dtype };
}
