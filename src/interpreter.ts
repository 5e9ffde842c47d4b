// Load a model, resolve its operators, plan one arena, prepare every node once, then invoke as often as asked.
// Subgraph 0 is the graph that runs (control-flow ops that call other subgraphs are not supported).
import { ArenaError, InputError, NodeError, TfliteInt8Error, UnsupportedOpError } from './errors.js';
import { readModel, type Model, type Subgraph } from './model.js';
import type { Node, OpKernel, PrepareContext } from './op.js';
import { planGreedyTflm, tensorLifetimes } from './planner.js';
import type { Rounding } from './quant.js';
import type { OpResolver } from './resolver.js';
import { ELEMENT_SIZE, Tensor, type TensorData } from './tensor.js';

export interface InterpreterOptions {
  /** The kernels the model may use. Missing ones fail the load, all named at once. */
  resolver: OpResolver;
  /** 'double' (default): TFLM's reference requantization. 'single': TFLite's built-in per-channel conv. */
  rounding?: Rounding;
  /**
   * Give every tensor its own memory for the whole run, so each can be read after invoke (TFLM's
   * preserve_all_tensors, used to compare intermediates). Costs the sum of all activations.
   */
  preserveAllTensors?: boolean;
  /** Refuse plans larger than this (default 1 GiB): a corrupt shape must not allocate without bound. */
  maxArenaBytes?: number;
}

export const DEFAULT_MAX_ARENA_BYTES = 2 ** 30;

interface PreparedNode {
  node: Node<unknown>;
  kernel: OpKernel;
  data: unknown;
}

export class Interpreter {
  readonly model: Model;
  readonly subgraph: Subgraph;
  /** Every tensor of subgraph 0, by index. */
  readonly tensors: readonly Tensor[];
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /** The one buffer all non-constant tensors live in. */
  readonly arena: ArrayBuffer;
  /** Constants whose bytes were misaligned for their type in the model and had to be copied. */
  readonly copiedConstants: number;
  private readonly nodes: PreparedNode[];

  constructor(model: Uint8Array | ArrayBuffer | Model, options: InterpreterOptions) {
    this.model = model instanceof Uint8Array || model instanceof ArrayBuffer ? readModel(model) : model;
    const g = (this.subgraph = this.model.subgraphs[0]);
    const kernels = resolveKernels(g, options.resolver);

    const tensors = g.tensors.map(
      (t) => new Tensor(t.index, t.name, t.dtype, t.shape, t.quantization, t.data !== null),
    );
    let copied = 0;
    for (const t of g.tensors) {
      if (!t.data) continue;
      const size = ELEMENT_SIZE[t.dtype] ?? 1;
      // Typed views need aligned offsets; the converter aligns buffers to 16, but a user's Uint8Array may not be.
      if (t.data.byteOffset % size === 0) tensors[t.index].setBytes(t.data);
      else {
        tensors[t.index].setBytes(t.data.slice());
        copied++;
      }
    }
    this.copiedConstants = copied;

    const requests = tensorLifetimes(g);
    if (options.preserveAllTensors) {
      for (const r of requests) [r.firstUse, r.lastUse] = [0, g.operators.length];
    }
    const plan = planGreedyTflm(requests);
    const limit = options.maxArenaBytes ?? DEFAULT_MAX_ARENA_BYTES;
    if (plan.size > limit) {
      throw new ArenaError(`model needs ${plan.size} bytes of activations, more than the ${limit}-byte limit (maxArenaBytes)`);
    }
    this.arena = new ArrayBuffer(plan.size);
    requests.forEach((r, i) => tensors[r.tensor].setBytes(new Uint8Array(this.arena, plan.offsets[i], r.size)));
    this.tensors = tensors;
    this.inputs = g.inputs.map((i) => tensors[i]);
    this.outputs = g.outputs.map((i) => tensors[i]);

    const context: PrepareContext = { rounding: options.rounding ?? 'double' };
    this.nodes = g.operators.map((op, n) => {
      const kernel = kernels[n];
      const tableMatches = kernel.optionsType === undefined || op.builtinOptionsType === kernel.optionsType;
      const node: Node<unknown> = {
        index: n,
        op: op.opName,
        inputs: op.inputs.map((i) => (i < 0 ? null : tensors[i])),
        outputs: op.outputs.map((i) => tensors[i]),
        options: undefined,
      };
      return atNode(node, () => {
        const withOptions = { ...node, options: kernel.parseOptions(tableMatches ? op.builtinOptions : null) };
        return { node: withOptions, kernel, data: kernel.prepare(withOptions, context) };
      });
    });
  }

  get arenaBytes(): number {
    return this.arena.byteLength;
  }

  input(i = 0): Tensor {
    return this.io(this.inputs, i, 'input');
  }

  output(i = 0): Tensor {
    return this.io(this.outputs, i, 'output');
  }

  /** Copies `values` into input i, checking that its type and length are the tensor's. */
  setInput(i: number, values: TensorData): void {
    const t = this.input(i);
    if (values.constructor !== t.data.constructor) {
      throw new InputError(`input ${i} (${t.name}) is ${t.describe()}; got a ${values.constructor.name}`);
    }
    if (values.length !== t.size) {
      throw new InputError(`input ${i} (${t.name}) is ${t.describe()}: needs ${t.size} elements, got ${values.length}`);
    }
    (t.data as { set(v: ArrayLike<number | bigint>): void }).set(values);
  }

  /** Copies raw little-endian bytes into input i; the length must be exactly the tensor's byte length. */
  setInputBytes(i: number, bytes: Uint8Array): void {
    const t = this.input(i);
    if (bytes.length !== t.byteLength) {
      throw new InputError(`input ${i} (${t.name}) is ${t.describe()}: needs ${t.byteLength} bytes, got ${bytes.length}`);
    }
    t.bytes.set(bytes);
  }

  /** Runs the graph once on whatever the input tensors hold. */
  invoke(): void {
    for (const { node, kernel, data } of this.nodes) {
      try {
        kernel.eval(node, data);
      } catch (e) {
        throw nodeError(node, e);
      }
    }
  }

  private io(list: readonly Tensor[], i: number, what: string): Tensor {
    const t = list[i];
    if (!t) throw new InputError(`model has ${list.length} ${what}s; there is no ${what} ${i}`);
    return t;
  }
}

function resolveKernels(g: Subgraph, resolver: OpResolver): OpKernel[] {
  const missing: { node: number; op: string }[] = [];
  const kernels = g.operators.map((op) => {
    const kernel = resolver.find(op.code, op.customCode);
    if (!kernel) missing.push({ node: op.index, op: op.opName });
    return kernel as OpKernel;
  });
  if (missing.length > 0) throw new UnsupportedOpError(missing);
  return kernels;
}

function atNode<T>(node: Node<unknown>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw nodeError(node, e);
  }
}

function nodeError(node: Node<unknown>, e: unknown): TfliteInt8Error {
  if (e instanceof NodeError || e instanceof ArenaError) return e;
  const error = new NodeError(node.index, node.op, e instanceof Error ? e.message : String(e));
  error.cause = e;
  return error;
}

