// Where every activation lives, and how the graph runs in that memory: TFLM's plan (planner.ts, to the byte),
// or ours, the optimized planner, which needs much less while every output stays byte-identical.
//
// Ours has five techniques, each resting on a promise its kernels declare (OpKernel in op.ts):
//   alias                — a RESHAPE/SQUEEZE output is its input's bytes;
//   in-place             — an elementwise op (ADD, MUL, SUB, RELU, RELU6, HARD_SWISH, LOGISTIC, QUANTIZE between
//                          types of one size) writes over its input: ggml's rule (ggml-alloc.c ggml_op_can_inplace);
//   pad folding          — a PAD feeding a convolution is never stored: the convolution reads the unpadded
//                          tensor and skips the padding taps, as it skips its own;
//   in-place convolution — a CONV_2D or DEPTHWISE_CONV_2D writes its output over its input, holding back only
//                          the few output rows whose place the input still needs (row-streaming.ts);
//   row fusion           — a CONV_2D's or DEPTHWISE_CONV_2D's output is never stored: its rows pass through a
//                          ring of a few rows into the next such op (row-streaming.ts).
// An op takes over (or streams) an input only when that input has exactly one reader, is not a graph input
// (the caller's data must survive invoke) or output. Fusion replaces two steps by one when that lowers the
// peak of the two. Lifetimes are counted in TFLM's time units (operator n runs at time n + 1); placement is
// TFLM's greedy first fit, generalized to tensors sharing one offset (placeWithShares, ShareTrials.place).
import { allOps } from './all-ops.js';
import { prepareGraph, type PreparedGraph, type PreparedNode } from './graph.js';
import type { Model, Subgraph } from './model.js';
import type { Node, RowEvaluation, RowWindow } from './op.js';
import { alignUp, planGreedyTflm, tensorLifetimes, tflmBufferRequests, type BufferRequest } from './planner.js';
import type { OpResolver } from './resolver.js';
import { pendingRows, ringRows, type FusedRows, type InPlaceRows } from './row-streaming.js';
import { ELEMENT_SIZE, type Tensor } from './tensor.js';

export type PlannerName = 'tflm' | 'optimized';

export interface PlannedBuffer {
  /** The tensor whose data this buffer holds, or -1 for a scratch buffer. */
  tensor: number;
  /** For a scratch buffer, the operator it serves (a fused pair's consumer). */
  node?: number;
  /** Bytes reserved: the tensor's or scratch's size rounded up to 16. */
  size: number;
  /** First and last time the buffer is alive, inclusive (operator n runs at time n + 1; graph inputs at 0). */
  firstUse: number;
  lastUse: number;
  offset: number;
  /** The tensor whose memory this one takes over (alias, in-place): the two share an offset. */
  sharesWith?: number;
}

export interface MemorySaving {
  name: string;
  /** Arena bytes saved (see planExecution): for a technique, the plan without it minus the plan with it. */
  bytes: number;
  detail: string;
}

export interface MemoryPlan {
  planner: PlannerName;
  arenaBytes: number;
  buffers: PlannedBuffer[];
  /**
   * How the optimized plan differs from TFLM's, by cause (see planExecution); empty for TFLM's plan. Computed
   * when first read: it re-plans the graph once per technique.
   */
  savings: MemorySaving[];
}

/** One step of a run: a node as its kernel evaluates it, or a row-streamed one (row-streaming.ts). */
export type Step =
  | { kind: 'node'; node: PreparedNode }
  /** `pending`: index in MemoryPlan.buffers of the scratch holding pending output rows. */
  | ({ kind: 'in-place'; pending: number } & InPlaceRows)
  /** `ring`: index in MemoryPlan.buffers of the ring scratch. */
  | ({ kind: 'fused'; ring: number } & FusedRows);

type InPlaceStep = Extract<Step, { kind: 'in-place' }>;
type FusedStep = Extract<Step, { kind: 'fused' }>;

export interface ExecutionPlan {
  memory: MemoryPlan;
  /** The graph's nodes in order, as they run in that memory; a folded PAD has no step. */
  steps: Step[];
}

export const TECHNIQUES = ['alias', 'in-place', 'pad folding', 'in-place convolution', 'row fusion'] as const;
export type Technique = (typeof TECHNIQUES)[number];

