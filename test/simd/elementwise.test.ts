// SIMD MUL rows (ops/wasm/elementwise.ts) against the reference MUL, byte for byte: squeeze-excite broadcasts
// ([1,H,W,C] × [1,1,1,C]), a scalar on either side, same shapes; rows off the 16-element step; zero points and
// multipliers at their extremes, every clamp; an operand that is a constant (outside the SIMD memory). ADD and SUB
// likewise. Byte lookups (HARD_SWISH, LOGISTIC) over every byte value.
import { describe, expect, it } from 'vitest';
import { Add } from '../../ops/add.js';
import { broadcastShape } from '../../ops/broadcast.js';
import { HardSwish } from '../../ops/hard-swish.js';
import { Logistic } from '../../ops/logistic.js';
import { Mul } from '../../ops/mul.js';
import { Sub } from '../../ops/sub.js';
import { FusedActivation } from '../../src/quant.js';
import { elementCount } from '../../src/tensor.js';
import { makeTensor, runKernel, runKernelSimd } from '../helpers/op-harness.js';
import { random } from '../helpers/random.js';

const SHAPES: [number[], number[]][] = [
  [[1, 7, 9, 37], [1, 1, 1, 37]],
  [[1, 1, 1, 40], [1, 5, 3, 40]],
  [[1, 4, 4, 16], [1, 4, 4, 16]],
  [[2, 3, 50], []],
  [[], [3, 33]],
  [[1, 2, 2, 15], [1, 2, 2, 15]],
];

type BinaryKernel = typeof Add | typeof Mul;

/**
 * Six seeded trials of `kernel` on the SIMD and the reference tier, bytes compared. `outputScale` picks the output
 * scale from the inputs' (MUL's multipliers may exceed 1; ADD's and SUB's must stay below it, as TFLM requires).
 */
function compareBinary(
  kernel: BinaryKernel,
  dtype: 'int8' | 'uint8',
  [shapeA, shapeB]: [number[], number[]],
  seed: number,
  outputScale: (scaleA: number, scaleB: number, next: () => number) => number,
  activations: readonly number[],
): void {
  const { next, int, pick } = random(seed);
  const [lo, hi] = dtype === 'int8' ? [-128, 127] : [0, 255];
  const shapeOut = broadcastShape(shapeA, shapeB)!;
  const zero = () => pick([lo, hi, int(lo, hi)]);
  const fill = (shape: number[]) => Array.from({ length: elementCount(shape) }, () => pick([lo, hi, int(lo, hi)]));
  for (let trial = 0; trial < 6; trial++) {
    const quantA = { scale: 2 ** (next() * 10 - 10), zeroPoint: zero() };
    const quantB = { scale: 2 ** (next() * 10 - 10), zeroPoint: zero() };
    const quantOut = { scale: outputScale(quantA.scale, quantB.scale, next), zeroPoint: zero() };
    const activation = pick(activations);
    const valuesA = fill(shapeA);
    const valuesB = fill(shapeB);
    // Some trials take b as a constant, which stays in the model's memory, outside the SIMD memory.
    const constantB = trial % 3 === 2;
    const run = (simd: boolean) => {
      const a = makeTensor(dtype, shapeA, valuesA, quantA, false);
      const b = makeTensor(dtype, shapeB, valuesB, quantB, constantB);
      const y = makeTensor(dtype, shapeOut, undefined, quantOut);
      (simd ? runKernelSimd : runKernel)(kernel as typeof Add, { activation }, [a, b], [y], { kernels: simd ? 'fast' : 'reference' });
      return Array.from(y.bytes);
    };
    expect(run(true)).toEqual(run(false));
  }
}

const ACTIVATIONS = [FusedActivation.NONE, FusedActivation.RELU, FusedActivation.RELU6] as const;

describe('SIMD MUL gives the reference bytes', () => {
  for (const dtype of ['int8', 'uint8'] as const) {
    SHAPES.forEach((shapes, s) => {
      it(`${dtype} [${shapes[0]}] × [${shapes[1]}]`, () =>
        // Multipliers from far below 1 to far above (left shifts).
        compareBinary(Mul, dtype, shapes, 100 * s + (dtype === 'int8' ? 1 : 2), (_a, _b, next) => 2 ** (next() * 24 - 20), [
          ...ACTIVATIONS, FusedActivation.RELU_N1_TO_1,
        ]));
    });
  }
});

describe('SIMD byte lookups give the reference bytes', () => {
  // HARD_SWISH and LOGISTIC look their outputs up per raw byte; lengths off the 16-byte step, every byte value.
  for (const [name, kernel] of [['HARD_SWISH', HardSwish], ['LOGISTIC', Logistic]] as const) {
    for (const dtype of ['int8', 'uint8'] as const) {
      it(`${name} ${dtype}`, () => {
        const { next, int } = random(dtype === 'int8' ? 7 : 8);
        for (const length of [1, 15, 16, 17, 256 + 9, 1000]) {
          const values = Array.from({ length }, (_, i) => (i < 256 ? i : int(0, 255)) + (dtype === 'int8' ? -128 : 0));
          const quantIn = { scale: 2 ** (next() * 6 - 6), zeroPoint: int(-20, 20) + (dtype === 'int8' ? 0 : 128) };
          const quantOut =
            name === 'LOGISTIC' ? { scale: 1 / 256, zeroPoint: dtype === 'int8' ? -128 : 0 } : { scale: 2 ** (next() * 6 - 6), zeroPoint: int(-20, 20) + (dtype === 'int8' ? 0 : 128) };
          const run = (simd: boolean) => {
            const x = makeTensor(dtype, [length], values, quantIn, false);
            const y = makeTensor(dtype, [length], undefined, quantOut);
            (simd ? runKernelSimd : runKernel)(kernel as typeof HardSwish, undefined, [x], [y], { kernels: simd ? 'fast' : 'reference' });
            return Array.from(y.bytes);
          };
          expect(run(true)).toEqual(run(false));
        }
      });
    }
  }
});

describe('SIMD ADD and SUB give the reference bytes', () => {
  for (const [name, kernel] of [['ADD', Add], ['SUB', Sub]] as const) {
    for (const dtype of ['int8', 'uint8'] as const) {
      SHAPES.forEach((shapes, s) => {
        it(`${name} ${dtype} [${shapes[0]}] ${name === 'ADD' ? '+' : '-'} [${shapes[1]}]`, () =>
          compareBinary(
            kernel, dtype, shapes, 1000 * s + (dtype === 'int8' ? 11 : 12) + (name === 'SUB' ? 5 : 0),
            (scaleA, scaleB, next) => Math.max(scaleA, scaleB) * 2 ** (next() * 8 - 6),
            ACTIVATIONS,
          ));
      });
    }
  }
});
