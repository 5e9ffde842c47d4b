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
// TFLM's greedy first fit, generalized to tensors sharing one offset (placeWithShares, placeShapes).
import { allOps } from './all-ops.js';
import { prepareGraph, type PreparedGraph, type PreparedNode } from './graph.js';
import type { Model, Subgraph } from './model.js';
import type { Node, RowEvaluation } from './op.js';
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
  const asIs: Step[] = graph.nodes.map((node) => ({ kind: 'node', node }));
  if (preserveAllTensors) {
    const requests = tensorLifetimes(g).map((r) => ({ ...r, firstUse: 0, lastUse: g.operators.length }));
    return { memory: fromRequests(planner, requests), steps: asIs };
  }
  if (planner === 'tflm') return { memory: fromRequests('tflm', tflmBufferRequests(graph.model)), steps: asIs };
  const plan = planOptimized(graph, new Set(TECHNIQUES));
  const { arenaBytes, buffers } = plan.memory;
  let savings: MemorySaving[] | undefined;
  const memory: MemoryPlan = {
    planner,
    arenaBytes,
    buffers,
    // Re-plans the graph once per technique, for reports only: computed when first read, not at every load.
    get savings() {
      return (savings ??= memorySavings(graph, plan));
    },
  };
  return { memory, steps: plan.steps };
}

/** How the optimized `plan` of `graph` differs from TFLM's, by cause: MemoryPlan.savings (see planExecution). */
function memorySavings(graph: PreparedGraph, plan: OptimizedPlan): MemorySaving[] {
  const g = graph.subgraph;
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
      const applied = plan.applied.get(technique) ?? [];
      return {
        name: technique,
        bytes: without.memory.arenaBytes - plan.memory.arenaBytes,
        detail: applied.length === 0 ? 'not applied' : `at ${applied.length}: ${applied.join(', ')}`,
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
    buffers: requests.map((r, i) => ({
      tensor: r.tensor,
      ...(r.node === undefined ? {} : { node: r.node }),
      size: alignUp(r.size),
      firstUse: r.firstUse,
      lastUse: r.lastUse,
      offset: plan.offsets[i],
    })),
    savings: [],
  };
}

interface OptimizedPlan extends ExecutionPlan {
  /** Where each technique applied, as "OP n" descriptions. */
  applied: Map<Technique, string[]>;
}

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
  const readers = new Array<number>(g.tensors.length).fill(0);
  const readerOf = new Array<number>(g.tensors.length).fill(-1);
  g.operators.forEach((op, n) =>
    op.inputs.forEach((i) => {
      if (i < 0) return;
      readers[i]++;
      readerOf[i] = n;
    }),
  );
  const graphIO = new Set([...g.inputs, ...g.outputs]);
  const stored = (t: Tensor) => !t.isConstant && !g.tensors[t.index].isVariable && t.byteLength > 0;
  return {
    stored,
    exclusive: (t): t is Tensor => t !== null && stored(t) && readers[t.index] === 1 && !graphIO.has(t.index),
    readerOf: (t) => readerOf[t.index],
  };
}