/** The memory plan of `model` with `planner`, for reports. The optimized plan depends on the kernels' capabilities. */
export function planMemory(model: Model, planner: PlannerName, resolver: OpResolver = allOps()): MemoryPlan {
  return planExecution(prepareGraph(model, resolver, { rounding: 'double' }), planner).memory;
}

/**
 * The memory plan and the steps that run in it. 'tflm': TFLM's plan of tflmBufferRequests, every node as is.
 * 'optimized': every technique. Its savings explain the difference from TFLM's plan: first what TFLM's plan
 * holds beyond the tensors ('kernel scratch') and what our placement alone saves on the tensors ('placement'),
 * then for each technique what planning without it would cost (these need not add up: one technique can make
 * another unnecessary). `preserveAllTensors` keeps every tensor alive for the whole run, in memory of its own.
 */
export function planExecution(graph: PreparedGraph, planner: PlannerName, preserveAllTensors = false): ExecutionPlan {
  const g = graph.subgraph;
  const asIs = (): Step[] => graph.nodes.map((node) => ({ kind: 'node', node }));
  if (preserveAllTensors) {
    const requests = tensorLifetimes(g);
    requests.forEach((r) => {
      r.firstUse = 0;
      r.lastUse = g.operators.length;
    });
    return { memory: fromRequests(planner, requests), steps: asIs() };
  }
  if (planner === 'tflm') return { memory: fromRequests('tflm', tflmBufferRequests(graph.model)), steps: asIs() };
  const plan = planOptimized(graph, new Set(TECHNIQUES));
  const { arenaBytes, buffers } = plan.memory;
  let savings: MemorySaving[] | undefined;
  const memory: MemoryPlan = {
    planner,
    arenaBytes,
    buffers,
    // Re-plans the graph once per technique, for reports only: computed when first read, not at every load.
    get savings() {
      return (savings ??= memorySavings(graph, arenaBytes));
    },
  };
  return { memory, steps: plan.steps };
}

/** How the optimized plan of `graph` (`arenaBytes`) differs from TFLM's, by cause: MemoryPlan.savings (see planExecution). */
function memorySavings(graph: PreparedGraph, arenaBytes: number): MemorySaving[] {
  const g = graph.subgraph;
  // Where each technique applied: noted by planning once more (the load's own planning notes nothing).
  const applied = new Map<Technique, string[]>();
  planOptimized(graph, new Set(TECHNIQUES), (technique, what) => {
    const notes = applied.get(technique);
    if (notes) notes.push(what);
    else applied.set(technique, [what]);
  });
  const tflm = fromRequests('tflm', tflmBufferRequests(graph.model));
  const tensorsAlone = planGreedyTflm(tensorLifetimes(g)).size;
  const scratch = tflm.buffers.filter((b) => b.tensor < 0);
  return [
    {
      name: 'kernel scratch',
      bytes: tflm.arenaBytes - tensorsAlone,
      detail:
        scratch.length === 0
          ? 'TFLM plans no kernel scratch here'
          : `TFLM plans ${scratch.length} kernel scratch buffers (${scratch.map((b) => `${g.operators[b.node!].opName} ${b.node}`).join(', ')}); ours keep theirs in prepared data`,
    },
    {
      name: 'placement',
      bytes: tensorsAlone - planOptimized(graph, new Set()).memory.arenaBytes,
      detail: "TFLM's greedy placement against ours, on the tensors alone, no technique applied",
    },
    ...TECHNIQUES.map((technique) => {
      const without = planOptimized(graph, new Set(TECHNIQUES.filter((t) => t !== technique)));
      const at = applied.get(technique) ?? [];
      return {
        name: technique,
        bytes: without.memory.arenaBytes - arenaBytes,
        detail: at.length === 0 ? 'not applied' : `at ${at.length}: ${at.join(', ')}`,
      };
    }),
  ];
}

/** A plan of BufferRequests placed by planGreedyTflm, as a MemoryPlan with nothing shared. */
function fromRequests(planner: PlannerName, requests: BufferRequest[]): MemoryPlan {
  const plan = planGreedyTflm(requests);
  return {
    planner,
    arenaBytes: plan.size,
    buffers: requests.map((r, i) => {
      const { tensor, node, firstUse, lastUse } = r;
      const size = alignUp(r.size);
      const offset = plan.offsets[i];
      return node === undefined ? { tensor, size, firstUse, lastUse, offset } : { tensor, node, size, firstUse, lastUse, offset };
    }),
    savings: [],
  };
}

