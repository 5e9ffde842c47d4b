// Interpreter.dispose and the SIMD memories it hands on (src/wasm/runtime.ts): a disposed interpreter refuses every
// call; its memory, zeroed, serves the next load, which must then give the goldens' bytes as a fresh one does.
import { describe, expect, it } from 'vitest';
import { allOps } from '../../src/all-ops.js';
import { ArenaError, InputError } from '../../src/errors.js';
import { Interpreter } from '../../src/interpreter.js';
import { freeSpareMemory, SimdMemory, spareMemoryBytes } from '../../src/wasm/runtime.js';
import { goldenInputs, goldenOutputs, readModelBytes } from '../helpers/shared.js';

const load = (model: string) => new Interpreter(readModelBytes(model), { resolver: allOps(), kernels: 'simd' });

function outputs(interpreter: Interpreter, model: string): string[] {
  goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
  interpreter.invoke();
  return interpreter.outputs.map((t) => Buffer.from(t.bytes).toString('hex'));
}

/** Takes every spare memory out (to hand back with release), so that the next load finds only what a test leaves. */
function takeSpares(): SimdMemory[] {
  const taken: SimdMemory[] = [];
  while (spareMemoryBytes() > 0) taken.push(new SimdMemory(1));
  return taken;
}

const golden = (runtime: 'tflm' | 'tflite', model: string) =>
  goldenOutputs(runtime, model).map((bytes) => Buffer.from(bytes).toString('hex'));

describe('Interpreter.dispose', () => {
  it('refuses every call afterwards, and may be called twice', () => {
    const interpreter = load('person_detect.tflite');
    interpreter.dispose();
    interpreter.dispose();
    const disposed = /this interpreter was disposed/;
    expect(() => interpreter.invoke()).toThrow(InputError);
    expect(() => interpreter.invoke()).toThrow(disposed);
    expect(() => interpreter.invokeProfiled(new Float64Array(interpreter.executionSteps.length))).toThrow(disposed);
    expect(() => interpreter.setInputBytes(0, new Uint8Array(96 * 96))).toThrow(disposed);
    expect(() => interpreter.input(0)).toThrow(disposed);
    expect(() => interpreter.output(0)).toThrow(disposed);
  });

  it("hands its memory to the next load, which matches the goldens though another model's data was there", () => {
    const v3 = 'v3-small_224_1.0_uint8.tflite';
    const person = 'person_detect.tflite';
    const others = takeSpares();
    const first = load(v3);
    expect(outputs(first, v3)).toEqual(golden('tflite', v3));
    const memory = first.arena.buffer;
    first.dispose();

    // person_detect needs less than v3-small's memory holds: it takes it.
    const second = load(person);
    expect(second.arena.buffer === memory).toBe(true);
    expect(outputs(second, person)).toEqual(golden('tflm', person));
    second.dispose();

    const third = load(v3);
    expect(third.arena.buffer === memory).toBe(true);
    expect(outputs(third, v3)).toEqual(golden('tflite', v3));
    third.dispose();
    for (const memory of others) memory.release();
  });

  it('leaves the memory all zero, as a fresh one is', () => {
    const interpreter = load('person_detect.tflite');
    outputs(interpreter, 'person_detect.tflite');
    const used = interpreter.arena.byteOffset + interpreter.arena.byteLength;
    expect(new Uint8Array(interpreter.arena.buffer, 0, used).some((b) => b !== 0)).toBe(true);
    interpreter.dispose();
    const next = new SimdMemory(used);
    expect(next.memory.buffer === interpreter.arena.buffer).toBe(true);
    expect(new Uint8Array(next.memory.buffer).every((b) => b === 0)).toBe(true);
    next.release();
  });

  it('keeps no more than 64 MiB of spare memory, dropping the oldest, and frees it all when asked', () => {
    const big = 24 * 2 ** 20;
    const memories = [0, 1, 2, 3].map(() => new SimdMemory(big));
    for (const memory of memories) memory.release();
    expect(spareMemoryBytes()).toBeLessThanOrEqual(64 * 2 ** 20);
    // The two released last are kept; the next load as large takes one of them.
    const taken = new SimdMemory(big);
    expect([2, 3]).toContain(memories.findIndex((m) => m.memory === taken.memory));
    taken.release();
    const held = spareMemoryBytes();
    expect(held).toBeGreaterThanOrEqual(2 * big);
    expect(freeSpareMemory()).toBe(held);
    expect(spareMemoryBytes()).toBe(0);
    expect(memories.some((m) => m.memory === new SimdMemory(big).memory)).toBe(false);
  });
});

describe('a failed load', () => {
  it('leaves its SIMD memory for the next load', () => {
    const others = takeSpares();
    expect(() =>
      new Interpreter(readModelBytes('person_detect.tflite'), { resolver: allOps(), kernels: 'simd', arenaBytes: 1000 }),
    ).toThrow(ArenaError);
    expect(spareMemoryBytes()).toBeGreaterThan(0);
    for (const memory of others) memory.release();
  });
});
