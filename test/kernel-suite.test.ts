// Every kernel against TFLite's built-in kernel: seeded random single-op models (reference/kernel-cases.ts) run by
// the real TFLite (reference/tflite-runner.ts: LiteRT.js from npm, delegates off) and by us, under the rounding
// TFLite's kernel uses; the output bytes must be identical. One runtime is loaded for the whole file and each
// case costs about a millisecond on each side.
//
// KERNEL_SUITE_CASES sets the number of cases, spread evenly over the kernels (default 352, 16 per kernel):
//   KERNEL_SUITE_CASES=5000 npx vitest run test/kernel-suite.test.ts
// A failure names the seed, so `kernelCase(op, seed)` rebuilds that case alone.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  flipTopBits,
  INT8_AS_UINT8_GENERATORS,
  int8AsUint8,
  KERNEL_GENERATORS,
  kernelCase,
  type KernelCase,
} from '../reference/kernel-cases.js';
import { diffBytes } from '../reference/compare.js';
import { writeModel } from '../reference/model-writer.js';
import { TfliteRunner } from '../reference/tflite-runner.js';
import { allOps } from '../src/all-ops.js';
import { Interpreter } from '../src/interpreter.js';

const OPS = Object.keys(KERNEL_GENERATORS);
const TOTAL_CASES = Number(process.env.KERNEL_SUITE_CASES ?? 16 * OPS.length);
const PER_OP = Math.ceil(TOTAL_CASES / OPS.length);

let runner: TfliteRunner;
beforeAll(async () => {
  runner = await TfliteRunner.load();
});

function runOurs(k: KernelCase): { dtype: string; shape: readonly number[]; bytes: Uint8Array }[] {
  const interpreter = new Interpreter(writeModel(k.model), { resolver: allOps(), rounding: k.rounding });
  k.inputs.forEach((bytes, i) => interpreter.setInputBytes(i, bytes));
  interpreter.invoke();
  return interpreter.outputs.map((t) => ({ dtype: t.dtype, shape: t.shape, bytes: t.bytes.slice() }));
}

/**
 * Runs `k` in TFLite and, as `ours`, in our interpreter; null when every output's bytes agree (after `adjust`),
 * else one line with the seed, the case, the first differing element and both values.
 */
async function mismatch(k: KernelCase, ours: KernelCase = k, adjust = (bytes: Uint8Array) => bytes): Promise<string | null> {
  const where = `${k.op} seed ${k.seed} (${k.description}, rounding ${ours.rounding})`;
  let tflite: Uint8Array[];
  try {
    tflite = (await runner.run(writeModel(k.model), k.inputs)).tensors;
  } catch (e) {
    return `${where}: TFLite failed: ${(e as Error).message}`;
  }
  let outputs;
  try {
    outputs = runOurs(ours);
  } catch (e) {
    return `${where}: ours failed: ${(e as Error).message}`;
  }
  for (let o = 0; o < outputs.length; o++) {
    const tensor = k.model.tensors[k.model.outputs[o]];
    const d = diffBytes({ tensor: o, name: '', dtype: tensor.dtype, shape: tensor.shape }, adjust(outputs[o].bytes), tflite[o]);
    if (d.differing > 0) {
      const [first] = d.samples;
      return `${where}: output ${o} differs in ${d.differing} of ${d.elements}, first at [${first.index}]: ours ${first.ours}, TFLite ${first.tflite}`;
    }
  }
  return null;
}

describe('kernels against TFLite built-in kernels, byte for byte', () => {
  it(`runs ${PER_OP * OPS.length} cases over ${OPS.length} kernels`, () => {
    expect(OPS.length).toBeGreaterThanOrEqual(15);
    expect(PER_OP * OPS.length).toBeGreaterThanOrEqual(300);
  });

  for (const op of OPS) {
    it(`${op}: ${PER_OP} random cases`, async () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= PER_OP; seed++) {
        const failure = await mismatch(kernelCase(op, seed));
        if (failure) failures.push(failure);
      }
      expect(failures).toEqual([]);
    });
  }
});

describe("where TFLite's int8 kernel is its uint8 algorithm (we follow TFLM there)", () => {
  // TFLite's int8 output must equal our uint8 kernel (which the suite above holds to TFLite's) on the same case
  // shifted by 128: this is what TFLite computes, and why our int8 kernel, TFLM's, may differ from it.
  for (const op of Object.keys(INT8_AS_UINT8_GENERATORS)) {
    it(`${op}: ${PER_OP} random int8 cases`, async () => {
      const failures: string[] = [];
      for (let seed = 1; seed <= PER_OP; seed++) {
        const k = kernelCase(op, seed, INT8_AS_UINT8_GENERATORS);
        const failure = await mismatch(k, int8AsUint8(k), flipTopBits);
        if (failure) failures.push(failure);
      }
      expect(failures).toEqual([]);
    });
  }
});
