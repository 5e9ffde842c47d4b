// Paths into ../shared (read-only models, images and goldens beside the repo), and golden loading.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = resolve(REPO_ROOT, '../shared');
export const MODELS = join(SHARED, 'models');
export const GOLDEN = join(SHARED, 'golden');

export function modelPath(name: string): string {
  return join(MODELS, name);
}

export function readModelBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(modelPath(name)));
}

/** Models with a golden from `runtime` ('tflm' or 'tflite'). */
export function goldenModels(runtime: 'tflm' | 'tflite'): string[] {
  return readdirSync(join(GOLDEN, runtime)).sort();
}

export function goldenInputs(model: string): Uint8Array[] {
  const inputs: Uint8Array[] = [];
  for (let k = 0; existsSync(join(GOLDEN, 'inputs', `${model}.in${k}.bin`)); k++) {
    inputs.push(new Uint8Array(readFileSync(join(GOLDEN, 'inputs', `${model}.in${k}.bin`))));
  }
  return inputs;
}

export function goldenOutputs(runtime: 'tflm' | 'tflite', model: string): Uint8Array[] {
  const outputs: Uint8Array[] = [];
  for (let k = 0; existsSync(join(GOLDEN, runtime, model, `out${k}.bin`)); k++) {
    outputs.push(new Uint8Array(readFileSync(join(GOLDEN, runtime, model, `out${k}.bin`))));
  }
  return outputs;
}

/** TFLM's preserved tensors for a model, by tensor index; empty when the golden has none. */
export function goldenTensors(model: string): Map<number, Uint8Array> {
  const dir = join(GOLDEN, 'tflm', model, 'tensors');
  const tensors = new Map<number, Uint8Array>();
  if (!existsSync(dir)) return tensors;
  for (const f of readdirSync(dir)) {
    const m = /^t(\d+)\.bin$/.exec(f);
    if (m) tensors.set(Number(m[1]), new Uint8Array(readFileSync(join(dir, f))));
  }
  return tensors;
}

/** Count of differing bytes/elements and the largest difference, for readable failure messages. */
export function diffSummary(ours: Uint8Array, golden: Uint8Array, signed: boolean): string {
  if (ours.length !== golden.length) return `length ${ours.length} vs ${golden.length}`;
  let count = 0;
  let max = 0;
  let first = -1;
  for (let i = 0; i < ours.length; i++) {
    const a = signed ? (ours[i] << 24) >> 24 : ours[i];
    const b = signed ? (golden[i] << 24) >> 24 : golden[i];
    if (a !== b) {
      if (first < 0) first = i;
      count++;
      max = Math.max(max, Math.abs(a - b));
    }
  }
  return count === 0 ? 'identical' : `${count} of ${ours.length} differ (max ${max}, first at ${first})`;
}
