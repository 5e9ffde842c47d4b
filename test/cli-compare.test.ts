// `tflite-int8 compare` as a user runs it: the built bin against the real TFLite, exit codes 0 / 1 / 2, and the
// figures ../shared/golden/README.md measured independently (TFLM against TFLite).
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bareInstall } from './helpers/cli.js';
import { GOLDEN, modelPath, REPO_ROOT } from './helpers/shared.js';

function compare(args: string[], bin = join(REPO_ROOT, 'bin/tflite-int8.js')) {
  const result = spawnSync(process.execPath, [bin, 'compare', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('tflite-int8 compare', () => {
  it('person_detect, TFLM rounding: identical output; per layer, op 2 CONV_2D differs as golden/README.md measured', () => {
    const result = compare([
      modelPath('person_detect.tflite'), '--input', join(GOLDEN, 'inputs/person_detect.tflite.in0.bin'), '--per-layer',
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('ours (rounding double) vs TFLite (@litertjs/core@2.5.3, built-in kernels (delegates off), 1 thread)');
    expect(result.stdout).toContain('out0 t87 int8[1,2] "MobilenetV1/Predictions/Reshape_1": identical (2 elements)');
    // golden/README.md: "person_detect op 2: 137 of 36,864 elements" differ between TFLM (our double rounding) and TFLite.
    expect(result.stdout).toMatch(/\n {3}2 CONV_2D +t54 int8\[1,48,48,16\] +137 of 36864 differ, max 1 LSB {2}\*\n/);
    expect(result.stdout).toContain('first diverging op:\n  op 2 CONV_2D: inputs t51 int8[1,48,48,8], t10 int8[16,1,1,8], t53 int32[16] (all equal to TFLite\'s)');
    expect(result.stdout).toMatch(/result: outputs identical\n$/);
  });

  it('tf2_mobilenet_v2, TFLM rounding: outputs differ (exit 1), first at a CONV_2D', () => {
    const result = compare([modelPath('tf2_mobilenet_v2_1.0_224_ptq.tflite')]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('inputs: the golden rule of ../shared/golden/README.md');
    // golden/README.md: "tf2_mobilenet_v2: 10 of 1001 final outputs, max 12".
    expect(result.stdout).toContain('out0 t176 uint8[1,1001] "Identity": 10 of 1001 differ, max 12 LSB');
    expect(result.stdout).toContain('first diverging op:\n  op 1 CONV_2D: inputs t109 int8[1,224,224,3]');
    expect(result.stdout).toMatch(/result: outputs differ\n$/);
  });

  it('--json, several inputs and outputs', () => {
    const result = compare([modelPath('split_concat.tflite'), '--json']);
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ identical: true, rounding: 'double', firstDivergingOp: null });
    expect(report.reference).toEqual({ runtime: 'litert', package: '@litertjs/core@2.5.3', xnnpack: false, fallbackReason: null });
    expect(report.outputs.map((o: { differing: number; dtype: string }) => [o.dtype, o.differing])).toEqual(
      Array.from({ length: 5 }, () => ['uint8', 0]),
    );
  });

  it('--xnnpack compares with the XNNPACK delegate, which golden/README.md found off by 1 LSB on CONV_2D', () => {
    const model = modelPath('mobilenet_v1_0.25_128_quant.tflite');
    expect(compare([model]).status).toBe(0);
    const xnnpack = compare([model, '--xnnpack']);
    expect(xnnpack.status).toBe(1);
    expect(xnnpack.stdout).toContain('XNNPACK delegate, 1 thread');
  });
});

describe('tflite-int8 compare errors: one line on stderr, exit 2', () => {
  function expectOneLineError(result: ReturnType<typeof compare>, pattern: RegExp) {
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
  }

  it('usage errors', () => {
    expectOneLineError(compare([modelPath('person_detect.tflite'), '--rounding', 'triple']), /--rounding is double or single, not triple/);
    expectOneLineError(
      compare([modelPath('split_concat.tflite'), '--input', join(GOLDEN, 'inputs/split_concat.tflite.in0.bin')]),
      /^tflite-int8 compare: model has 3 input\(s\); --input gave 1 file\(s\)\n$/,
    );
  });

  it('a model that cannot be read', () => {
    expectOneLineError(
      compare([modelPath('model_invoking_error.tflite')]),
      /^tflite-int8 compare: ModelFormatError: subgraph 0 tensor 0: buffer 0 out of range/,
    );
    expectOneLineError(compare([join(tmpdir(), 'no-such-model.tflite')]), /^tflite-int8 compare: I\/O error: ENOENT/);
  });

  it('without the reference runtimes installed, says how to install them', () => {
    expectOneLineError(
      compare([modelPath('person_detect.tflite')], bareInstall()),
      /^tflite-int8 compare: TfliteRuntimeError: @litertjs\/core is not installed; the TFLite reference runtimes need: npm install --save-dev @litertjs\/core@2\.5\.3 @tensorflow\/tfjs-tflite@0\.0\.1-alpha\.10 flatbuffers@25\.9\.23\n$/,
    );
  });
});