function planOptimized(graph: PreparedGraph, enabled: ReadonlySet<Technique>): OptimizedPlan {
  const g = graph.subgraph;
  const facts = tensorFacts(g);
  const applied = new Map<Technique, string[]>();
  const note = (technique: Technique, what: string) => applied.set(technique, [...(applied.get(technique) ?? []), what]);

  const unstored = new Set<number>();
  const nodes = enabled.has('pad folding') ? foldPads(graph.nodes, facts, unstored, note) : graph.nodes;

  // Steps: fuse a row-evaluated node into the next when that lowers the peak of the two, else run it in place
  // when that saves memory; a plain node may let its output take over an input.
  const steps: Step[] = [];
  const scratchBytes: number[] = []; // of each step that is not a plain node, in step order
  const shares: Share[] = [];
  for (let k = 0; k < nodes.length; k++) {
    const prepared = nodes[k];
    const fused = enabled.has('row fusion') ? fusion(prepared, nodes[k + 1], facts, enabled) : null;
    if (fused) {
      steps.push({ kind: 'fused', ring: -1, ...fused });
      scratchBytes.push(ringBytes(fused));
      unstored.add(prepared.node.outputs[0].index);
      note('row fusion', `${prepared.node.op} ${prepared.node.index} → ${fused.consumer.node.op} ${fused.consumer.node.index}`);
      k++;
      continue;
    }
    const { node, kernel, data } = prepared;
    const y = node.outputs[0];
    const rows = enabled.has('in-place convolution') ? inPlace(prepared, facts) : null;
    if (rows) {
      steps.push({ kind: 'in-place', pending: -1, ...rows });
      scratchBytes.push(rows.pendingRows * rows.outRowBytes);
      shares.push({ technique: 'in-place convolution', output: y.index, input: node.inputs[0]!.index, node });
      continue;
    }
    steps.push({ kind: 'node', node: prepared });
    const reuse = (kernel.reusableInputs?.(node, data) ?? []).find(({ input, kind }) => {
      const x = node.inputs[input];
      return enabled.has(kind) && facts.exclusive(x) && facts.stored(y) && x.byteLength === y.byteLength;
    });
    if (reuse) shares.push({ technique: reuse.kind, output: y.index, input: node.inputs[reuse.input]!.index, node });
  }

  // Lifetimes: a tensor lives from the first to the last time a step touching it runs; a step spans the
  // times of its nodes. Graph inputs exist from 0, graph outputs to the end; untouched tensors keep (-1, -1).
  const first = new Array<number>(graph.tensors.length).fill(-1);
  const last = new Array<number>(graph.tensors.length).fill(-1);
  const touch = (t: number, from: number, to: number) => {
    first[t] = first[t] < 0 ? from : Math.min(first[t], from);
    last[t] = Math.max(last[t], to);
  };
  for (const i of g.inputs) touch(i, 0, 0);
  const spans = steps.map((step) => {
    const stepNodes = step.kind === 'fused' ? [step.producer, step.consumer] : [step.node];
    const span = { from: stepNodes[0].node.index + 1, to: stepNodes[stepNodes.length - 1].node.index + 1 };
    for (const { node } of stepNodes) {
      for (const t of [...node.inputs, ...node.outputs]) if (t) touch(t.index, span.from, span.to);
    }
    return span;
  });
  for (const o of g.outputs) touch(o, g.operators.length, g.operators.length);

  // The buffers: every stored tensor, then the scratch of each streamed step, which keeps its index.
  const buffers: PlannedBuffer[] = graph.tensors
    .filter((t) => facts.stored(t) && !unstored.has(t.index))
    .map((t) => ({ tensor: t.index, size: alignUp(t.byteLength), firstUse: first[t.index], lastUse: last[t.index], offset: 0 }));
  let k = 0;
  steps.forEach((step, s) => {
    if (step.kind === 'node') return;
    const node = step.kind === 'fused' ? step.consumer.node.index : step.node.node.index;
    if (step.kind === 'fused') step.ring = buffers.length;
    else step.pending = buffers.length;
    buffers.push({ tensor: -1, node, size: alignUp(scratchBytes[k++]), firstUse: spans[s].from, lastUse: spans[s].to, offset: 0 });
  });

  const { kept, placed, arenaBytes } = placeWithShares(buffers, shares, steps, g.operators.length);
  const keptOutputs = new Set(kept.map((share) => share.output));
  for (const share of kept) note(share.technique, `${share.node.op} ${share.node.index}`);
  // An in-place convolution whose share was dropped runs as a plain node, without its pending rows.
  const finalSteps: Step[] = steps.map((step) =>
    step.kind === 'in-place' && !keptOutputs.has(step.node.node.outputs[0].index) ? { kind: 'node', node: step.node } : step,
  );
  const final = placed.filter((b) => b.tensor >= 0 || b.size > 0);
  for (const step of finalSteps) {
    if (step.kind === 'fused') step.ring = final.indexOf(placed[step.ring]);
    if (step.kind === 'in-place') step.pending = final.indexOf(placed[step.pending]);
  }
  return { memory: { planner: 'optimized', arenaBytes, buffers: final, savings: [] }, steps: finalSteps, applied };
}

/**
 * Pad folding: each foldable PAD's step disappears and its consumer reads the PAD's input, with data that
 * skips the padding. Returns the nodes that remain, in order; the padded tensors join `unstored`.
 */
function foldPads(
  nodes: readonly PreparedNode[],
  facts: TensorFacts,
  unstored: Set<number>,
  note: (technique: Technique, what: string) => void,
): PreparedNode[] {
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
    note('pad folding', `PAD ${p} into ${conv.node.op} ${c}`);
  });
  return current.filter((n): n is PreparedNode => n !== null);
}

const bytesOf = (t: Tensor | null) => (t ? alignUp(t.byteLength) : 0);

/** The node computed over its input's memory, when its kernel evaluates rows and that saves memory. */
function inPlace(prepared: PreparedNode, facts: TensorFacts): InPlaceRows | null {
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
  const evaluation = kernel.rows as RowEvaluation<unknown, unknown>;
  return { node: prepared, rows: evaluation, window, inRowBytes, outRowBytes, pendingRows: rows };
}

/**
 * `producer` fused into `consumer`, when the consumer reads the producer's output alone and the two together
 * need fewer bytes than the larger of them run apart (in place where that is enabled and possible).
 */
