// Subgraph 0 of a model made ready to run, except for memory: every operator resolved to its kernel and
// prepared once, runtime tensors with constants bound to the model's bytes. The memory planner reads it (the
// kernels' capabilities and prepared shapes decide what may share memory), then the interpreter binds the
// remaining tensors to the arena.
import { ArenaError, NodeError, TfliteInt8Error, UnsupportedOpError } from './errors.js';
import type { Model, Subgraph } from './model.js';
import type { Node, OpKernel, PrepareContext } from './op.js';
import type { OpResolver } from './resolver.js';
import { ELEMENT_SIZE, Tensor } from './tensor.js';

export interface PreparedNode {
  node: Node<unknown>;
  kernel: OpKernel;
  data: unknown;
}

export interface PreparedGraph {
  model: Model;
  subgraph: Subgraph;
  /** Every tensor of the subgraph, by index; constants already hold their bytes. */
  tensors: Tensor[];
  /** One per operator, in execution order. */
  nodes: PreparedNode[];
  /** Constants whose bytes were misaligned for their type in the model and had to be copied. */
  copiedConstants: number;
}

/** Resolves (a missing op throws UnsupportedOpError naming all of them) and prepares every operator. */
export function prepareGraph(model: Model, resolver: OpResolver, context: PrepareContext): PreparedGraph {
  const g = model.subgraphs[0];
  const kernels = resolveKernels(g, resolver);
  const tensors = g.tensors.map((t) => new Tensor(t.index, t.name, t.dtype, t.shape, t.quantization, t.data !== null));
  let copiedConstants = 0;
  for (const t of g.tensors) {
    if (!t.data) continue;
    const size = ELEMENT_SIZE[t.dtype] ?? 1;
    // Typed views need aligned offsets; the converter aligns buffers to 16, but a user's Uint8Array may not be.
    if (t.data.byteOffset % size === 0) tensors[t.index].setBytes(t.data);
    else {
      tensors[t.index].setBytes(t.data.slice());
      copiedConstants++;
    }
  }
  const nodes = g.operators.map((op, n) => {
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
  return { model, subgraph: g, tensors, nodes, copiedConstants };
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

/** Runs `fn`, turning what it throws into an error that names `node`. */
export function atNode<T>(node: Node<unknown>, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw nodeError(node, e);
  }
}

export function nodeError(node: Node<unknown>, e: unknown): TfliteInt8Error {
  if (e instanceof NodeError || e instanceof ArenaError) return e;
  const error = new NodeError(node.index, node.op, e instanceof Error ? e.message : String(e));
  error.cause = e;
  return error;
}