/** Told where a technique applied, as an "OP n" description (for MemoryPlan.savings). */
type Note = (technique: Technique, what: string) => void;

/** An output taking over the memory of an input of its node. */
interface Share {
  technique: 'alias' | 'in-place' | 'in-place convolution';
  output: number;
  input: number;
  node: Node<unknown>;
}

/** What the planner asks of a tensor. */
interface TensorFacts {
  /** Computed at run time and of nonzero size (TFLM keeps variables elsewhere). */
  stored(t: Tensor): boolean;
  /** Stored, read by exactly one node and not a graph input or output: that node may take over its memory. */
  exclusive(t: Tensor | null): t is Tensor;
  /** For a tensor with one reader, the reading node. */
  readerOf(t: Tensor): number;
}

function tensorFacts(g: Subgraph): TensorFacts {
  const readers = new Int32Array(g.tensors.length);
  const readerOf = new Int32Array(g.tensors.length).fill(-1);
  g.operators.forEach(({ inputs }, n) => {
    for (let k = 0; k < inputs.length; k++) {
      if (inputs[k] < 0) continue;
      readers[inputs[k]]++;
      readerOf[inputs[k]] = n;
    }
  });
  const graphIO = new Uint8Array(g.tensors.length);
  for (const i of g.inputs) graphIO[i] = 1;
  for (const o of g.outputs) graphIO[o] = 1;
  const stored = (t: Tensor) => !t.isConstant && !g.tensors[t.index].isVariable && t.byteLength > 0;
  return {
    stored,
    exclusive: (t): t is Tensor => t !== null && stored(t) && readers[t.index] === 1 && graphIO[t.index] === 0,
    readerOf: (t) => readerOf[t.index],
  };
}

