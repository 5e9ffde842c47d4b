// "How big must the arena be?", answered from the model file alone: both planners' activation memory, where
// it peaks and what is alive there, what goes to flash, TFLM's whole arena on a 64-bit host and a 32-bit
// microcontroller, and whether a budget fits. `tflite-int8 arena` prints it; renderArenaSvg draws it.
import type { Model } from './model.js';
import { planMemory, type MemoryPlan, type PlannedBuffer } from './memory-plan.js';
import { estimateTflmArena, type TailCategoryTotal, type TflmArenaEstimate } from './tflm-arena.js';

/** A buffer alive at some time, described for a person: which tensor, how big, and why it is alive. */
export interface LiveBuffer {
  /** Tensor index, or -1 for a kernel's scratch buffer. */
  tensor: number;
  name: string;
  dtype: string | null;
  shape: number[] | null;
  /** Bytes the planner reserved for it. */
  bytes: number;
  offset: number;
  /**
   * input / output: an operand of the operator running then; scratch: that operator's scratch buffer;
   * held: kept alive for a later operator (heldFor) or as a graph output.
   */
  role: 'input' | 'output' | 'scratch' | 'held';
  heldFor?: { opIndex: number; opName: string } | 'graph output';
  sharesWith?: number;
}

export interface Peak {
  /** Planner time: 0 is before the first operator, operator n runs at time n + 1. */
  time: number;
  /** The operator running at the peak (-1: the peak is the graph inputs, before any operator). */
  opIndex: number;
  opName: string;
  /** Bytes alive at once (buffers sharing memory counted once). */
  bytes: number;
  buffers: LiveBuffer[];
}

export interface PlannerReport {
  planner: string;
  /** The arena the plan needs: largest offset + size. At least peak.bytes; the difference is fragmentation. */
  activationBytes: number;
  peak: Peak;
  buffers: PlannedBuffer[];
}

export interface TimelinePoint {
  time: number;
  opIndex: number;
  opName: string;
  tflmBytes: number;
  optimizedBytes: number;
}

export interface TflmTailSummary {
  bytes: number;
  categories: TailCategoryTotal[];
}

export interface ArenaEstimate {
  /** TFLM's arena_used_bytes on a 64-bit host: planned head + persistent tail. */
  tflmArena64: number;
  /** The same for a 32-bit microcontroller (ARM AAPCS): pointer-sized fields are 4 bytes. */
  tflmArena32: number;
  headBytes: number;
  tail64: TflmTailSummary;
  tail32: TflmTailSummary;
  /** TFLM structs whose size changes on 32-bit, as "name: 64-bit → 32-bit bytes". */
  pointerSizedStructs: string[];
  /** Operators whose TFLM kernel data the estimate does not know (counted as 0 bytes). */
  unknownKernels: { node: number; op: string }[];
  derivation: string[];
}

export interface BudgetCheck {
  what: string;
  needed: number;
  fits: boolean;
  /** budget − needed: spare bytes when positive, the overshoot when negative. */
  marginBytes: number;
}

export interface Budget extends BudgetCheck {
  budgetBytes: number;
  /** The same budget against the other figures a reader may be sizing for. */
  others: BudgetCheck[];
  /** Where to cut first: the operator at TFLM's activation peak, what is alive there, and what would shrink it. */
  attack: { opIndex: number; opName: string; liveBytes: number; advice: string };
}

export interface ArenaReport {
  model: { fileBytes: number; subgraphs: number; operators: number; tensors: number };
  /** Constant tensor data (distinct buffers): the weights that go to flash. */
  weightsBytes: number;
  /** The whole .tflite flatbuffer, which is what an application links into flash. */
  flashBytes: number;
  /** The headline: where TFLM's plan peaks (details, with the live buffers, in tflm.peak). */
  peak: { planner: string; time: number; opIndex: number; opName: string; bytes: number };
  tflm: PlannerReport;
  optimized: PlannerReport & { savings: MemoryPlan['savings']; savedBytes: number };
  /** Live activation bytes at every planner time, for both plans. */
  timeline: TimelinePoint[];
  estimate: ArenaEstimate;
  budget?: Budget;
}

