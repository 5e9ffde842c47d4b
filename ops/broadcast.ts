// Broadcasting of two operands to one output, shared by ADD, SUB and MUL: shapes aligned at the right, each
// pair of dims equal or one of them 1 (TFLite's CalculateShapeForBroadcast). prepare fuses the output's dims
// into as few loops as possible, as TFLM's BroadcastBinaryOpSimple does (reference/broadcast_loop.h), so that
// eval runs one tight loop per output row and never builds a multi-dimensional index per element.
import { check, checkArity, input, output, type InputReuse, type Node } from '../src/op.js';
import type { Tensor } from '../src/tensor.js';

/** The shape two operand shapes broadcast to, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 1; i <= rank; i++) {
    const da = i <= a.length ? a[a.length - i] : 1;
    const db = i <= b.length ? b[b.length - i] : 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out[rank - i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * The output walked as `rows` rows of `rowLength` contiguous elements. Within a row operand a advances by
 * rowStepA (1, or 0 when broadcast) and b by rowStepB; between rows the outer loops, innermost first, advance
 * each operand by its stride (0 along dims it is broadcast in).
 */
export interface BroadcastPlan {
  readonly rows: number;
  readonly rowLength: number;
  readonly rowStepA: number;
  readonly rowStepB: number;
  readonly outerExtents: Int32Array;
  readonly outerStridesA: Int32Array;
  readonly outerStridesB: Int32Array;
  /** The outer loops' counters, reset on every walk. */
  readonly counters: Int32Array;
}

interface Loop {
  extent: number;
  strideA: number;
  strideB: number;
}

/** Two loops fuse into one when each operand either stays put in both or runs on contiguously. */
function continues(innerStride: number, stride: number, contiguousStride: number): boolean {
  return innerStride === 0 ? stride === 0 : stride === contiguousStride;
}

/** Plans the walk of `output`, checking that it has the shape `a` and `b` broadcast to. */
export function planBroadcast(a: Tensor, b: Tensor, output: Tensor): BroadcastPlan {
  const shape = broadcastShape(a.shape, b.shape);
  check(shape, () => `input shapes ${a.describe()} and ${b.describe()} do not broadcast`);
  check(
    shape.length === output.shape.length && shape.every((d, i) => d === output.shape[i]),
    () =>
      `inputs ${a.describe()} and ${b.describe()} broadcast to [${shape.join(',')}], output is ${output.describe()}`,
  );
  const loops: Loop[] = [];
  let contiguousA = 1;
  let contiguousB = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const extent = shape[i];
    const da = a.shape[i - shape.length + a.shape.length] ?? 1;
    const db = b.shape[i - shape.length + b.shape.length] ?? 1;
    if (extent !== 1) {
      const strideA = da === 1 ? 0 : contiguousA;
      const strideB = db === 1 ? 0 : contiguousB;
      const inner = loops[loops.length - 1];
      if (
        inner &&
        continues(inner.strideA, strideA, contiguousA) &&
        continues(inner.strideB, strideB, contiguousB)
      ) {
        inner.extent *= extent;
      } else {
        loops.push({ extent, strideA, strideB });
      }
    }
    contiguousA *= da;
    contiguousB *= db;
  }
  const row = loops[0] ?? { extent: 1, strideA: 0, strideB: 0 };
  const outer = loops.slice(1);
  return {
    rows: shape.includes(0) ? 0 : outer.reduce((n, loop) => n * loop.extent, 1),
    rowLength: row.extent,
    rowStepA: row.strideA,
    rowStepB: row.strideB,
    outerExtents: Int32Array.from(outer, (loop) => loop.extent),
    outerStridesA: Int32Array.from(outer, (loop) => loop.strideA),
    outerStridesB: Int32Array.from(outer, (loop) => loop.strideB),
    counters: new Int32Array(outer.length),
  };
}