function planOptimized(graph: PreparedGraph, enabled: ReadonlySet<Technique>, note?: Note): ExecutionPlan {
  const g = graph.subgraph;
  const facts = tensorFacts(g);

  const unstored = new Set<number>();
  const nodes = enabled.has('pad folding') ? foldPads(graph.nodes, facts, unstored, note) : graph.nodes;

  // Each node's in-place step (null: none), found once: fusion asks about a node as producer and as consumer.
  const inPlaceFound: (InPlaceStep | null | undefined)[] = new Array(nodes.length);
  const inPlaceAt = (k: number): InPlaceStep | null => {
    if (inPlaceFound[k] === undefined) {
      inPlaceFound[k] = enabled.has('in-place convolution') ? inPlace(nodes[k], facts) : null;
    }
    return inPlaceFound[k];
  };

  // Steps: fuse a row-evaluated node into the next when that lowers the peak of the two, else run it in place
  // when that saves memory; a plain node may let its output take over an input.
  const steps: Step[] = [];
  const scratchBytes: number[] = []; // of each step that is not a plain node, in step order
  const shares: Share[] = [];
  for (let k = 0; k < nodes.length; k++) {
    const prepared = nodes[k];
    const fused = enabled.has('row fusion') ? fusion(nodes, k, facts, inPlaceAt) : null;
    if (fused) {
      steps.push(fused);
      scratchBytes.push(ringBytes(prepared, fused.consumerWindow));
      unstored.add(prepared.node.outputs[0].index);
      note?.('row fusion', `${prepared.node.op} ${prepared.node.index} → ${fused.consumer.node.op} ${fused.consumer.node.index}`);
      k++;
      continue;
    }
    const { node, kernel, data } = prepared;
    const y = node.outputs[0];
    const inPlaceStep = inPlaceAt(k);
    if (inPlaceStep) {
      steps.push(inPlaceStep);
      scratchBytes.push(inPlaceStep.pendingRows * inPlaceStep.outRowBytes);
      shares.push({ technique: 'in-place convolution', output: y.index, input: node.inputs[0]!.index, node });
      continue;
    }
    steps.push({ kind: 'node', node: prepared });
    const reuse = kernel.reusableInputs?.(node, data).find(({ input, kind }) => {
      const x = node.inputs[input];
      return enabled.has(kind) && facts.exclusive(x) && facts.stored(y) && x.byteLength === y.byteLength;
    });
    if (reuse) shares.push({ technique: reuse.kind, output: y.index, input: node.inputs[reuse.input]!.index, node });
  }

  // Lifetimes: a tensor lives from the first to the last time a step touching it runs; a step spans the
  // times of its nodes. Graph inputs exist from 0, graph outputs to the end; untouched tensors keep (-1, -1).
  const first = new Int32Array(graph.tensors.length).fill(-1);
  const last = new Int32Array(graph.tensors.length).fill(-1);
  const touch = (t: number, from: number, to: number) => {
    first[t] = first[t] < 0 ? from : Math.min(first[t], from);
    last[t] = Math.max(last[t], to);
  };
  const touchNode = ({ inputs, outputs }: Node<unknown>, from: number, to: number) => {
    for (let k = 0; k < inputs.length; k++) if (inputs[k]) touch(inputs[k]!.index, from, to);
    for (let k = 0; k < outputs.length; k++) touch(outputs[k].index, from, to);
  };
  for (const i of g.inputs) touch(i, 0, 0);
  steps.forEach((step) => {
    const from = firstNodeOf(step).index + 1;
    const to = lastNodeOf(step).index + 1;
    if (step.kind === 'fused') {
      touchNode(step.producer.node, from, to);
      touchNode(step.consumer.node, from, to);
    } else {
      touchNode(step.node.node, from, to);
    }
  });
  for (const o of g.outputs) touch(o, g.operators.length, g.operators.length);

  // The buffers: every stored tensor, then the scratch of each streamed step, which keeps its index.
  const isBuffer = (t: Tensor) => facts.stored(t) && !unstored.has(t.index);
  let count = scratchBytes.length;
  graph.tensors.forEach((t) => {
    if (isBuffer(t)) count++;
  });
  const table: BufferTable = {
    tensor: new Int32Array(count),
    node: new Int32Array(count),
    size: new Float64Array(count),
    first: new Int32Array(count),
    last: new Int32Array(count),
  };
  const add = (b: number, tensor: number, node: number, size: number, from: number, to: number) => {
    table.tensor[b] = tensor;
    table.node[b] = node;
    table.size[b] = alignUp(size);
    table.first[b] = from;
    table.last[b] = to;
  };
  let b = 0;
  graph.tensors.forEach((t) => {
    if (isBuffer(t)) add(b++, t.index, -1, t.byteLength, first[t.index], last[t.index]);
  });
  let streamed = 0;
  steps.forEach((step) => {
    if (step.kind === 'node') return;
    if (step.kind === 'fused') step.ring = b;
    else step.pending = b;
    const node = lastNodeOf(step).index;
    add(b++, -1, node, scratchBytes[streamed++], firstNodeOf(step).index + 1, node + 1);
  });

  const placement = placeWithShares(table, shares, steps, graph.tensors.length, g.operators.length);
  const { takesOver, size, offsets } = placement;
  if (note) {
    shares.forEach((share, s) => {
      if (placement.kept[s]) note(share.technique, `${share.node.op} ${share.node.index}`);
    });
  }
  // The pending rows of an in-place convolution whose share was dropped are placed at size 0, and left out.
  const buffers: PlannedBuffer[] = [];
  const indexInBuffers = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    const tensor = table.tensor[i];
    if (tensor < 0 && size[i] === 0) continue;
    indexInBuffers[i] = buffers.length;
    const firstUse = table.first[i];
    const lastUse = table.last[i];
    const offset = offsets[i];
    if (tensor < 0) {
      buffers.push({ tensor, node: table.node[i], size: size[i], firstUse, lastUse, offset });
    } else {
      const buffer: PlannedBuffer = { tensor, size: size[i], firstUse, lastUse, offset };
      if (takesOver[tensor] >= 0) buffer.sharesWith = takesOver[tensor];
      buffers.push(buffer);
    }
  }
  steps.forEach((step, s) => {
    if (step.kind === 'fused') step.ring = indexInBuffers[step.ring];
    if (step.kind !== 'in-place') return;
    // An in-place convolution whose share was dropped runs as a plain node, without its pending rows.
    if (takesOver[step.node.node.outputs[0].index] < 0) steps[s] = { kind: 'node', node: step.node };
    else step.pending = indexInBuffers[step.pending];
  });
  return { memory: { planner: 'optimized', arenaBytes: placement.arenaBytes, buffers, savings: [] }, steps };
}

/** The first and the last node a step runs: the same node but for a fused pair. */
const firstNodeOf = (step: Step) => (step.kind === 'fused' ? step.producer : step.node).node;
const lastNodeOf = (step: Step) => (step.kind === 'fused' ? step.consumer : step.node).node;

