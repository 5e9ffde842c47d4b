// Load a model, resolve and prepare every operator once, plan one arena, then invoke as often as asked.
// Subgraph 0 is the graph that runs (control-flow ops that call other subgraphs are not supported).
import { ArenaError, UnsupportedFeatureError, InputError } from './errors.js';
import { nodeError, prepareGraph, type PreparedGraph, type PreparedNode } from './graph.js';
import { planExecution, type ExecutionPlan, type MemoryPlan, type PlannerName, type Step } from './memory-plan.js';
import { readModel, type Model, type Subgraph } from './model.js';
import type { Node } from './op.js';
import type { Rounding } from './quant.js';
import type { OpResolver } from './resolver.js';
import { evalFused, evalInPlace, type FusedRows, type InPlaceRows } from './row-streaming.js';
import { byteSize, typedView, type Tensor, type TensorData } from './tensor.js';
import { alignUp } from './planner.js';
import {
  allocBound, compileKernelModules, compileKernelModulesNow, DEFAULT_OPERATOR_BYTES, hostSupportsSimd, SimdMemory,
  type WasmKernelModule,
} from './wasm/runtime.js';

export interface InterpreterOptions {
  /** The kernels the model may use. Missing ones fail the load, all named at once. */
  resolver: OpResolver;
  /** 'double' (default): TFLM's reference requantization. 'single': TFLite's built-in int8 CONV_2D and FULLY_CONNECTED. */
  rounding?: Rounding;
  /**
   * Which kernels run; outputs are byte-identical. 'simd' (the default where the host has WebAssembly SIMD):
   * WebAssembly SIMD kernels (ops/wasm/) where a layer fits them, and the arena lives in their WebAssembly.Memory;
   * 'js' (the default elsewhere): pure-JS specialized kernels (ops/fast/); both fall back, layer by layer, to the
   * next tier. 'reference': the readable kernels everywhere.
   */
  kernels?: KernelChoice;
  /**
   * Give every tensor its own memory for the whole run, so each can be read after invoke (TFLM's
   * preserve_all_tensors, used to compare intermediates). Costs the sum of all activations, and turns off
   * every memory-sharing technique of the optimized planner.
   */
  preserveAllTensors?: boolean;
  /**
   * 'optimized' (default): our planner (memory-plan.ts), which shares and streams memory for a much smaller
   * arena with identical outputs. 'tflm': TFLM's plan, to the byte.
   */
  planner?: PlannerName;
  /** Use an arena of exactly this many bytes; ArenaError if the plan needs more. Default: what the plan needs. */
  arenaBytes?: number;
  /** Refuse plans larger than this (default 1 GiB): a corrupt shape must not allocate without bound. */
  maxArenaBytes?: number;
}

export const DEFAULT_MAX_ARENA_BYTES = 2 ** 30;

/** The kernel tiers, fastest first: see InterpreterOptions.kernels. */
export type KernelChoice = 'simd' | 'js' | 'reference';
export const KERNEL_CHOICES: readonly KernelChoice[] = ['simd', 'js', 'reference'];

/** The tier `new Interpreter` runs when none is asked for: 'simd' where the host has WebAssembly SIMD, else 'js'. */
export function defaultKernels(): KernelChoice {
  return hostSupportsSimd() ? 'simd' : 'js';
}

/** One step of invoke, for a profile: 'node' is one kernel's eval; 'in-place' a convolution computed over its own
 * input row by row; 'fused' a producer streamed row by row into its consumer (src/row-streaming.ts). */
export interface ExecutionStep {
  kind: 'node' | 'in-place' | 'fused';
  /** Indices of the subgraph-0 operators it computes, in graph order; a PAD folded into a convolution is in its step. */
  operators: number[];
}

/** A step of the plan with the arena views it needs, made once so that invoke allocates nothing. */
type BoundStep =
  | { kind: 'node'; node: PreparedNode }
  | { kind: 'in-place'; rows: InPlaceRows; pending: TensorData; pendingByte: number }
  | { kind: 'fused'; rows: FusedRows; ring: TensorData };

