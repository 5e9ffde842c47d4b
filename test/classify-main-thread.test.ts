// ImageClassifier.create where WebAssembly may not be compiled synchronously (a browser's main thread refuses
// modules over 4 KB): it loads through Interpreter.create, which compiles the SIMD kernels asynchronously first.
// Its own file, so that no earlier load in the process has compiled them already.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { UnsupportedFeatureError } from '../src/errors.js';
import { ImageClassifier } from '../src/image/classifier.js';
import { allOps } from '../src/all-ops.js';
import { Interpreter } from '../src/interpreter.js';
import { readImage } from '../src/node/index.js';
import { readModelBytes, SHARED } from './helpers/shared.js';
import { join } from 'node:path';

const syncModule = WebAssembly.Module;

beforeEach(() => {
  (WebAssembly as { Module: unknown }).Module = function refuse(bytes: BufferSource) {
    if (bytes.byteLength > 4096) {
      throw new RangeError('WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB');
    }
    return new syncModule(bytes);
  };
});

afterEach(() => {
  (WebAssembly as { Module: unknown }).Module = syncModule;
});

it('ImageClassifier.create compiles the SIMD kernels asynchronously, where new Interpreter cannot', async () => {
  const model = readModelBytes('mobilenet_v1_0.25_128_quant.tflite');
  expect(() => new Interpreter(model, { resolver: allOps(), kernels: 'simd' })).toThrow(UnsupportedFeatureError);
  const classifier = await ImageClassifier.create(model);
  expect(classifier.interpreter.kernels).toBe('simd');
  const top1 = classifier.classify(readImage(join(SHARED, 'images/cat.bmp')), 1).predictions[0].label;
  expect(['Egyptian cat', 'tabby, tabby cat']).toContain(top1);
});