/**
 * Pad folding: each foldable PAD's step disappears and its consumer reads the PAD's input, with data that
 * skips the padding. Returns the nodes that remain, in order; the padded tensors join `unstored`.
 */
function foldPads(nodes: readonly PreparedNode[], facts: TensorFacts, unstored: Set<number>, note?: Note): PreparedNode[] {
  const current: (PreparedNode | null)[] = [...nodes];
  nodes.forEach((pad, p) => {
    const padded = pad.node.outputs[0];
    if (!pad.kernel.implicitPadding || !facts.exclusive(padded)) return;
    const c = facts.readerOf(padded);
    const conv = current[c];
    if (!conv?.kernel.foldPadding || conv.node.inputs[0] !== padded) return;
    const padding = pad.kernel.implicitPadding(pad.node, pad.data);
    const data = padding && conv.kernel.foldPadding(conv.node, conv.data, padding);
    if (!data) return;
    current[c] = { ...conv, node: { ...conv.node, inputs: [pad.node.inputs[0], ...conv.node.inputs.slice(1)] }, data };
    current[p] = null;
    unstored.add(padded.index);
    note?.('pad folding', `PAD ${p} into ${conv.node.op} ${c}`);
  });
  return current.filter((n): n is PreparedNode => n !== null);
}

const bytesOf = (t: Tensor | null) => (t ? alignUp(t.byteLength) : 0);

/**
 * The node computed over its input's memory, when its kernel evaluates rows and that saves memory: its step,
 * the pending rows not yet placed.
 */
function inPlace(prepared: PreparedNode, facts: TensorFacts): InPlaceStep | null {
  const { node, kernel, data } = prepared;
  const x = node.inputs[0];
  const y = node.outputs[0];
  if (!kernel.rows || !facts.exclusive(x)) return null;
  const window = kernel.rows.window(data);
  const inRowBytes = window.inRowElements * ELEMENT_SIZE[x.dtype]!;
  const outRowBytes = window.outRowElements * ELEMENT_SIZE[y.dtype]!;
  const rows = pendingRows(window, inRowBytes, outRowBytes);
  // Worth it only when the output and the pending rows together take less than input and output apart.
  if (Math.max(bytesOf(x), bytesOf(y)) + alignUp(rows * outRowBytes) >= bytesOf(x) + bytesOf(y)) return null;
  return {
    kind: 'in-place',
    pending: -1,
    node: prepared,
    rows: kernel.rows as RowEvaluation<unknown, unknown>,
    window,
    inRowBytes,
    outRowBytes,
    pendingRows: rows,
  };
}

/**
 * Node k fused into node k + 1, when the consumer reads the producer's output alone and the two together
 * need fewer bytes than the larger of them run apart (in place, as `inPlaceAt` finds, where possible): their
 * step, the ring not yet placed.
 */
function fusion(
  nodes: readonly PreparedNode[],
  k: number,
  facts: TensorFacts,
  inPlaceAt: (k: number) => InPlaceStep | null,
): FusedStep | null {
  const producer = nodes[k];
  const consumer = nodes[k + 1] as PreparedNode | undefined;
  const between = producer.node.outputs[0];
  if (!consumer || !producer.kernel.rows || !consumer.kernel.rows) return null;
  if (!facts.exclusive(between) || consumer.node.inputs[0] !== between) return null;
  const consumerWindow = consumer.kernel.rows.window(consumer.data);
  const ring = alignUp(ringBytes(producer, consumerWindow));
  const fused = bytesOf(producer.node.inputs[0]) + ring + bytesOf(consumer.node.outputs[0]);
  if (fused >= Math.max(aloneBytes(producer, inPlaceAt(k)), aloneBytes(consumer, inPlaceAt(k + 1)))) return null;
  return {
    kind: 'fused',
    ring: -1,
    producer,
    consumer,
    producerRows: producer.kernel.rows as RowEvaluation<unknown, unknown>,
    consumerRows: consumer.kernel.rows as RowEvaluation<unknown, unknown>,
    producerWindow: producer.kernel.rows.window(producer.data),
    consumerWindow,
    ringRows: ringRows(consumerWindow),
  };
}

/** The bytes a node needs run alone: input and output, or the larger and the pending rows when run `inPlace`. */
function aloneBytes({ node }: PreparedNode, inPlace: InPlaceStep | null): number {
  const x = bytesOf(node.inputs[0]);
  const y = bytesOf(node.outputs[0]);
  return inPlace ? Math.max(x, y) + alignUp(inPlace.pendingRows * inPlace.outRowBytes) : x + y;
}