export class Interpreter {
  readonly model: Model;
  readonly subgraph: Subgraph;
  /** Every tensor of subgraph 0, by index. */
  readonly tensors: readonly Tensor[];
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly Tensor[];
  /** The bytes all non-constant tensors live in: their own ArrayBuffer, or part of the SIMD tier's memory. */
  readonly arena: Uint8Array;
  /** The kernel tier this interpreter runs (InterpreterOptions.kernels). */
  readonly kernels: KernelChoice;
  /** Where each tensor and scratch buffer lives in the arena, and what the planner saved. */
  readonly memoryPlan: MemoryPlan;
  /** Constants whose bytes were misaligned for their type in the model and had to be copied. */
  readonly copiedConstants: number;
  private readonly steps: BoundStep[];
  /** The SIMD tier's memory (kernels' constants, then the arena); null on the other tiers. */
  private readonly simd: SimdMemory | null;
  private disposed = false;

  constructor(model: Uint8Array | ArrayBuffer | Model, options: InterpreterOptions) {
    this.model = model instanceof Uint8Array || model instanceof ArrayBuffer ? readModel(model) : model;
    const g = (this.subgraph = this.model.subgraphs[0]);
    // Variable tensors hold state across invokes for stateful ops (LSTM, SVDF), none of which we have; running
    // an op on one would read memory that was never planned.
    const variable = g.tensors.find((t) => t.isVariable);
    if (variable) {
      throw new UnsupportedFeatureError(
        `subgraph 0 tensor ${variable.index} (${variable.name}) is a variable tensor; stateful models are not supported`,
      );
    }
    const limit = options.maxArenaBytes ?? DEFAULT_MAX_ARENA_BYTES;
    // Before prepare, whose buffers grow with tensor sizes: no plan holding this tensor can be accepted.
    for (const t of g.tensors) {
      const bytes = t.data || t.isVariable ? 0 : byteSize(t);
      if (bytes > limit) {
        throw new ArenaError(`tensor ${t.index} (${t.name}) needs ${bytes} bytes, more than the ${limit}-byte limit (maxArenaBytes)`);
      }
    }
    const kernels = (this.kernels = options.kernels ?? defaultKernels());
    if (!KERNEL_CHOICES.includes(kernels)) {
      throw new InputError(`kernels is one of ${KERNEL_CHOICES.join(', ')}, not ${String(kernels)}`);
    }
    if (kernels === 'simd' && !hostSupportsSimd()) {
      throw new UnsupportedFeatureError("this host has no WebAssembly SIMD: use kernels 'js'");
    }
    if (kernels === 'simd') compileKernelModulesNow(simdModules(this.model, options.resolver));
    const simd = (this.simd = kernels === 'simd' ? new SimdMemory(simdMemoryBound(g, options)) : null);
    let graph: PreparedGraph;
    let plan: ExecutionPlan;
    try {
      graph = prepareGraph(this.model, options.resolver, {
        rounding: options.rounding ?? 'double',
        kernels: kernels === 'reference' ? 'reference' : 'fast',
        simd,
      });
      plan = planExecution(graph, options.planner ?? 'optimized', options.preserveAllTensors);
      this.arena = arenaFor(plan.memory, options, limit, simd);
    } catch (e) {
      // Nothing else holds the memory: a failed load leaves it for the next load, as dispose would.
      simd?.release();
      throw e;
    }
    const { memory, steps } = plan;
    const arena = this.arena;
    this.memoryPlan = memory;
    const tensors = graph.tensors;
    for (const b of memory.buffers) {
      if (b.tensor >= 0) tensors[b.tensor].setBytes(arena.subarray(b.offset, b.offset + tensors[b.tensor].byteLength));
    }
    this.tensors = tensors;
    this.inputs = g.inputs.map((i) => tensors[i]);
    this.outputs = g.outputs.map((i) => tensors[i]);
    this.copiedConstants = graph.copiedConstants;
    const scratch = (index: number, t: Tensor) =>
      typedView(t.dtype, arena.subarray(memory.buffers[index].offset, memory.buffers[index].offset + memory.buffers[index].size));
    this.steps = steps.map((step: Step): BoundStep => {
      switch (step.kind) {
        case 'node':
          return step;
        case 'in-place': {
          const pending = scratch(step.pending, step.node.node.outputs[0]);
          return { kind: 'in-place', rows: step, pending, pendingByte: memory.buffers[step.pending].offset };
        }
        case 'fused':
          return { kind: 'fused', rows: step, ring: scratch(step.ring, step.producer.node.outputs[0]) };
      }
    });
  }

