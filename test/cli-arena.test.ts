// `tflite-int8 arena` as a user runs it: the built bin on real models, text, JSON, SVG file, budget, errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN, modelPath, readModelBytes } from './helpers/shared.js';
import { findAll, parseXml } from './helpers/xml.js';
import { cli } from './helpers/cli.js';

const TFLM_ARENA: Record<string, { arena_used_bytes: number; head_nonpersistent: number }> = JSON.parse(
  readFileSync(join(GOLDEN, 'tflm-arena.json'), 'utf8'),
);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'tflite-int8-arena-'));
});

describe('tflite-int8 arena', () => {
  it('prints both planners, flash, the TFLM estimates and the peak operator with its tensors', () => {
    const { status, stdout, stderr } = cli('arena', modelPath('person_detect.tflite'));
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(stdout).toMatch(/TFLM greedy planner +55,296 +55,296 +op 2 CONV_2D/);
    expect(stdout).toContain(`flash: ${readModelBytes('person_detect.tflite').length.toLocaleString('en-US')} B .tflite file`);
    expect(stdout).toMatch(/64-bit host +85,024 B = 55,296 head \+ 29,728 tail/);
    expect(stdout).toContain('32-bit MCU');
    expect(stdout).toContain('peak of the TFLM plan: op 2 CONV_2D, 55,296 B live');
    expect(stdout).toMatch(/36,864 B {2}output +t54 int8\[1,48,48,16\] "MobilenetV1\/MobilenetV1\/Conv2d_1_pointwise\/Relu6"/);
    expect(stdout).toMatch(/18,432 B {2}input +t51 int8\[1,48,48,8\]/);
  });

  it('--json carries the figures, equal to TFLM where TFLM measured them', () => {
    for (const [name, golden] of Object.entries(TFLM_ARENA)) {
      const { status, stdout } = cli('arena', modelPath(name), '--json');
      expect(status).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.tflm.activationBytes, name).toBe(golden.head_nonpersistent);
      expect(report.estimate.tflmArena64, name).toBe(golden.arena_used_bytes);
      expect(report.optimized.savedBytes, name).toBe(golden.head_nonpersistent - report.optimized.activationBytes);
      expect(report.estimate.tflmArena32, name).toBe(golden.head_nonpersistent + report.estimate.tail32.bytes);
      expect(report.weightsBytes, name).toBeGreaterThan(0);
      expect(report.peak, name).toEqual({
        planner: 'tflm', time: report.tflm.peak.time, opIndex: report.tflm.peak.time - 1, opName: report.tflm.peak.opName, bytes: report.tflm.peak.bytes,
      });
    }
  });

  it('--json on hello_world: weights, peak and the hand-derived 32-bit arena', () => {
    const report = JSON.parse(cli('arena', modelPath('hello_world_int8.tflite'), '--json').stdout);
    // Three FULLY_CONNECTED layers 1→16→16→1: int8 weights 16 + 256 + 16, int32 biases 4·(16 + 16 + 1).
    expect(report.weightsBytes).toBe(16 + 256 + 16 + 4 * 33);
    expect(report.peak).toMatchObject({ opIndex: 0, opName: 'FULLY_CONNECTED', bytes: 32 });
    expect(report.estimate.tflmArena32).toBe(716); // derived allocation by allocation in arena-report.test.ts
    expect(report.budget).toBeUndefined();
  });

  it('--budget: fits with the margin, or over by how much, and the operator to attack', () => {
    const fits = cli('arena', modelPath('hello_world_int8.tflite'), '--budget', '1K');
    expect(fits.stdout).toContain('budget 1,024 B: fits, 308 B spare — TFLM arena on a 32-bit microcontroller (estimate), 716 B');
    expect(fits.stdout).toMatch(/over by 160 B +TFLM arena on a 64-bit host, 1,184 B/);
    const over = cli('arena', modelPath('person_detect.tflite'), '--budget', '60000', '--json');
    const budget = JSON.parse(over.stdout).budget;
    expect(budget).toMatchObject({ budgetBytes: 60000, fits: false, attack: { opIndex: 2, opName: 'CONV_2D', liveBytes: 55296 } });
    expect(budget.marginBytes).toBe(60000 - budget.needed);
    expect(budget.attack.advice).toContain('t54 [1,48,48,16] 36,864 B and t51 [1,48,48,8] 18,432 B');
  });

  it('--svg writes a well-formed picture with a rectangle per buffer', () => {
    const path = join(tmp, 'person.svg');
    const { status, stdout } = cli('arena', modelPath('person_detect.tflite'), '--svg', path, '--json');
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    const svg = parseXml(readFileSync(path, 'utf8'));
    const rects = findAll(svg, (e) => e.name === 'rect' && e.attributes.class === 'buffer');
    expect(rects).toHaveLength(report.tflm.buffers.length + report.optimized.buffers.length);
    expect(findAll(svg, (e) => e.name === 'text' && e.text === 'arena offset')).toHaveLength(2);
  });

  it('run --arena-bytes: the optimized activation bytes arena reports are enough, one byte less is not', () => {
    const report = JSON.parse(cli('arena', modelPath('person_detect.tflite'), '--json').stdout);
    const needed = report.optimized.activationBytes;
    const input = join(GOLDEN, 'inputs/person_detect.tflite.in0.bin');
    const out = join(tmp, 'run-exact');
    const exact = cli('run', modelPath('person_detect.tflite'), '--input', input, '--out', out, '--arena-bytes', String(needed));
    expect(exact.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')).arenaBytes).toBe(needed);
    expect(readFileSync(join(out, 'out0.bin'))).toEqual(readFileSync(join(GOLDEN, 'tflm/person_detect.tflite/out0.bin')));
    const short = cli('run', modelPath('person_detect.tflite'), '--input', input, '--out', join(tmp, 'run-short'), '--arena-bytes', String(needed - 1));
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(new RegExp(`^tflite-int8 run: ArenaError: arena of ${needed - 1} bytes is too small[^\\n]*\\n$`));
  });

  it('a bad model or budget: one line on stderr', () => {
    const bad = join(tmp, 'bad.tflite');
    writeFileSync(bad, readModelBytes('person_detect.tflite').subarray(0, 4000));
    const result = cli('arena', bad);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^tflite-int8 arena: ModelFormatError: [^\n]+\n$/);
    const budget = cli('arena', modelPath('person_detect.tflite'), '--budget', 'lots');
    expect(budget.status).toBe(2);
    expect(budget.stderr).toBe('tflite-int8 arena: --budget takes a byte count such as 262144, 256K or 2M, not "lots"\n');
  });
});
