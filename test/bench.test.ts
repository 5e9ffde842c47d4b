// `tflite-int8 bench` and the profile under it, by structure only: no timing is asserted (timing belongs in bench/).
// MAC counts are checked against hand derivations, the profiled run against the golden outputs.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allOps } from '../src/all-ops.js';
import { InputError } from '../src/errors.js';
import { Interpreter } from '../src/interpreter.js';
import { operatorMacs } from '../src/macs.js';
import { readModel } from '../src/model.js';
import type { BenchReport, LiteRtTimes } from '../src/cli/commands/bench.js';
import { bareInstall, cli } from './helpers/cli.js';
import { goldenInputs, goldenOutputs, modelPath, readModelBytes, REPO_ROOT } from './helpers/shared.js';

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** Every operator of the model in exactly one step, steps in graph order. */
function expectEveryOperatorOnce(steps: { operators: number[] }[], operators: number): void {
  expect(steps.flatMap((s) => s.operators)).toEqual(Array.from({ length: operators }, (_, i) => i));
}

describe('operatorMacs', () => {
  it("person_detect op 2 CONV_2D: outH·outW·outC·kH·kW·inC = 48·48·16·1·1·8", () => {
    const g = readModel(readModelBytes('person_detect.tflite')).subgraphs[0];
    expect(g.operators[2].opName).toBe('CONV_2D');
    expect(operatorMacs(g.operators[2], g.tensors)).toBe(48 * 48 * 16 * 1 * 1 * 8);
    // op 3, DEPTHWISE_CONV_2D 3×3 stride 2 over 48×48×16: outH·outW·outC·kH·kW.
    expect(operatorMacs(g.operators[3], g.tensors)).toBe(24 * 24 * 16 * 3 * 3);
    // op 29 RESHAPE moves nothing; op 30 SOFTMAX over 2 classes: one per element.
    expect(operatorMacs(g.operators[29], g.tensors)).toBe(0);
    expect(operatorMacs(g.operators[30], g.tensors)).toBe(2);
  });

  it('tf2_mobilenet_v2: the convolutions add up to the 300.8 M MACs of golden/README.md', () => {
    const g = readModel(readModelBytes('tf2_mobilenet_v2_1.0_224_ptq.tflite')).subgraphs[0];
    const convolutions = g.operators.filter((op) => op.opName === 'CONV_2D' || op.opName === 'DEPTHWISE_CONV_2D');
    // Derived from the MobileNet v2 paper's table, not from the file: a 3×3 stride-2 stem to 32 channels, then
    // bottlenecks (expansion t, channels c, repeats n, first stride s), each an optional 1×1 expansion, a 3×3
    // depthwise and a 1×1 projection; a 1×1 conv to 1280; the 1001-class classifier as a 1×1 conv on the pooled 1×1.
    const blocks = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]];
    let size = 112;
    let channels = 32;
    let macs = size * size * 32 * 3 * 3 * 3;
    for (const [t, c, n, s] of blocks) {
      for (let i = 0; i < n; i++) {
        const expanded = channels * t;
        if (t !== 1) macs += size * size * expanded * channels;
        size /= i === 0 ? s : 1;
        macs += size * size * expanded * 3 * 3 + size * size * c * expanded;
        channels = c;
      }
    }
    macs += 7 * 7 * 1280 * 320 + 1001 * 1280;
    // = 300,775,552: golden/README.md's "300.8 M MACs".
    expect(macs).toBe(300_775_552);
    expect(sum(convolutions.map((op) => operatorMacs(op, g.tensors)))).toBe(macs);
  });
});

describe('Interpreter profiling', () => {
  it('invokeProfiled gives the golden output and adds each step its clock time', () => {
    const model = 'person_detect.tflite';
    const interpreter = new Interpreter(readModelBytes(model), { resolver: allOps() });
    const steps = interpreter.executionSteps;
    const stepMs = new Float64Array(steps.length);
    // A clock that advances 1 per read: every step sees exactly 1 per run.
    let now = 0;
    for (let run = 0; run < 2; run++) {
      // The plan reuses the input's memory once it is consumed: set it before each run.
      goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
      interpreter.invokeProfiled(stepMs, () => now++);
      expect(interpreter.output(0).bytes).toEqual(goldenOutputs('tflm', model)[0]);
    }
    expect(Array.from(stepMs)).toEqual(steps.map(() => 2));
    expect(now).toBe(4 * steps.length);
    expect(() => interpreter.invokeProfiled(new Float64Array(steps.length - 1))).toThrow(
      new InputError(`invokeProfiled needs one time slot per step: ${steps.length}, got ${steps.length - 1}`),
    );
  });

  it('executionSteps names a folded PAD and a fused pair as the steps that run them', () => {
    // mobilenet_v2_quantized_1x3x224x224 (from PyTorch) pads explicitly before its convolutions.
    const interpreter = new Interpreter(readModelBytes('mobilenet_v2_quantized_1x3x224x224.tflite'), { resolver: allOps() });
    const ops = interpreter.subgraph.operators;
    const steps = interpreter.executionSteps;
    expectEveryOperatorOnce(steps, ops.length);
    const named = steps.map((s) => `${s.kind} ${s.operators.map((n) => `${ops[n].opName} ${n}`).join(' + ')}`);
    expect(named).toContain('node PAD 1 + CONV_2D 2');
    expect(named).toContain('fused CONV_2D 6 + PAD 7 + DEPTHWISE_CONV_2D 8');
    // With TFLM's planner nothing is fused or folded: one step per operator.
    const tflm = new Interpreter(readModelBytes('person_detect.tflite'), { resolver: allOps(), planner: 'tflm' });
    expect(tflm.executionSteps).toEqual(tflm.subgraph.operators.map((op) => ({ kind: 'node', operators: [op.index] })));
  });
});