function fusion(
  producer: PreparedNode,
  consumer: PreparedNode | undefined,
  facts: TensorFacts,
  enabled: ReadonlySet<Technique>,
): FusedRows | null {
  const between = producer.node.outputs[0];
  if (!consumer || !producer.kernel.rows || !consumer.kernel.rows) return null;
  if (!facts.exclusive(between) || consumer.node.inputs[0] !== between) return null;
  const consumerWindow = consumer.kernel.rows.window(consumer.data);
  const f: FusedRows = {
    producer,
    consumer,
    producerRows: producer.kernel.rows as RowEvaluation<unknown, unknown>,
    consumerRows: consumer.kernel.rows as RowEvaluation<unknown, unknown>,
    producerWindow: producer.kernel.rows.window(producer.data),
    consumerWindow,
    ringRows: ringRows(consumerWindow),
  };
  const alone = (prepared: PreparedNode) => {
    const rows = enabled.has('in-place convolution') ? inPlace(prepared, facts) : null;
    const x = bytesOf(prepared.node.inputs[0]);
    const y = bytesOf(prepared.node.outputs[0]);
    return rows ? Math.max(x, y) + alignUp(rows.pendingRows * rows.outRowBytes) : x + y;
  };
  const fused = bytesOf(producer.node.inputs[0]) + alignUp(ringBytes(f)) + bytesOf(consumer.node.outputs[0]);
  return fused < Math.max(alone(producer), alone(consumer)) ? f : null;
}

function ringBytes(f: FusedRows): number {
  return f.ringRows * f.consumerWindow.inRowElements * ELEMENT_SIZE[f.producer.node.outputs[0].dtype]!;
}

/** Groups of buffer indices placed at one offset: a tensor and every tensor taking over its memory. */
function shapesOf(buffers: readonly PlannedBuffer[], takesOver: ReadonlyMap<number, number>): number[][] {
  const root = (t: number): number => (takesOver.has(t) ? root(takesOver.get(t)!) : t);
  const shapes = new Map<number, number[]>();
  buffers.forEach((b, i) => {
    const key = b.tensor >= 0 ? root(b.tensor) : -1 - i;
    const shape = shapes.get(key);
    if (shape) shape.push(i);
    else shapes.set(key, [i]);
  });
  return [...shapes.values()];
}

/**
 * The buffers' sizes and lifetimes as flat arrays, for the many trial placements of placeWithShares (a model
 * loads in a few milliseconds only if these allocate little).
 */
interface Extents {
  size: Float64Array;
  first: Int32Array;
  last: Int32Array;
}

/**
 * The most bytes alive at once, whatever the placement: at each time, each shape's largest live buffer,
 * summed. No placement needs less.
 */
function peakLiveBytes(e: Extents, shapes: readonly number[][], end: number): number {
  // Index time + 1: time runs from -1 (tensors no step touches) to `end`.
  const live = new Float64Array(end + 2);
  const largest = new Float64Array(end + 2);
  for (const shape of shapes) {
    let from = end + 1;
    let to = -1;
    for (const i of shape) {
      const size = e.size[i];
      for (let t = e.first[i] + 1; t <= e.last[i] + 1; t++) if (size > largest[t]) largest[t] = size;
      from = Math.min(from, e.first[i] + 1);
      to = Math.max(to, e.last[i] + 1);
    }
    for (let t = from; t <= to; t++) {
      live[t] += largest[t];
      largest[t] = 0;
    }
  }
  let peak = 0;
  for (const bytes of live) peak = Math.max(peak, bytes);
  return peak;
}

/**
 * Which shares to keep, and the placement. A share pins two tensors to one offset, which saves memory where
 * both are alive around one op but can cost some elsewhere: greedy placement puts a small long-lived output
 * (a residual written in place) where its large input was, and stacks later tensors above it. So:
 *   1. the bound: the most bytes alive at once with every share (peakLiveBytes); no placement does better;
 *   2. an in-place convolution is kept only where dropping it would raise the bound (it also costs row copies);
 *   3. while the placed arena is above the bound, each other share that the bound does not need is dropped
 *      if that lowers the arena.
 * Returns copies of `buffers`, placed, the pending rows of a dropped in-place convolution at size 0.
 */
