// `tflite-int8 bench MODEL [--runs N] [--warmup N] [--kernels simd|js|reference] [--json] [--no-litert]`
//
// How fast we invoke, side by side with the real TFLite in the same process: our median and p90 invoke time, our
// load time (parse, prepare, plan: `new Interpreter`), a per-step profile (TFLM's MicroProfiler, with MACs), and
// LiteRT.js (reference/tflite-runner.ts) with the XNNPACK delegate and with its built-in kernels (delegates off),
// timing its invoke alone. Inputs: the golden rule of ../shared/golden/README.md. One thread everywhere.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { allOps } from '../../all-ops.js';
import { Interpreter, type KernelChoice } from '../../interpreter.js';
import { profileSteps, type StepProfile } from '../../profile.js';
import { goldenRuleInput } from '../../../reference/golden-inputs.js';
import { kernelsOption, parseArgs, single, UsageError, type ParsedArgs } from '../args.js';

export const usage = 'bench MODEL [--runs N] [--warmup N] [--kernels simd|js|reference] [--json] [--no-litert]';

/**
 * Loads are timed in three groups: the process's first; the next LOADS ("early": V8 still optimizing our
 * JavaScript); and LOADS more after WARM_AFTER loads in all ("warm"). Each interpreter is disposed before the next
 * load, which reuses its SIMD memory (Interpreter.dispose).
 */
export const LOADS = 20;
export const WARM_AFTER = 100;

export interface BenchReport {
  model: string;
  inputs: string;
  threads: 1;
  /** Our kernel tier (InterpreterOptions.kernels). */
  kernels: KernelChoice;
  runs: number;
  warmup: number;
  /** Our invoke time over the timed runs. */
  medianMs: number;
  p90Ms: number;
  minMs: number;
  /**
   * The process's first `new Interpreter(bytes)`: parse, validate, prepare every node, plan the arena, and, once per
   * process, emit and compile the SIMD kernels, with the JIT still cold.
   */
  firstLoadMs: number;
  /** The median of the `loads` loads after the first, while V8 is still optimizing our code. */
  earlyLoadMs: number;
  /**
   * The median of `loads` loads once `warmAfter` have run: what loading a model again costs in a running app or
   * server. Every interpreter is disposed before the next load, which reuses its SIMD memory (Interpreter.dispose).
   */
  loadMs: number;
  loads: number;
  warmAfter: number;
  /** Multiply-accumulates of one invoke (src/macs.ts), and their rate at the median time. */
  macs: number;
  gmacPerS: number;
  /** Per step as the interpreter executes it, times summed over the timed runs. */
  ops: StepProfile[];
  /** null with --no-litert; `unavailable` says why LiteRT.js could not be timed (not installed, model refused). */
  litert: LiteRtTimes | { unavailable: string } | null;
}

export interface LiteRtTimes {
  package: string;
  xnnpackMedianMs: number;
  xnnpackP90Ms: number;
  builtinMedianMs: number;
  builtinP90Ms: number;
  /** Our median ÷ theirs: how many times longer we take. */
  oursOverXnnpack: number;
  oursOverBuiltin: number;
}

export async function bench(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { valued: ['runs', 'warmup', 'kernels'], flags: ['json', 'no-litert'] });
  const [path] = args.positionals;
  if (!path || args.positionals.length > 1) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const runs = count(args, 'runs', 10, 1);
  const warmup = count(args, 'warmup', 2, 0);
  const kernels = kernelsOption(args);

  const model = new Uint8Array(readFileSync(path));
  const { interpreter: ours, firstLoadMs, earlyLoadMs, loadMs } = timeLoads(model, kernels);
  const inputs = ours.inputs.map((t, k) => goldenRuleInput(t.dtype, t.size, k));
  // The plan may reuse an input's memory once it is consumed (as TFLM's does): set the inputs before every run.
  const setInputs = () => inputs.forEach((bytes, k) => ours.setInputBytes(k, bytes));

  for (let i = 0; i < warmup; i++) {
    setInputs();
    ours.invoke();
  }
  const stepMs = new Float64Array(ours.executionSteps.length);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    setInputs();
    const started = performance.now();
    ours.invokeProfiled(stepMs);
    times.push(performance.now() - started);
  }
  const ops = profileSteps(ours, stepMs, runs);
  const macs = ops.reduce((sum, op) => sum + op.macs, 0);
  const medianMs = median(times);

  const report: BenchReport = {
    model: path,
    inputs: 'golden rule (../shared/golden/README.md)',
    threads: 1,
    kernels: ours.kernels,
    runs,
    warmup,
    medianMs,
    p90Ms: quantile(times, 0.9),
    minMs: Math.min(...times),
    firstLoadMs,
    earlyLoadMs,
    loadMs,
    loads: LOADS,
    warmAfter: WARM_AFTER,
    macs,
    gmacPerS: macs / (medianMs * 1e6),
    ops,
    litert: args.flags.has('no-litert') ? null : await timeLiteRt(model, inputs, runs, warmup, medianMs),
  };
  if (args.flags.has('json')) out(JSON.stringify(report, null, 2));
  else for (const line of formatReport(report, ours.subgraph.operators.length)) out(line);
  return 0;
}