/** The bytes of the ring through which `producer`'s output rows pass into a consumer of `consumerWindow`. */
function ringBytes(producer: PreparedNode, consumerWindow: RowWindow): number {
  return ringRows(consumerWindow) * consumerWindow.inRowElements * ELEMENT_SIZE[producer.node.outputs[0].dtype]!;
}

/**
 * The buffers to place, by index, in flat arrays: the trial placements of placeWithShares read them many
 * times, and a model loads in a few milliseconds only if planning allocates little.
 */
interface BufferTable {
  /** The tensor whose data the buffer holds, or -1 for a streamed step's scratch. */
  tensor: Int32Array;
  /** For a scratch buffer, the operator it serves (a fused pair's consumer); -1 for a tensor. */
  node: Int32Array;
  /** Bytes, rounded up to 16. */
  size: Float64Array;
  /** First and last time the buffer is alive, inclusive. */
  first: Int32Array;
  last: Int32Array;
}

/** The result of placeWithShares, by buffer and by tensor. */
interface Placement {
  /** By share: 1 where the share was kept. */
  kept: Uint8Array;
  /** By tensor: the tensor whose memory it takes over through a kept share, or -1. */
  takesOver: Int32Array;
  /** By buffer: its size, the pending rows of an in-place convolution whose share was dropped at 0. */
  size: Float64Array;
  /** By buffer: where it starts in the arena. */
  offsets: Float64Array;
  arenaBytes: number;
}

/**
 * Which shares to keep, and the placement. A share pins two tensors to one offset, which saves memory where
 * both are alive around one op but can cost some elsewhere: greedy placement puts a small long-lived output
 * (a residual written in place) where its large input was, and stacks later tensors above it. So:
 *   1. the bound: the most bytes alive at once with every share (peakLiveBytes); no placement does better;
 *   2. an in-place convolution is kept only where dropping it would raise the bound (it also costs row copies);
 *   3. while the placed arena is above the bound, each other share that the bound does not need is dropped
 *      if that lowers the arena.
 * `steps` give each in-place convolution's pending rows: a buffer, needed only while its share is kept.
 */
function placeWithShares(
  table: BufferTable,
  shares: readonly Share[],
  steps: readonly Step[],
  tensorCount: number,
  end: number,
): Placement {
  const trials = new ShareTrials(table, shares, steps, tensorCount, end);
  const active = new Uint8Array(shares.length).fill(1);
  const bound = trials.activate(active).peakLiveBytes();
  /** Whether dropping active share s would raise the bound. */
  const needed = (s: number) => {
    active[s] = 0;
    const raised = trials.activate(active).peakLiveBytes() > bound;
    active[s] = 1;
    return raised;
  };
  shares.forEach((share, s) => {
    if (share.technique === 'in-place convolution' && !needed(s)) active[s] = 0;
  });
  let offsets = new Float64Array(table.size.length);
  let trialOffsets = new Float64Array(table.size.length);
  let arenaBytes = trials.activate(active).place(offsets);
  for (let s = 0; s < shares.length; s++) {
    if (!active[s]) continue; // an in-place convolution dropped above
    if (arenaBytes === bound) break;
    if (shares[s].technique === 'in-place convolution' || needed(s)) continue;
    active[s] = 0;
    const trial = trials.activate(active).place(trialOffsets);
    if (trial < arenaBytes) {
      arenaBytes = trial;
      const previous = offsets;
      offsets = trialOffsets;
      trialOffsets = previous;
    } else {
      active[s] = 1;
    }
  }
  const { takesOver, size } = trials.activate(active);
  return { kept: active, takesOver, size, offsets, arenaBytes };
}

/**
 * The buffers of placeWithShares with some of its shares active: their sizes, their shapes (groups of buffers
 * placed at one offset: a tensor and every tensor taking over its memory), the bound and a placement. Every
 * array is made once, for all the trials.
 */
