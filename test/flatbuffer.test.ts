// What the reader hands out without copying or allocating per element: shared frozen zero points, scales viewed
// in the file, one moving Table for vectors of tables; and that a misaligned copy of a file, which takes the
// copying paths instead, reads the same values.
import { describe, expect, it } from 'vitest';
import { FlatBuffer, zeros } from '../schema/flatbuffer.js';
import { writeModel } from '../reference/model-writer.js';
import { ModelFormatError } from '../src/errors.js';
import { readModel, type Model } from '../src/model.js';
import { readModelBytes } from './helpers/shared.js';

/** `bytes` at an odd offset of a larger buffer: no typed view of its words is possible. */
function misaligned(bytes: Uint8Array): Uint8Array {
  const copy = new Uint8Array(bytes.length + 1);
  copy.set(bytes, 1);
  return copy.subarray(1);
}

/** The tensors' values, scales as plain arrays (constant data is a subarray on either path: its length will do). */
const tensorValues = (model: Model) =>
  model.subgraphs[0].tensors.map((t) => ({
    ...t,
    data: t.data?.length,
    quantization: t.quantization && { ...t.quantization, scale: Array.from(t.quantization.scale) },
  }));

describe('zeros', () => {
  it('is one frozen array of zeros a length', () => {
    const z = zeros(7);
    expect(z).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(zeros(7)).toBe(z);
    expect(Object.isFrozen(z)).toBe(true);
    expect(() => {
      z[0] = 1;
    }).toThrow(TypeError);
  });

  it('makes a new array each time past the bound on what it keeps', () => {
    const big = zeros(100_000);
    expect(big.length).toBe(100_000);
    expect(big.every((v) => v === 0)).toBe(true);
    expect(Object.isFrozen(big)).toBe(true);
    expect(zeros(100_000)).not.toBe(big);
  });
});

describe('readModel without copies', () => {
  it('gives all-zero zero points as the shared zeros, others as their own arrays', () => {
    const g = readModel(readModelBytes('tf2_mobilenet_v2_1.0_224_ptq.tflite')).subgraphs[0];
    const perChannel = g.tensors.filter((t) => (t.quantization?.scale.length ?? 0) > 1);
    expect(perChannel.length).toBeGreaterThan(50);
    for (const t of perChannel) expect(t.quantization!.zeroPoint).toBe(zeros(t.quantization!.scale.length));
    const person = readModel(readModelBytes('person_detect.tflite')).subgraphs[0];
    expect(person.tensors[88].quantization?.zeroPoint).toEqual([-1]);
    expect(Object.isFrozen(person.tensors[88].quantization?.zeroPoint)).toBe(false);
  });

  it('a single zero point of many scales stands for all of them', () => {
    const q = (zeroPoint: number[]) => ({ scale: [0.5, 0.25, 1], zeroPoint, quantizedDimension: 0 });
    const spec = (zeroPoint: number[]) => ({
      tensors: [
        { dtype: 'int8' as const, shape: [3], quantization: q(zeroPoint) },
        { dtype: 'int8' as const, shape: [3], quantization: q(zeroPoint) },
      ],
      operators: [{ op: 19, inputs: [0], outputs: [1] }],
      inputs: [0],
      outputs: [1],
    });
    expect(readModel(writeModel(spec([0]))).subgraphs[0].tensors[0].quantization?.zeroPoint).toBe(zeros(3));
    expect(readModel(writeModel(spec([4]))).subgraphs[0].tensors[0].quantization?.zeroPoint).toEqual([4, 4, 4]);
  });

  it('views scales in the file when aligned, and reads a misaligned copy to the same values', () => {
    for (const name of ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 'person_detect.tflite', 'micro_speech_quantized.tflite']) {
      const bytes = readModelBytes(name);
      const aligned = readModel(bytes);
      const scales = aligned.subgraphs[0].tensors.flatMap((t) => (t.quantization ? [t.quantization.scale] : []));
      expect(scales.length).toBeGreaterThan(0);
      for (const scale of scales) expect(scale.buffer).toBe(aligned.bytes.buffer);
      const shifted = readModel(misaligned(bytes));
      const quantized = shifted.subgraphs[0].tensors.find((t) => t.quantization)!;
      expect(quantized.quantization!.scale.buffer).not.toBe(shifted.bytes.buffer);
      expect(tensorValues(shifted)).toEqual(tensorValues(aligned));
      expect(shifted.subgraphs[0].operators.map((op) => op.inputs)).toEqual(aligned.subgraphs[0].operators.map((op) => op.inputs));
    }
  });
});

describe('Table.mapTables', () => {
  const bytes = readModelBytes('person_detect.tflite');
  const subgraph = () => new FlatBuffer(bytes).root('model').tables(2, 'subgraphs', (i) => `subgraph ${i}`)[0];

  it('reads what tables() reads, element by element', () => {
    const g = subgraph();
    const names = (i: number) => `tensor ${i}`;
    expect(g.mapTables(0, 'tensors', names, (t) => [t.pos, t.where, t.string(3, 'name')])).toEqual(
      g.tables(0, 'tensors', names).map((t) => [t.pos, t.where, t.string(3, 'name')]),
    );
  });

  it('checks every element before reading any, as tables() does', () => {
    // Point the last tensor's vtable outside the file: reading stops there before reading tensor 0.
    const damaged = bytes.slice();
    const tensors = new FlatBuffer(damaged)
      .root('model')
      .tables(2, 'subgraphs', (i) => `subgraph ${i}`)[0]
      .tables(0, 'tensors', (i) => `tensor ${i}`);
    const last = tensors[tensors.length - 1];
    new DataView(damaged.buffer).setInt32(last.pos, -damaged.length, true);
    const read: number[] = [];
    const g = new FlatBuffer(damaged).root('model').tables(2, 'subgraphs', (i) => `subgraph ${i}`)[0];
    expect(() => g.mapTables(0, 'tensors', (i) => `tensor ${i}`, (_, i) => read.push(i))).toThrow(
      new ModelFormatError(
        `tensor ${tensors.length - 1} (vtable): reads 4 byte(s) at offset ${last.pos + damaged.length}, outside the ${damaged.length}-byte file`,
      ),
    );
    expect(read).toEqual([]);
  });
});
