// Bad input never crashes, hangs or allocates without bound: it ends in a typed error, or (when the damage
// only touched weights) in a normal run.
import { describe, expect, it } from 'vitest';
import { allOps } from '../src/all-ops.js';
import { InputError, TfliteInt8Error, UnsupportedFeatureError, UnsupportedOpError } from '../src/errors.js';
import { Interpreter } from '../src/interpreter.js';
import { writeModel } from '../reference/model-writer.js';
import { garble } from './helpers/garble.js';
import { readModelBytes } from './helpers/shared.js';

describe('garbled models', () => {
  it('person_detect with random bytes replaced: a typed error or a clean run, never anything else', () => {
    const bytes = readModelBytes('person_detect.tflite');
    let rejected = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const damaged = garble(bytes, seed, 64);
      try {
        const interpreter = new Interpreter(damaged, { resolver: allOps() });
        interpreter.invoke();
      } catch (e) {
        expect(e, `seed ${seed}: ${String(e)}`).toBeInstanceOf(TfliteInt8Error);
        expect((e as Error).message).not.toMatch(/\n/);
        rejected++;
      }
    }
    // Most damage lands in weights (harmless); the structural hits must all have been typed errors.
    expect(rejected).toBeGreaterThan(0);
  });
});

describe('wrong use', () => {
  const model = () => new Interpreter(readModelBytes('person_detect.tflite'), { resolver: allOps() });

  it('an input of the wrong size or type', () => {
    const interpreter = model();
    expect(() => interpreter.setInputBytes(0, new Uint8Array(100))).toThrow(
      new InputError('input 0 (input) is int8[1,96,96,1]: needs 9216 bytes, got 100'),
    );
    expect(() => interpreter.setInput(0, new Uint8Array(9216))).toThrow(
      new InputError('input 0 (input) is int8[1,96,96,1]; got a Uint8Array'),
    );
    expect(() => interpreter.input(1)).toThrow(new InputError('model has 1 inputs; there is no input 1'));
  });

  it('a model with ops the resolver lacks names every one with its node', () => {
    const bytes = writeModel({
      tensors: [
        { dtype: 'float32', shape: [2] },
        { dtype: 'float32', shape: [2] },
        { dtype: 'float32', shape: [2] },
      ],
      operators: [
        { op: 'fake-op-double', inputs: [0], outputs: [1] },
        { op: 28, inputs: [1], outputs: [2] }, // TANH
      ],
      inputs: [0],
      outputs: [2],
    });
    expect(() => new Interpreter(bytes, { resolver: allOps() })).toThrow(
      new UnsupportedOpError([
        { node: 0, op: 'fake-op-double' },
        { node: 1, op: 'TANH' },
      ]),
    );
    expect(() => new Interpreter(bytes, { resolver: allOps() })).toThrow(
      'model uses 2 operator(s) this resolver does not provide: fake-op-double (node 0), TANH (node 1)',
    );
  });

  it('a model with a variable tensor (stateful ops) is refused, not run on unplanned memory', () => {
    const q = { scale: [0.5], zeroPoint: [3] };
    const bytes = writeModel({
      tensors: [
        { dtype: 'int8', shape: [1, 4], quantization: q },
        { dtype: 'int8', shape: [1, 4], quantization: q, isVariable: true },
        { dtype: 'int8', shape: [1, 4], quantization: q },
      ],
      operators: [{ op: 0, inputs: [0, 1], outputs: [2] }], // ADD(x, variable)
      inputs: [0],
      outputs: [2],
    });
    expect(() => new Interpreter(bytes, { resolver: allOps() })).toThrow(
      new UnsupportedFeatureError('subgraph 0 tensor 1 (t1) is a variable tensor; stateful models are not supported'),
    );
  });
});