class ShareTrials {
  /** By tensor: the tensor whose memory it takes over through an active share, or -1. */
  readonly takesOver: Int32Array;
  /** By buffer: its size, the pending rows of an in-place convolution whose share is not active at 0. */
  readonly size: Float64Array;
  /** The shapes, in the order of their first buffer: shape k's buffers are members[start[k] to start[k + 1]). */
  private shapeCount = 0;
  private readonly start: Int32Array;
  private readonly members: Int32Array;
  /** Each in-place convolution's pending rows: their buffer, and the output whose share they serve. */
  private readonly pendingBuffer: Int32Array;
  private readonly pendingOutput: Int32Array;
  // Working arrays: by tensor, by buffer, by shape and by time (index time + 1: time runs from -1 to `end`).
  private readonly shapeOfRoot: Int32Array;
  private readonly shapeOf: Int32Array;
  private readonly cursor: Int32Array;
  private readonly largest: Float64Array;
  private readonly life: Int32Array;
  private readonly order: Int32Array;
  private readonly byOffset: Int32Array;
  private readonly otherOffsets: Float64Array;
  private readonly liveBytes: Float64Array;
  private readonly largestLive: Float64Array;

  constructor(
    private readonly table: BufferTable,
    private readonly shares: readonly Share[],
    steps: readonly Step[],
    tensorCount: number,
    private readonly end: number,
  ) {
    const count = table.size.length;
    const inPlaceSteps = steps.filter((step): step is InPlaceStep => step.kind === 'in-place');
    this.pendingBuffer = new Int32Array(inPlaceSteps.length);
    this.pendingOutput = new Int32Array(inPlaceSteps.length);
    inPlaceSteps.forEach((step, p) => {
      this.pendingBuffer[p] = step.pending;
      this.pendingOutput[p] = step.node.node.outputs[0].index;
    });
    this.takesOver = new Int32Array(tensorCount);
    this.size = new Float64Array(count);
    this.start = new Int32Array(count + 1);
    this.members = new Int32Array(count);
    this.shapeOfRoot = new Int32Array(tensorCount);
    this.shapeOf = new Int32Array(count);
    this.cursor = new Int32Array(count);
    this.largest = new Float64Array(count);
    this.life = new Int32Array(count);
    this.order = new Int32Array(count);
    this.byOffset = new Int32Array(count);
    this.otherOffsets = new Float64Array(count);
    this.liveBytes = new Float64Array(end + 2);
    this.largestLive = new Float64Array(end + 2);
  }

  /** Makes the shares where `active` is 1 the active ones: takesOver, sizes and shapes follow. */
  activate(active: Uint8Array): this {
    const { table, takesOver, size, shapeOfRoot, shapeOf, start, members, cursor } = this;
    takesOver.fill(-1);
    for (let s = 0; s < active.length; s++) {
      if (active[s]) takesOver[this.shares[s].output] = this.shares[s].input;
    }
    size.set(table.size);
    const { pendingBuffer, pendingOutput } = this;
    for (let p = 0; p < pendingBuffer.length; p++) if (takesOver[pendingOutput[p]] < 0) size[pendingBuffer[p]] = 0;
    // A tensor's shape is that of the tensor at the end of its chain of takeovers; a scratch buffer is alone.
    shapeOfRoot.fill(-1);
    let shapes = 0;
    for (let i = 0; i < size.length; i++) {
      let root = table.tensor[i];
      if (root < 0) {
        shapeOf[i] = shapes++;
        continue;
      }
      while (takesOver[root] >= 0) root = takesOver[root];
      if (shapeOfRoot[root] < 0) shapeOfRoot[root] = shapes++;
      shapeOf[i] = shapeOfRoot[root];
    }
    this.shapeCount = shapes;
    // Members listed shape after shape, each shape's in buffer order.
    start.fill(0);
    for (let i = 0; i < size.length; i++) start[shapeOf[i] + 1]++;
    for (let k = 0; k < shapes; k++) start[k + 1] += start[k];
    for (let k = 0; k < shapes; k++) cursor[k] = start[k];
    for (let i = 0; i < size.length; i++) members[cursor[shapeOf[i]]++] = i;
    return this;
  }

  /**
   * The most bytes alive at once, whatever the placement: at each time, each shape's largest live buffer,
   * summed. No placement needs less.
   */
  peakLiveBytes(): number {
    const { table, size, start, members, liveBytes, largestLive } = this;
    liveBytes.fill(0);
    for (let k = 0; k < this.shapeCount; k++) {
      let from = this.end + 1;
      let to = -1;
      for (let m = start[k]; m < start[k + 1]; m++) {
        const i = members[m];
        for (let t = table.first[i] + 1; t <= table.last[i] + 1; t++) {
          largestLive[t] = Math.max(largestLive[t], size[i]);
        }
        from = Math.min(from, table.first[i] + 1);
        to = Math.max(to, table.last[i] + 1);
      }
      for (let t = from; t <= to; t++) {
        liveBytes[t] += largestLive[t];
        largestLive[t] = 0;
      }
    }
    let peak = 0;
    for (let t = 0; t < liveBytes.length; t++) peak = Math.max(peak, liveBytes[t]);
    return peak;
  }

