// A per-step profile, as TFLM's MicroProfiler gives per op: where invoke's time goes, and how fast each step
// computes. Steps are reported as the interpreter executes them, so a fused pair or a folded PAD is one row.
import type { ExecutionStep, Interpreter } from './interpreter.js';
import { operatorMacs } from './macs.js';

export interface StepProfile {
  /** Position in Interpreter.executionSteps. */
  step: number;
  kind: ExecutionStep['kind'];
  /** Operator indices of subgraph 0 the step computes. */
  operators: number[];
  /** Their op names joined by '+', e.g. CONV_2D+DEPTHWISE_CONV_2D for a row-fused pair. */
  name: string;
  /** Time summed over the profiled runs. */
  ms: number;
  /** Multiply-accumulates of one run (src/macs.ts). */
  macs: number;
  /** macs per run ÷ mean time per run; 0 when the step took no measurable time. */
  gmacPerS: number;
  /** Fraction of the summed time of all steps. */
  share: number;
}

/**
 * One row per step from `stepMs`, the times invokeProfiled summed over `runs` runs.
 */
export function profileSteps(interpreter: Interpreter, stepMs: Float64Array, runs: number): StepProfile[] {
  const g = interpreter.subgraph;
  const total = stepMs.reduce((sum, ms) => sum + ms, 0);
  return interpreter.executionSteps.map(({ kind, operators }, step) => {
    const ms = stepMs[step];
    const macs = operators.reduce((sum, n) => sum + operatorMacs(g.operators[n], g.tensors), 0);
    return {
      step,
      kind,
      operators,
      name: operators.map((n) => g.operators[n].opName).join('+'),
      ms,
      macs,
      gmacPerS: ms > 0 ? (macs * runs) / (ms * 1e6) : 0,
      share: total > 0 ? ms / total : 0,
    };
  });
}