  /**
   * new Interpreter, after compiling the SIMD kernels the model's ops use asynchronously: the way to load in a
   * browser's main thread, which refuses to compile WebAssembly over 4 KB synchronously. Elsewhere the two are alike.
   */
  static async create(model: Uint8Array | ArrayBuffer | Model, options: InterpreterOptions): Promise<Interpreter> {
    const parsed = model instanceof Uint8Array || model instanceof ArrayBuffer ? readModel(model) : model;
    if ((options.kernels ?? defaultKernels()) === 'simd') await compileKernelModules(simdModules(parsed, options.resolver));
    return new Interpreter(parsed, options);
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
    this.checkLive();
    for (const step of this.steps) this.runStep(step);
  }

  /**
   * Ends this interpreter and hands its SIMD memory, zeroed, to the next one loaded in this process, which then
   * skips faulting in fresh pages (a few ms for a MobileNet; src/wasm/runtime.ts) and instantiating the kernels.
   * The memory is kept for that (64 MiB at most in all) until freeSpareMemory() lets it go. Optional: an
   * interpreter never disposed is garbage-collected as usual, its memory with it. Afterwards every method throws
   * InputError, and views of its tensors (Tensor.data) must not be used: another interpreter may own the bytes.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.simd?.release();
  }

  private checkLive(): void {
    if (this.disposed) throw new InputError('this interpreter was disposed');
  }

  /**
   * What invoke runs, step by step, in order: the operators each step computes. A profile's rows, for
   * invokeProfiled; a step covers two operators when the plan fuses them or folds a PAD into a convolution.
   */
  get executionSteps(): ExecutionStep[] {
    const operators = this.steps.map((step) => stepNodes(step).map((n) => n.index));
    // A folded PAD has no step of its own: it belongs to the step that computes the convolution reading its output.
    const covered = new Set(operators.flat());
    const stepOf = new Map(operators.flatMap((indices, s) => indices.map((n) => [n, s] as const)));
    const ops = this.subgraph.operators;
    for (const op of ops) {
      if (covered.has(op.index)) continue;
      const reader = ops.find((o) => o.index > op.index && o.inputs.includes(op.outputs[0]));
      const s = reader && stepOf.get(reader.index);
      if (s === undefined) throw new Error(`operator ${op.index} (${op.opName}) is in no step of the plan`);
      operators[s].push(op.index);
      operators[s].sort((a, b) => a - b);
    }
    return this.steps.map((step, s) => ({ kind: step.kind, operators: operators[s] }));
  }

  /**
   * Runs the graph once, as invoke does, adding the `clock` time (ms) each step takes to `stepMs[step]`
   * (steps as executionSteps lists them). Two clock reads per step and nothing allocated; invoke itself reads no
   * clock, so profiling costs nothing unless asked for. The clock is a parameter so the core needs no Node API.
   */
  invokeProfiled(stepMs: Float64Array, clock: () => number = () => performance.now()): void {
    this.checkLive();
    const steps = this.steps;
    if (stepMs.length !== steps.length) {
      throw new InputError(`invokeProfiled needs one time slot per step: ${steps.length}, got ${stepMs.length}`);
    }
    for (let s = 0; s < steps.length; s++) {
      const started = clock();
      this.runStep(steps[s]);
      stepMs[s] += clock() - started;
    }
  }

  private runStep(step: BoundStep): void {
    try {
      if (step.kind === 'node') step.node.kernel.eval(step.node.node, step.node.data);
      else if (step.kind === 'in-place') evalInPlace(step.rows, step.pending, step.pendingByte, this.arena);
      else evalFused(step.rows, step.ring);
    } catch (e) {
      throw nodeError(stepNode(step), e);
    }
  }

  private io(list: readonly Tensor[], i: number, what: string): Tensor {
    this.checkLive();
    const t = list[i];
    if (!t) throw new InputError(`model has ${list.length} ${what}s; there is no ${what} ${i}`);
    return t;
  }
}

