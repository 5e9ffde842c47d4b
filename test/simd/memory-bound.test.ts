// The SIMD tier's memory is reserved once, at simdMemoryBound, and must never grow (growing detaches the buffer,
// which slows every typed-array access in the process): on every shared model that loads, with each planner and
// with every tensor preserved, the memory after loading and running is the reservation itself.
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allOps } from '../../src/all-ops.js';
import { Interpreter, simdMemoryBound, type InterpreterOptions } from '../../src/interpreter.js';
import { readModel, type Model } from '../../src/model.js';
import { MODELS, readModelBytes } from '../helpers/shared.js';

const PAGE = 65536;
const models = readdirSync(MODELS).filter((name) => name.endsWith('.tflite')).sort();

/** The model, or null for one the reader refuses (model_invoking_error.tflite). */
function tryReading(name: string): Model | null {
  try {
    return readModel(readModelBytes(name));
  } catch {
    return null;
  }
}

describe('SIMD memory reservation', () => {
  it('finds the shared models', () => expect(models.filter(tryReading).length).toBeGreaterThan(8));

  for (const name of models) {
    const model = tryReading(name);
    if (!model) continue;
    it(`${name}: the memory never grows past its reservation`, () => {
      const variants: Omit<InterpreterOptions, 'resolver'>[] = [{}, { planner: 'tflm' }, { preserveAllTensors: true }];
      for (const variant of variants) {
        const options: InterpreterOptions = { resolver: allOps(), kernels: 'simd', ...variant };
        const interpreter = new Interpreter(model, options);
        const reserved = Math.max(1, Math.ceil(simdMemoryBound(model.subgraphs[0], options) / PAGE)) * PAGE;
        interpreter.invoke();
        const memory = interpreter.arena.buffer;
        expect(memory.byteLength, `${name} ${JSON.stringify(variant)}`).toBe(reserved);
      }
    });
  }
});