describe('tflite-int8 bench', () => {
  const PERSON_DETECT_OPERATORS = 31;

  it('person_detect --json: our times, load, profile and LiteRT.js both ways, consistent', () => {
    const result = cli('bench', modelPath('person_detect.tflite'), '--runs', '2', '--warmup', '0', '--json');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as BenchReport;
    expect(report).toMatchObject({
      runs: 2, warmup: 0, threads: 1, loads: 20, warmAfter: 100, kernels: 'simd', inputs: 'golden rule (../shared/golden/README.md)',
    });
    expect(report.minMs).toBeGreaterThan(0);
    expect(report.medianMs).toBeGreaterThanOrEqual(report.minMs);
    expect(report.p90Ms).toBeGreaterThanOrEqual(report.medianMs);
    expect(report.loadMs).toBeGreaterThan(0);
    expect(report.firstLoadMs).toBeGreaterThan(0);
    expect(report.earlyLoadMs).toBeGreaterThan(0);

    expectEveryOperatorOnce(report.ops, PERSON_DETECT_OPERATORS);
    expect(sum(report.ops.map((op) => op.share))).toBeCloseTo(1, 9);
    expect(report.macs).toBe(sum(report.ops.map((op) => op.macs)));
    expect(report.gmacPerS).toBeCloseTo(report.macs / (report.medianMs * 1e6), 9);
    // The step holding op 2 CONV_2D streams its rows into op 3 DEPTHWISE_CONV_2D: both ops' MACs.
    const conv = report.ops.find((op) => op.operators.includes(2))!;
    expect(conv).toMatchObject({ kind: 'fused', operators: [2, 3], name: 'CONV_2D+DEPTHWISE_CONV_2D' });
    expect(conv.macs).toBe(48 * 48 * 16 * 1 * 1 * 8 + 24 * 24 * 16 * 3 * 3);
    for (const op of report.ops) {
      expect(op.ms).toBeGreaterThanOrEqual(0);
      expect(op.gmacPerS).toBeCloseTo(op.ms > 0 ? (op.macs * report.runs) / (op.ms * 1e6) : 0, 9);
    }

    const litert = report.litert as LiteRtTimes;
    expect(litert.package).toBe('@litertjs/core@2.5.3');
    expect(litert.xnnpackP90Ms).toBeGreaterThanOrEqual(litert.xnnpackMedianMs);
    expect(litert.builtinP90Ms).toBeGreaterThanOrEqual(litert.builtinMedianMs);
    expect(litert.xnnpackMedianMs).toBeGreaterThan(0);
    expect(litert.oursOverXnnpack).toBeCloseTo(report.medianMs / litert.xnnpackMedianMs, 9);
    expect(litert.oursOverBuiltin).toBeCloseTo(report.medianMs / litert.builtinMedianMs, 9);
  });

  it('without LiteRT.js installed: --no-litert times ours alone; without the flag it says why LiteRT was not timed', () => {
    const bin = bareInstall();
    const bare = (...args: string[]) => {
      const result = spawnSync(process.execPath, [bin, 'bench', modelPath('person_detect.tflite'), '--runs', '1', '--warmup', '0', ...args], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    };

    const alone = bare('--no-litert', '--json');
    expect(alone.stderr).toBe('');
    expect(alone.status).toBe(0);
    expect((JSON.parse(alone.stdout) as BenchReport).litert).toBeNull();

    const text = bare();
    expect(text.stderr).toBe('');
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(
      'LiteRT.js not timed: @litertjs/core is not installed; the TFLite reference runtimes need: npm install --save-dev',
    );
    expect(text.stdout).toMatch(/^person_detect\.tflite: 31 operators in 30 steps; golden-rule inputs; 1 thread; 1 timed runs after 0 warm-up\n/);
    expect(text.stdout).toMatch(/\n +2 +2,3 +CONV_2D\+DEPTHWISE_CONV_2D \(fused\) .* 377,856 /);
    expect(text.stdout).toMatch(
      /\nours load +warm [\d.]+ ms \(median of 20 after 100 loads\) +early [\d.]+ ms \(loads 2–21\) +first [\d.]+ ms \(SIMD kernels compiled\)\n/,
    );
    expect(bare('--no-litert').stdout).not.toContain('LiteRT');
  });

  it('a bad model or bad counts: one line on stderr, exit 1 (usage 2)', () => {
    const bad = cli('bench', join(REPO_ROOT, 'package.json'));
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/^tflite-int8 bench: ModelFormatError: [^\n]+\n$/);
    const runs = cli('bench', modelPath('person_detect.tflite'), '--runs', '0');
    expect(runs.status).toBe(2);
    expect(runs.stderr).toBe('tflite-int8 bench: --runs takes a whole number of at least 1, not "0"\n');
    const tier = cli('bench', modelPath('person_detect.tflite'), '--kernels', 'gpu');
    expect(tier.status).toBe(2);
    expect(tier.stderr).toBe('tflite-int8 bench: --kernels is simd, js, reference, not "gpu"\n');
  });

  it('--kernels js times the pure-JS tier and says so', () => {
    const result = cli('bench', modelPath('person_detect.tflite'), '--runs', '1', '--warmup', '0', '--no-litert', '--kernels', 'js');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\nours \(js +\) +median /);
  });
});