/**
 * OpKernel.reusableInputs of ADD, SUB and MUL: an input of the output's shape (up to leading 1s) is walked at
 * exactly the output's index, and each row function reads both operands of an element before writing it.
 */
export function fullShapeInputs(node: Node<unknown>): InputReuse[] {
  const out = node.outputs[0];
  return [0, 1].filter((i) => node.inputs[i]!.size === out.size).map((input) => ({ input, kind: 'in-place' }));
}

/** Computes one output row: out[outStart + i] from a[aStart + i * aStep] and b[bStart + i * bStep], i < n. */
export type BroadcastRow<P, A, B, O> = (
  params: P,
  a: A,
  aStart: number,
  aStep: number,
  b: B,
  bStart: number,
  bStep: number,
  out: O,
  outStart: number,
  n: number,
) => void;

/** Runs `row` over every output row of `plan`; allocates nothing. */
export function forEachBroadcastRow<P, A, B, O>(
  plan: BroadcastPlan,
  row: BroadcastRow<P, A, B, O>,
  params: P,
  a: A,
  b: B,
  out: O,
): void {
  const { rows, rowLength, rowStepA, rowStepB, outerExtents, outerStridesA, outerStridesB, counters } = plan;
  counters.fill(0);
  let aStart = 0;
  let bStart = 0;
  for (let r = 0, outStart = 0; r < rows; r++, outStart += rowLength) {
    row(params, a, aStart, rowStepA, b, bStart, rowStepB, out, outStart, rowLength);
    for (let d = 0; d < outerExtents.length; d++) {
      aStart += outerStridesA[d];
      bStart += outerStridesB[d];
      if (++counters[d] < outerExtents[d]) break;
      counters[d] = 0;
      aStart -= outerStridesA[d] * outerExtents[d];
      bStart -= outerStridesB[d] * outerExtents[d];
    }
  }
}

/**
 * The prepare checks of a broadcasting binary op (ADD, SUB, MUL): two inputs and one output, all int8, uint8 or
 * float32 alike, shapes that broadcast to the output's; and the plan of its walk.
 */
export function binaryOperands(node: Node<unknown>): {
  in1: Tensor;
  in2: Tensor;
  out: Tensor;
  dtype: 'int8' | 'uint8' | 'float32';
  plan: BroadcastPlan;
} {
  checkArity(node, 2, 1);
  const in1 = input(node, 0);
  const in2 = input(node, 1);
  const out = output(node, 0);
  const dtype = out.dtype;
  check(
    dtype === 'int8' || dtype === 'uint8' || dtype === 'float32',
    () => `output is ${dtype}; expected int8, uint8 or float32`,
  );
  check(
    in1.dtype === dtype && in2.dtype === dtype,
    () => `inputs are ${in1.dtype} and ${in2.dtype}, output is ${dtype}; all three must match`,
  );
  return { in1, in2, out, dtype, plan: planBroadcast(in1, in2, out) };
}

/** What evalBinary needs of a binary op's prepared data. */
export interface BinaryData {
  readonly plan: BroadcastPlan;
  readonly dtype: 'int8' | 'uint8' | 'float32';
}

/**
 * The eval of a broadcasting binary op (ADD, SUB, MUL): float32 rows over the float values, quantized rows over the
 * raw bytes (int8 and uint8 alike, their rows reading each byte as its type through tables).
 */
export function evalBinary<D extends BinaryData>(
  node: Node<unknown>,
  d: D,
  floatRow: BroadcastRow<D, Float32Array, Float32Array, Float32Array>,
  quantizedRow: BroadcastRow<D, Uint8Array, Uint8Array, Uint8Array>,
): void {
  const a = node.inputs[0]!;
  const b = node.inputs[1]!;
  const out = node.outputs[0];
  if (d.dtype === 'float32') forEachBroadcastRow(d.plan, floatRow, d, a.float32(), b.float32(), out.float32());
  else forEachBroadcastRow(d.plan, quantizedRow, d, a.bytes, b.bytes, out.bytes);
}
