// invoke() allocates no buffers: every typed array a kernel needs is made in prepare. Checked by counting
// constructions of the typed-array classes (looked up on globalThis at each `new`) during invoke, on every kernel
// tier; on the SIMD tier also that the WebAssembly memory neither grows nor is replaced (the arena's buffer is the
// same object, its length unchanged).
import { afterEach, expect, it } from 'vitest';
import { allOps } from '../src/all-ops.js';
import { Interpreter, KERNEL_CHOICES } from '../src/interpreter.js';
import { goldenInputs, readModelBytes } from './helpers/shared.js';

const NAMES = ['Int8Array', 'Uint8Array', 'Int16Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'ArrayBuffer'] as const;
const originals = new Map(NAMES.map((n) => [n, globalThis[n]]));

afterEach(() => {
  for (const [name, ctor] of originals) (globalThis as Record<string, unknown>)[name] = ctor;
});

function countConstructions(fn: () => void): number {
  let count = 0;
  for (const [name, ctor] of originals) {
    (globalThis as Record<string, unknown>)[name] = new Proxy(ctor, {
      construct(target, args) {
        count++;
        return Reflect.construct(target, args);
      },
    });
  }
  try {
    fn();
  } finally {
    for (const [name, ctor] of originals) (globalThis as Record<string, unknown>)[name] = ctor;
  }
  return count;
}

// Together these use every kernel the shared models need, int8, uint8 and float32 paths.
const models = [
  'person_detect.tflite',
  'mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite',
  'v3-small_224_1.0_uint8.tflite',
  'mobilenet_v2_quantized_1x3x224x224.tflite',
  'tf2_mobilenet_v2_1.0_224_ptq.tflite',
  'split_concat.tflite',
  'micro_speech_quantized.tflite',
];

const cases = models.flatMap((model) => KERNEL_CHOICES.map((kernels) => [model, kernels] as const));

it.each(cases)('%s, %s kernels: invoke constructs no typed arrays or buffers', (model, kernels) => {
  const interpreter = new Interpreter(readModelBytes(model), { resolver: allOps(), kernels });
  goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
  const buffer = interpreter.arena.buffer;
  const bufferBytes = buffer.byteLength;
  expect(countConstructions(() => interpreter.invoke())).toBe(0);
  expect(interpreter.arena.buffer).toBe(buffer);
  expect(buffer.byteLength).toBe(bufferBytes);
  expect(buffer.byteLength).toBeGreaterThan(0);
  // The counter itself works: a construction during the counted call is seen.
  expect(countConstructions(() => new Int32Array(4))).toBe(1);
});