/** The SIMD kernel modules the model's operators may use. */
function simdModules(model: Model, resolver: OpResolver): WasmKernelModule[] {
  return model.operatorCodes.flatMap((op) => resolver.find(op.code, op.customCode)?.simdKernels ?? []);
}

/**
 * What the SIMD tier's memory will hold, at most: what preparing each operator places there, as its kernel files
 * report it (WasmKernelModule.memoryBound; DEFAULT_OPERATOR_BYTES where they do not), the largest scratch each
 * kernel file asks for, and the arena. Reserved up front so that the memory never grows; tight, because V8 counts
 * the whole reservation against its external memory limit, and every load then brings a garbage collection closer.
 * The optimized plan never needs more than the activations side by side: each technique it applies takes the place
 * of more bytes than it adds (memory-plan.ts: a fused pair's ring replaces the tensor between them and is smaller;
 * an in-place convolution's output and pending rows take less than its input and output apart; an alias or an
 * elementwise op in place shares one tensor's bytes; a folded PAD's output is never stored), and first-fit
 * placement never goes past the sum of what it places. Nor does a plan that preserves every tensor; TFLM's plan
 * adds its kernels' scratch, which we bound by the activations again.
 */
export function simdMemoryBound(g: Subgraph, options: InterpreterOptions): number {
  let placed = 0;
  const scratch = new Map<WasmKernelModule, number>();
  for (const op of g.operators) {
    const modules = options.resolver.find(op.code, op.customCode)?.simdKernels ?? [];
    let unreported = modules.length === 0;
    for (const kernels of modules) {
      if (!kernels.memoryBound) {
        unreported = true;
        continue;
      }
      const bound = kernels.memoryBound(op, g.tensors);
      placed += bound.placed;
      scratch.set(kernels, Math.max(scratch.get(kernels) ?? 0, bound.scratch));
    }
    if (unreported) placed += DEFAULT_OPERATOR_BYTES;
  }
  for (const bytes of scratch.values()) placed += allocBound(bytes);
  let activations = 0;
  for (const t of g.tensors) if (!t.data && !t.isVariable) activations += alignUp(byteSize(t));
  const tflmScratch = options.planner === 'tflm' && !options.preserveAllTensors;
  const plan = Math.min((tflmScratch ? 2 : 1) * activations, options.maxArenaBytes ?? DEFAULT_MAX_ARENA_BYTES);
  return placed + allocBound(options.arenaBytes ?? plan);
}

/**
 * The arena `plan` runs in: `options.arenaBytes`, or what the plan needs. In the SIMD memory it comes after every
 * kernel's prepared data and nothing is placed after it, so the memory never grows again and views of it stay valid.
 */
function arenaFor(plan: MemoryPlan, options: InterpreterOptions, limit: number, simd: SimdMemory | null): Uint8Array {
  const needed = plan.arenaBytes;
  if (needed > limit) {
    throw new ArenaError(`model needs ${needed} bytes of activations, more than the ${limit}-byte limit (maxArenaBytes)`);
  }
  const size = options.arenaBytes ?? needed;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ArenaError(`arenaBytes must be a whole number of bytes, is ${size}`);
  }
  if (size < needed) {
    throw new ArenaError(`arena of ${size} bytes is too small: this model needs ${needed} bytes with the ${plan.planner} planner`);
  }
  if (!simd) return new Uint8Array(size);
  const base = simd.alloc(size);
  simd.freeze();
  return new Uint8Array(simd.memory.buffer, base, size);
}

/** The nodes a step evaluates, in graph order. */
function stepNodes(step: BoundStep): Node<unknown>[] {
  if (step.kind === 'node') return [step.node.node];
  return step.kind === 'in-place' ? [step.rows.node.node] : [step.rows.producer.node, step.rows.consumer.node];
}

/** The node a step's failure is reported against: the node, or a fused pair's consumer. */
function stepNode(step: BoundStep): Node<unknown> {
  if (step.kind === 'node') return step.node.node;
  return step.kind === 'in-place' ? step.rows.node.node : step.rows.consumer.node;
}