function placeWithShares(
  buffers: readonly PlannedBuffer[],
  shares: readonly Share[],
  steps: readonly Step[],
  end: number,
): { kept: Share[]; placed: PlannedBuffer[]; arenaBytes: number } {
  // An in-place convolution's pending rows: its buffer, and the output whose share they serve.
  const pending = steps.flatMap((step) => (step.kind === 'in-place' ? [[step.pending, step.node.node.outputs[0].index] as const] : []));
  const sizes = Float64Array.from(buffers, (b) => b.size);
  const first = Int32Array.from(buffers, (b) => b.firstUse);
  const last = Int32Array.from(buffers, (b) => b.lastUse);
  const takesOverOf = (active: readonly Share[]) => new Map(active.map((share) => [share.output, share.input]));
  const extentsWith = (takesOver: ReadonlyMap<number, number>): Extents => {
    const size = sizes.slice();
    for (const [buffer, output] of pending) if (!takesOver.has(output)) size[buffer] = 0;
    return { size, first, last };
  };
  const peakWith = (active: readonly Share[]) => {
    const takesOver = takesOverOf(active);
    return peakLiveBytes(extentsWith(takesOver), shapesOf(buffers, takesOver), end);
  };
  const placeWith = (active: Share[]) => {
    const takesOver = takesOverOf(active);
    const extents = extentsWith(takesOver);
    return { kept: active, takesOver, extents, ...placeShapes(extents, shapesOf(buffers, takesOver)) };
  };
  const bound = peakWith(shares);
  const needed = (active: readonly Share[], share: Share) => peakWith(active.filter((s) => s !== share)) > bound;
  let kept = [...shares];
  for (const share of shares) {
    if (share.technique === 'in-place convolution' && !needed(kept, share)) kept = kept.filter((s) => s !== share);
  }
  let best = placeWith(kept);
  for (const share of kept) {
    if (best.arenaBytes === bound) break;
    if (share.technique === 'in-place convolution' || needed(best.kept, share)) continue;
    const trial = placeWith(best.kept.filter((s) => s !== share));
    if (trial.arenaBytes < best.arenaBytes) best = trial;
  }
  const placed = buffers.map((b, i): PlannedBuffer => {
    const sharesWith = best.takesOver.get(b.tensor);
    return { ...b, size: best.extents.size[i], offset: best.offsets[i], ...(sharesWith === undefined ? {} : { sharesWith }) };
  });
  return { kept: best.kept, placed, arenaBytes: best.arenaBytes };
}

/**
 * Our placement: TFLM's greedy first fit (planner.ts planGreedyTflm: each buffer, in turn, at the lowest offset
 * where it meets no placed buffer alive at the same time), for shapes — buffers sharing one offset, each
 * keeping its own size and lifetime — in two orders, keeping the smaller arena: largest first (TFLM's), and
 * longest-lived first, which keeps a long-lived tensor (a residual) from landing above a short large one whose
 * place later tensors need. Returns each buffer's offset and the arena size.
 */
function placeShapes(e: Extents, shapes: readonly number[][]): { offsets: Float64Array; arenaBytes: number } {
  const largest = shapes.map((shape) => Math.max(...shape.map((i) => e.size[i])));
  const life = shapes.map((shape) => Math.max(...shape.map((i) => e.last[i])) - Math.min(...shape.map((i) => e.first[i])));
  const order = shapes.map((_, k) => k);
  const largestFirst = [...order].sort((a, b) => largest[b] - largest[a]);
  const longestFirst = [...order].sort((a, b) => life[b] - life[a] || largest[b] - largest[a]);
  const byLargest = placeInOrder(e, shapes, largestFirst);
  const byLongest = placeInOrder(e, shapes, longestFirst);
  return byLargest.arenaBytes <= byLongest.arenaBytes ? byLargest : byLongest;
}

function placeInOrder(e: Extents, shapes: readonly number[][], order: readonly number[]): { offsets: Float64Array; arenaBytes: number } {
  const offsets = new Float64Array(e.size.length);
  const placed: number[] = [];
  // The placed buffers alive with the shape being placed, and for each the size of the member it meets.
  const conflicts: number[] = [];
  const conflictSizes: number[] = [];
  const candidates: number[] = [];
  let arenaBytes = 0;
  for (const k of order) {
    const shape = shapes[k];
    conflicts.length = 0;
    conflictSizes.length = 0;
    candidates.length = 0;
    candidates.push(0);
    for (const i of shape) {
      for (const p of placed) {
        if (e.first[p] <= e.last[i] && e.first[i] <= e.last[p]) {
          conflicts.push(p);
          conflictSizes.push(e.size[i]);
          candidates.push(offsets[p] + e.size[p]);
        }
      }
    }
    candidates.sort((a, b) => a - b);
    // The lowest candidate where no member's range meets a conflicting buffer's.
    const offset = candidates.find((at) =>
      conflicts.every((p, c) => at + conflictSizes[c] <= offsets[p] || offsets[p] + e.size[p] <= at),
    )!;
    for (const i of shape) {
      offsets[i] = offset;
      placed.push(i);
      arenaBytes = Math.max(arenaBytes, offset + e.size[i]);
    }
  }
  return { offsets, arenaBytes };
}