  /**
   * Our placement: TFLM's greedy first fit (planner.ts planGreedyTflm: each buffer, in turn, at the lowest
   * offset where it meets no placed buffer alive at the same time), for shapes — each member keeping its own
   * size and lifetime — in two orders, keeping the smaller arena: largest first (TFLM's), and longest-lived
   * first, which keeps a long-lived tensor (a residual) from landing above a short large one whose place later
   * tensors need. Writes each buffer's offset into `offsets`; returns the arena size.
   */
  place(offsets: Float64Array): number {
    const { table, size, start, members, largest, life } = this;
    const order = this.order.subarray(0, this.shapeCount);
    for (let k = 0; k < this.shapeCount; k++) {
      largest[k] = 0;
      let from = Infinity;
      let to = -Infinity;
      for (let m = start[k]; m < start[k + 1]; m++) {
        const i = members[m];
        largest[k] = Math.max(largest[k], size[i]);
        from = Math.min(from, table.first[i]);
        to = Math.max(to, table.last[i]);
      }
      life[k] = to - from;
      order[k] = k;
    }
    // Ties go to the earlier shape.
    sortBy(order, (a, b) => largest[b] - largest[a] || a - b);
    const byLargest = this.placeInOrder(order, offsets);
    sortBy(order, (a, b) => life[b] - life[a] || largest[b] - largest[a] || a - b);
    const byLongest = this.placeInOrder(order, this.otherOffsets);
    if (byLargest <= byLongest) return byLargest;
    offsets.set(this.otherOffsets);
    return byLongest;
  }

  /** Places the shapes in `order`, each at the lowest offset where every member fits; returns the arena size. */
  private placeInOrder(order: Int32Array, offsets: Float64Array): number {
    const { size, start, members, byOffset } = this;
    let placed = 0; // byOffset[0, placed): the buffers placed so far, in offset order
    let arenaBytes = 0;
    for (let n = 0; n < order.length; n++) {
      const k = order[n];
      // Each member in turn moves the offset up to where it fits, until all fit: each move goes only past
      // offsets where that member cannot go, so the first offset where all fit is the lowest.
      const count = start[k + 1] - start[k];
      let offset = 0;
      for (let m = 0, fitting = 0; fitting < count; m = (m + 1) % count) {
        const fit = this.firstFit(members[start[k] + m], offset, placed, offsets);
        fitting = fit === offset ? fitting + 1 : 1;
        offset = fit;
      }
      for (let m = start[k]; m < start[k + 1]; m++) {
        const i = members[m];
        offsets[i] = offset;
        arenaBytes = Math.max(arenaBytes, offset + size[i]);
        let at = placed++;
        for (; at > 0 && offsets[byOffset[at - 1]] > offset; at--) byOffset[at] = byOffset[at - 1];
        byOffset[at] = i;
      }
    }
    return arenaBytes;
  }

  /**
   * The lowest offset from `offset` up where buffer i meets none of the first `placed` buffers in offset
   * order that is alive at the same time (TFLM's scan: past each one it would overlap, until a gap fits it).
   */
  private firstFit(i: number, offset: number, placed: number, offsets: Float64Array): number {
    const { table, size, byOffset } = this;
    for (let j = 0; j < placed; j++) {
      const p = byOffset[j];
      if (table.first[p] > table.last[i] || table.first[i] > table.last[p]) continue;
      if (offsets[p] >= offset + size[i]) break;
      offset = Math.max(offset, offsets[p] + size[p]);
    }
    return offset;
  }
}

/**
 * Sorts `order` by `compare` in place. An insertion sort: no slower here than placing the shapes after it,
 * where the builtin sort would copy the array and call back into `compare` for every comparison.
 */
function sortBy(order: Int32Array, compare: (a: number, b: number) => number): void {
  for (let i = 1; i < order.length; i++) {
    const k = order[i];
    let j = i;
    for (; j > 0 && compare(order[j - 1], k) > 0; j--) order[j] = order[j - 1];
    order[j] = k;
  }
}