/** The arena report of `model`; with `budgetBytes`, a verdict against it. */
export function arenaReport(model: Model, options: { budgetBytes?: number } = {}): ArenaReport {
  const g = model.subgraphs[0];
  const tflmPlan = planMemory(model, 'tflm');
  const optimizedPlan = planMemory(model, 'optimized');
  const tflmLive = liveBytesByTime(model, tflmPlan);
  const optimizedLive = liveBytesByTime(model, optimizedPlan);
  const tflm = plannerReport(model, tflmPlan, tflmLive);
  const optimized = plannerReport(model, optimizedPlan, optimizedLive);
  const host = estimateTflmArena(model, 'host64');
  const mcu = estimateTflmArena(model, 'mcu32');
  const estimate: ArenaEstimate = {
    tflmArena64: host.arenaBytes,
    tflmArena32: mcu.arenaBytes,
    headBytes: host.headBytes,
    tail64: { bytes: host.tailBytes, categories: host.categories },
    tail32: { bytes: mcu.tailBytes, categories: mcu.categories },
    pointerSizedStructs: host.pointerSizedStructs,
    unknownKernels: host.unknownKernels,
    derivation: derivation(host, mcu),
  };
  const report: ArenaReport = {
    model: { fileBytes: model.bytes.length, subgraphs: model.subgraphs.length, operators: g.operators.length, tensors: g.tensors.length },
    weightsBytes: constantBytes(model),
    flashBytes: model.bytes.length,
    peak: { planner: tflm.planner, time: tflm.peak.time, opIndex: tflm.peak.opIndex, opName: tflm.peak.opName, bytes: tflm.peak.bytes },
    tflm,
    optimized: { ...optimized, savings: optimizedPlan.savings, savedBytes: tflm.activationBytes - optimized.activationBytes },
    timeline: tflmLive.map((bytes, time) => ({
      time,
      opIndex: time - 1,
      opName: opNameAt(model, time),
      tflmBytes: bytes,
      optimizedBytes: optimizedLive[time],
    })),
    estimate,
  };
  if (options.budgetBytes !== undefined) report.budget = budgetVerdict(report, options.budgetBytes);
  return report;
}

/** Bytes alive at each time 0..N: the union of [offset, offset + size) of the buffers alive then. */
function liveBytesByTime(model: Model, plan: MemoryPlan): number[] {
  const times = model.subgraphs[0].operators.length + 1;
  return Array.from({ length: times }, (_, t) => unionBytes(plan.buffers.filter((b) => b.firstUse <= t && t <= b.lastUse)));
}

function unionBytes(buffers: readonly PlannedBuffer[]): number {
  const intervals = buffers.map((b) => [b.offset, b.offset + b.size]).sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of intervals) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

function plannerReport(model: Model, plan: MemoryPlan, live: number[]): PlannerReport {
  // Earliest time at the maximum, so a plateau reports the operator that first reaches it.
  const time = live.reduce((best, bytes, t) => (bytes > live[best] ? t : best), 0);
  return {
    planner: plan.planner,
    activationBytes: plan.arenaBytes,
    peak: {
      time,
      opIndex: time - 1,
      opName: opNameAt(model, time),
      bytes: live[time],
      buffers: plan.buffers
        .filter((b) => b.firstUse <= time && time <= b.lastUse)
        .map((b) => describeLive(model, b, time))
        .sort((a, b) => b.bytes - a.bytes || a.tensor - b.tensor),
    },
    buffers: plan.buffers,
  };
}

function opNameAt(model: Model, time: number): string {
  return time === 0 ? '(graph inputs)' : model.subgraphs[0].operators[time - 1].opName;
}

function describeLive(model: Model, b: PlannedBuffer, time: number): LiveBuffer {
  const g = model.subgraphs[0];
  const shared = b.sharesWith === undefined ? {} : { sharesWith: b.sharesWith };
  if (b.tensor < 0) {
    const op = g.operators[b.node ?? time - 1];
    return { tensor: -1, name: `scratch of node ${op.index} ${op.opName}`, dtype: null, shape: null, bytes: b.size, offset: b.offset, role: 'scratch', ...shared };
  }
  const t = g.tensors[b.tensor];
  const base = { tensor: t.index, name: t.name, dtype: t.dtype, shape: t.shape, bytes: b.size, offset: b.offset, ...shared };
  const running = g.operators[time - 1];
  if (running?.outputs.includes(t.index)) return { ...base, role: 'output' };
  if (running?.inputs.includes(t.index)) return { ...base, role: 'input' };
  const reader = g.operators.find((op) => op.index >= time && op.inputs.includes(t.index));
  return { ...base, role: 'held', heldFor: reader ? { opIndex: reader.index, opName: reader.opName } : 'graph output' };
}

/** Constant data of every subgraph, each buffer counted once however many tensors point at it. */
function constantBytes(model: Model): number {
  const buffers = new Map<number, number>();
  for (const g of model.subgraphs) for (const t of g.tensors) if (t.data) buffers.set(t.buffer, t.data.length);
  return [...buffers.values()].reduce((sum, n) => sum + n, 0);
}