/**
 * Loads `model` WARM_AFTER + LOADS times on the `kernels` tier (the default one if undefined), each interpreter
 * disposed before the next load: the first load's time, the medians of the early and the warm loads (BenchReport),
 * and the last interpreter, not disposed.
 */
export function timeLoads(
  model: Uint8Array,
  kernels: KernelChoice | undefined,
): { interpreter: Interpreter; firstLoadMs: number; earlyLoadMs: number; loadMs: number } {
  const times: number[] = [];
  let interpreter: Interpreter | null = null;
  while (times.length < WARM_AFTER + LOADS) {
    interpreter?.dispose();
    const started = performance.now();
    interpreter = new Interpreter(model, { resolver: allOps(), kernels });
    times.push(performance.now() - started);
  }
  return {
    interpreter: interpreter!,
    firstLoadMs: times[0],
    earlyLoadMs: median(times.slice(1, LOADS + 1)),
    loadMs: median(times.slice(-LOADS)),
  };
}

/** LiteRT.js, XNNPACK then built-in, each `warmup` untimed and `runs` timed invokes; unavailable when it cannot run. */
async function timeLiteRt(
  model: Uint8Array,
  inputs: Uint8Array[],
  runs: number,
  warmup: number,
  oursMedianMs: number,
): Promise<LiteRtTimes | { unavailable: string }> {
  // The runner needs dev packages (LiteRT.js, flatbuffers): load it only now.
  const { TfliteRunner, TfliteRuntimeError } = await import('../../../reference/tflite-runner.js');
  try {
    const runner = await TfliteRunner.load();
    const time = async (xnnpack: boolean) => {
      const session = await runner.open(model, inputs, { xnnpack });
      try {
        for (let i = 0; i < warmup; i++) await session.invoke();
        const times: number[] = [];
        for (let i = 0; i < runs; i++) times.push(await session.invoke());
        return { package: session.runtimePackage, medianMs: median(times), p90Ms: quantile(times, 0.9) };
      } finally {
        session.close();
      }
    };
    const xnnpack = await time(true);
    const builtin = await time(false);
    return {
      package: xnnpack.package,
      xnnpackMedianMs: xnnpack.medianMs,
      xnnpackP90Ms: xnnpack.p90Ms,
      builtinMedianMs: builtin.medianMs,
      builtinP90Ms: builtin.p90Ms,
      oursOverXnnpack: oursMedianMs / xnnpack.medianMs,
      oursOverBuiltin: oursMedianMs / builtin.medianMs,
    };
  } catch (e) {
    if (e instanceof TfliteRuntimeError) return { unavailable: e.message };
    throw e;
  }
}

function formatReport(r: BenchReport, operators: number): string[] {
  const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const lines = [
    `${basename(r.model)}: ${operators} operators in ${r.ops.length} steps; golden-rule inputs; 1 thread; ` +
      `${r.runs} timed runs after ${r.warmup} warm-up`,
    `ours (${r.kernels.padEnd(9)})  median ${ms(r.medianMs)} ms  p90 ${ms(r.p90Ms)} ms  ` +
      `${(r.macs / 1e6).toFixed(1)} M MACs  ${r.gmacPerS.toFixed(2)} GMAC/s`,
    `ours load         warm ${ms(r.loadMs)} ms (median of ${r.loads} after ${r.warmAfter} loads)  ` +
      `early ${ms(r.earlyLoadMs)} ms (loads 2–${r.loads + 1})  first ${ms(r.firstLoadMs)} ms` +
      (r.kernels === 'simd' ? ' (SIMD kernels compiled)' : ''),
  ];
  if (r.litert && 'unavailable' in r.litert) lines.push(`LiteRT.js not timed: ${r.litert.unavailable}`);
  else if (r.litert) {
    const l = r.litert;
    lines.push(
      `LiteRT XNNPACK    median ${ms(l.xnnpackMedianMs)} ms  p90 ${ms(l.xnnpackP90Ms)} ms  ours/XNNPACK ${l.oursOverXnnpack.toFixed(1)}×`,
      `LiteRT built-in   median ${ms(l.builtinMedianMs)} ms  p90 ${ms(l.builtinP90Ms)} ms  ours/built-in ${l.oursOverBuiltin.toFixed(2)}×`,
      `(${l.package}, invoke only; built-in = delegates off)`,
    );
  }
  lines.push(`per step, ours (ms summed over the ${r.runs} runs; a step of two ops is a fused pair or a folded PAD):`);
  const rows = r.ops.map((op) => [
    String(op.step),
    op.operators.join(','),
    op.name + (op.kind === 'node' ? '' : ` (${op.kind})`),
    ms(op.ms),
    ms(op.ms / r.runs),
    `${(op.share * 100).toFixed(1)}%`,
    op.macs.toLocaleString('en-US'),
    op.gmacPerS.toFixed(2),
  ]);
  const header = ['step', 'ops', 'op', 'ms', 'ms/run', 'share', 'MACs', 'GMAC/s'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const left = new Set([2]);
  const format = (row: string[]) =>
    row.map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd();
  return [...lines, format(header), ...rows.map(format)];
}

/** A whole-number option of at least `min`, `fallback` when absent. */
function count(args: ParsedArgs, name: string, fallback: number, min: number): number {
  const value = single(args, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} takes a whole number of at least ${min}, not "${value}"`);
  return Number(value);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank quantile: the smallest value with at least fraction q of the values at or below it. */
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}
