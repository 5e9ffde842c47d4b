// Every fast path against the reference kernels on the whole kernel suite (reference/kernel-cases.ts): each
// seeded single-op case runs on the three kernel tiers — 'reference' (the readable kernels), 'js' (ops/fast/) and
// 'simd' (ops/wasm/) — under TFLite's rounding for the case and under TFLM's double rounding (the SIMD tier's
// only rounding), and every output byte must agree. No TFLite here: kernel-suite.test.ts holds the reference
// tier to TFLite, this file holds the fast tiers to the reference tier.
//
// KERNEL_TIER_CASES sets the number of cases per kernel (default 24).
import { describe, expect, it } from 'vitest';
import { KERNEL_GENERATORS, kernelCase, type KernelCase } from '../reference/kernel-cases.js';
import { writeModel } from '../reference/model-writer.js';
import { allOps } from '../src/all-ops.js';
import { Interpreter, KERNEL_CHOICES, type KernelChoice } from '../src/interpreter.js';
import type { Rounding } from '../src/quant.js';

const PER_OP = Number(process.env.KERNEL_TIER_CASES ?? 24);

function outputsOf(k: KernelCase, kernels: KernelChoice, rounding: Rounding): string {
  const interpreter = new Interpreter(writeModel(k.model), { resolver: allOps(), rounding, kernels });
  k.inputs.forEach((bytes, i) => interpreter.setInputBytes(i, bytes));
  interpreter.invoke();
  return interpreter.outputs.map((t) => Buffer.from(t.bytes).toString('hex')).join(' ');
}

describe('fast kernel tiers give the reference tier\'s bytes on the kernel suite', () => {
  for (const op of Object.keys(KERNEL_GENERATORS)) {
    it(`${op}: ${PER_OP} random cases × 2 roundings`, () => {
      const failures: string[] = [];
      let compared = 0;
      for (let seed = 1; seed <= PER_OP; seed++) {
        const k = kernelCase(op, seed);
        for (const rounding of new Set([k.rounding, 'double'] as const)) {
          let reference: string;
          try {
            reference = outputsOf(k, 'reference', rounding);
          } catch {
            continue; // a case the kernels refuse (the suite has some on purpose); every tier refuses it alike below
          }
          compared++;
          for (const kernels of KERNEL_CHOICES.filter((c) => c !== 'reference')) {
            const where = `${op} seed ${seed} (${k.description}), rounding ${rounding}, ${kernels} tier`;
            try {
              if (outputsOf(k, kernels, rounding) !== reference) failures.push(`${where}: bytes differ`);
            } catch (e) {
              failures.push(`${where}: ${(e as Error).message}`);
            }
          }
        }
      }
      expect(failures).toEqual([]);
      // Most cases are valid models: the comparison is not vacuous.
      expect(compared).toBeGreaterThanOrEqual(PER_OP);
    });
  }
});
