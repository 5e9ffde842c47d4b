// The command line as a user runs it: the built bin, real files, exit codes, one-line errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { garble } from './helpers/garble.js';
import { GOLDEN, modelPath, readModelBytes } from './helpers/shared.js';
import { cli, type CliResult } from './helpers/cli.js';

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tflite-int8-cli-'));
});

describe('tflite-int8 info', () => {
  it('describes person_detect', () => {
    const { status, stdout, stderr } = cli('info', modelPath('person_detect.tflite'));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toContain('0  t88 int8[1,96,96,1]  scale 0.007843137718737125 zero_point -1  "input"');
    expect(stdout).toContain('0  t87 int8[1,2]  scale 0.00390625 zero_point -128  "MobilenetV1/Predictions/Reshape_1"');
    expect(stdout).toMatch(/\n {4}14 {2}CONV_2D\n {4}14 {2}DEPTHWISE_CONV_2D\n {5}1 {2}AVERAGE_POOL_2D\n/);
    // TFLM's tensors.json for this model lists 57 const tensors totalling 218,928 bytes.
    expect(stdout).toContain('weights: 218,928 bytes in 57 constant tensors');
    expect(stdout).toContain('unsupported: none');
  });

  it('--json gives the summary', () => {
    const { status, stdout } = cli('info', modelPath('hello_world_int8.tflite'), '--json');
    expect(status).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary.inputs[0]).toMatchObject({ dtype: 'int8', shape: [1, 1], shapeSignature: [-1, 1] });
    expect(summary.opCounts).toEqual([{ op: 'FULLY_CONNECTED', count: 3 }]);
    expect(summary.unsupported).toEqual([]);
  });
});

describe('tflite-int8 run', () => {
  it('writes outputs identical to TFLM and meta.json', () => {
    const out = join(tmp, 'person');
    const { status, stderr } = cli(
      'run', modelPath('person_detect.tflite'),
      '--input', join(GOLDEN, 'inputs/person_detect.tflite.in0.bin'),
      '--out', out,
    );
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(readFileSync(join(out, 'out0.bin'))).toEqual(readFileSync(join(GOLDEN, 'tflm/person_detect.tflite/out0.bin')));
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.outputs[0]).toMatchObject({ tensorIndex: 87, dtype: 'int8', shape: [1, 2], scale: [0.00390625], zeroPoint: [-128] });
  });

  it('--dump-tensors writes every tensor as TFLM preserves it', () => {
    const out = join(tmp, 'person-tensors');
    const { status } = cli(
      'run', modelPath('person_detect.tflite'),
      '--input', join(GOLDEN, 'inputs/person_detect.tflite.in0.bin'),
      '--out', out, '--dump-tensors',
    );
    expect(status).toBe(0);
    for (const t of [0, 34, 54, 27, 31, 88]) {
      expect(readFileSync(join(out, `tensors/t${t}.bin`)), `t${t}`).toEqual(
        readFileSync(join(GOLDEN, `tflm/person_detect.tflite/tensors/t${t}.bin`)),
      );
    }
  });

  it('takes several inputs after one --input', () => {
    const out = join(tmp, 'split');
    const inputs = [0, 1, 2].map((k) => join(GOLDEN, `inputs/split_concat.tflite.in${k}.bin`));
    const { status } = cli('run', modelPath('split_concat.tflite'), '--input', ...inputs, '--out', out);
    expect(status).toBe(0);
    for (let k = 0; k < 5; k++) {
      expect(readFileSync(join(out, `out${k}.bin`))).toEqual(readFileSync(join(GOLDEN, `tflite/split_concat.tflite/out${k}.bin`)));
    }
  });
});

describe('errors: one line on stderr, non-zero exit, no stack trace', () => {
  function expectOneLineError(result: CliResult, pattern: RegExp) {
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  }

  it('model_invoking_error.tflite, for info and run', () => {
    const expected = /^tflite-int8 (info|run): ModelFormatError: subgraph 0 tensor 0: buffer 0 out of range \(model has 0 buffers\)\n$/;
    expectOneLineError(cli('info', modelPath('model_invoking_error.tflite')), expected);
    expectOneLineError(cli('run', modelPath('model_invoking_error.tflite'), '--input', 'x', '--out', join(tmp, 'x')), expected);
  });

  it('a truncated model', () => {
    const path = join(tmp, 'truncated.tflite');
    const bytes = readModelBytes('person_detect.tflite');
    writeFileSync(path, bytes.subarray(0, bytes.length >> 1));
    expectOneLineError(cli('info', path), /ModelFormatError: .*outside the 150284-byte file/);
    expectOneLineError(
      cli('run', path, '--input', join(GOLDEN, 'inputs/person_detect.tflite.in0.bin'), '--out', join(tmp, 'y')),
      /ModelFormatError/,
    );
  });

  it('garbled models that the reader rejects', () => {
    const bytes = readModelBytes('person_detect.tflite');
    let rejected = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const path = join(tmp, `garbled-${seed}.tflite`);
      writeFileSync(path, garble(bytes, seed, 64));
      const result = cli('run', path, '--input', join(GOLDEN, 'inputs/person_detect.tflite.in0.bin'), '--out', join(tmp, `g${seed}`));
      if (result.status === 0) continue;
      expectOneLineError(result, /^tflite-int8 run: (ModelFormatError|NodeError|UnsupportedOpError|ArenaError): /);
      rejected++;
    }
    expect(rejected).toBeGreaterThan(0);
  });

  it('an input file of the wrong size', () => {
    const path = join(tmp, 'short.bin');
    writeFileSync(path, new Uint8Array(10));
    expectOneLineError(
      cli('run', modelPath('person_detect.tflite'), '--input', path, '--out', join(tmp, 'z')),
      /^tflite-int8 run: InputError: input 0 \(input\) is int8\[1,96,96,1\]: needs 9216 bytes, got 10\n$/,
    );
  });

  it('a missing file', () => {
    expectOneLineError(cli('info', join(tmp, 'nope.tflite')), /^tflite-int8 info: I\/O error: ENOENT/);
  });

  it('usage errors exit 2', () => {
    const result = cli('run', modelPath('person_detect.tflite'), '--rounding', 'triple', '--out', tmp);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('tflite-int8 run: --rounding is double or single, not triple\n');
  });
});