function derivation(host: TflmArenaEstimate, mcu: TflmArenaEstimate): string[] {
  const count = (e: TflmArenaEstimate) => e.allocations.length;
  return [
    `arena_used_bytes = planned head + persistent tail (TFLM MicroAllocator::used_bytes after AllocateTensors).`,
    `Head ${host.headBytes} B: TFLM's GreedyMemoryPlanner replayed over the tensor lifetimes and the kernels' scratch ` +
      `requests (src/planner.ts); equal to head_nonpersistent on every shared TFLM model.`,
    `Tail ${host.tailBytes} B (64-bit) / ${mcu.tailBytes} B (32-bit): ${count(host)} persistent allocations replayed in ` +
      `AllocateTensors order, each moving the tail down by its size and then to its alignment (src/tflm-arena.ts): ` +
      `allocator objects, a TfLiteEvalTensor per tensor, a NodeAndRegistration per operator, parsed builtin options, ` +
      `each kernel's OpData (Init) and per-channel arrays (Prepare), scratch handles, and the persistent input/output ` +
      `TfLiteTensors with their quantization.`,
    `64-bit: struct layouts of the x86-64 build TFLM's goldens came from; equals arena_used_bytes to the byte on the ` +
      `six shared TFLM models, category by category against TFLM's RecordingMicroAllocator.`,
    `32-bit: the same replay with 4-byte pointers, size_t and vtable pointers (ARM AAPCS, double still 8-aligned); ` +
      `no 32-bit TFLM run exists to check it against.`,
    ...(host.unknownKernels.length > 0
      ? [`Not counted (kernel data unknown to the replay): ${host.unknownKernels.map((k) => `${k.op} (node ${k.node})`).join(', ')}.`]
      : []),
  ];
}

function budgetVerdict(report: ArenaReport, budgetBytes: number): Budget {
  const check = (what: string, needed: number): BudgetCheck => ({ what, needed, fits: needed <= budgetBytes, marginBytes: budgetBytes - needed });
  const primary = check('TFLM arena on a 32-bit microcontroller (estimate)', report.estimate.tflmArena32);
  return {
    budgetBytes,
    ...primary,
    others: [
      check('TFLM arena on a 64-bit host', report.estimate.tflmArena64),
      check('TFLM planned activations (head) alone', report.tflm.activationBytes),
      check('tflite-int8 arena (optimized plan; run --arena-bytes)', report.optimized.activationBytes),
    ],
    attack: attackAdvice(report, primary, budgetBytes),
  };
}

/** What to cut at TFLM's peak: the operator's operands, and tensors held across it for later operators. */
function attackAdvice(report: ArenaReport, primary: BudgetCheck, budgetBytes: number): Budget['attack'] {
  const peak = report.tflm.peak;
  const describe = (b: LiveBuffer) => `${b.tensor < 0 ? b.name : `t${b.tensor} [${b.shape?.join(',')}]`} ${b.bytes.toLocaleString('en-US')} B`;
  const operands = peak.buffers.filter((b) => b.role === 'input' || b.role === 'output');
  const held = peak.buffers.filter((b) => b.role === 'held');
  const sentences: string[] = [];
  const tail32 = report.estimate.tail32.bytes;
  if (tail32 >= budgetBytes) {
    sentences.push(`TFLM's persistent tail alone (${tail32.toLocaleString('en-US')} B on 32-bit) exceeds the budget; smaller activations cannot fix it.`);
  }
  sentences.push(
    primary.fits
      ? `Fits with ${primary.marginBytes.toLocaleString('en-US')} B to spare; the peak sets the arena.`
      : `Cut ${(-primary.marginBytes).toLocaleString('en-US')} B from the activations alive at this operator.`,
  );
  if (operands.length > 0) {
    sentences.push(
      `${peak.opName} reads and writes ${operands.map(describe).join(' and ')} at once: fewer channels or a lower ` +
        `resolution there shrinks both, and splitting the operator into row bands keeps only a band of them alive.`,
    );
  }
  if (held.length > 0) {
    sentences.push(
      `Held across it for later: ${held
        .map((b) => `${describe(b)} (for ${b.heldFor === 'graph output' ? 'the graph output' : `op ${b.heldFor?.opIndex} ${b.heldFor?.opName}`})`)
        .join(', ')}: consuming these sooner (reordering, or recomputing a skip branch) frees them at the peak.`,
    );
  }
  const fragmentation = report.tflm.activationBytes - peak.bytes;
  if (fragmentation > 0) {
    sentences.push(
      `TFLM's greedy placement leaves ${fragmentation.toLocaleString('en-US')} B of gaps above the ${peak.bytes.toLocaleString('en-US')} B alive at the peak; ` +
        `a better placement recovers them without touching the model.`,
    );
  }
  return { opIndex: peak.opIndex, opName: peak.opName, liveBytes: peak.bytes, advice: sentences.join(' ') };
}

