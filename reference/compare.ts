// Our interpreter's tensors against the bytes TFLite produced for the same tensors: per tensor, how many elements
// differ and by how much (in LSB, the tensor's own integer steps; float tensors by absolute value), and per
// operator, in execution order, the first one whose output differs. No Node built-ins and no runtime: the CLI's
// `compare`, the kernel suite and tests share it, whatever produced the TFLite bytes.
import type { Interpreter } from '../src/interpreter.js';
import type { ModelOperator, Subgraph } from '../src/model.js';
import { typedView, type Tensor } from '../src/tensor.js';

/** One differing element: its flat index and both values. */
export interface ValueDiff {
  index: number;
  ours: number;
  tflite: number;
}

export interface TensorDiff {
  tensor: number;
  name: string;
  dtype: string;
  shape: number[];
  elements: number;
  differing: number;
  /** The largest |ours - TFLite|: in LSB for integer tensors, in value for float tensors. */
  maxDiff: number;
  /** The first few differing elements. */
  samples: ValueDiff[];
}

export interface OpDiff {
  index: number;
  op: string;
  inputs: { tensor: number; dtype: string; shape: number[] }[];
  outputs: TensorDiff[];
  /** Every input was a constant, a graph input, or equal to TFLite's: a difference here is this op's own. */
  inputsIdentical: boolean;
}

export const SAMPLE_COUNT = 5;

/** Subgraph 0's outputs followed by every other operator output in execution order: the per-layer view. */
export function everyOpOutput(g: Subgraph): number[] {
  const outputs = [...g.outputs];
  for (const op of g.operators) for (const o of op.outputs) if (!outputs.includes(o)) outputs.push(o);
  return outputs;
}

/** Element values of raw little-endian bytes of `dtype`, as numbers. */
export function elementValues(dtype: string, bytes: Uint8Array): ArrayLike<number> {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const view = typedView(dtype as Tensor['dtype'], aligned);
  return view instanceof BigInt64Array ? Array.from(view, Number) : view;
}

/** Compares `ours` (raw bytes of a tensor) with TFLite's bytes for it. */
export function diffBytes(
  info: { tensor: number; name: string; dtype: string; shape: readonly number[] },
  ours: Uint8Array,
  tflite: Uint8Array,
): TensorDiff {
  if (ours.length !== tflite.length) {
    throw new Error(`tensor ${info.tensor} (${info.name}): ours has ${ours.length} bytes, TFLite's ${tflite.length}`);
  }
  const a = elementValues(info.dtype, ours);
  const b = elementValues(info.dtype, tflite);
  let differing = 0;
  let maxDiff = 0;
  const samples: ValueDiff[] = [];
  for (let i = 0; i < a.length; i++) {
    if (Object.is(a[i], b[i])) continue;
    differing++;
    maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    if (samples.length < SAMPLE_COUNT) samples.push({ index: i, ours: a[i], tflite: b[i] });
  }
  return { tensor: info.tensor, name: info.name, dtype: info.dtype, shape: [...info.shape], elements: a.length, differing, maxDiff, samples };
}

export function diffTensor(t: Tensor, tflite: Uint8Array): TensorDiff {
  return diffBytes({ tensor: t.index, name: t.name, dtype: t.dtype, shape: t.shape }, t.bytes, tflite);
}

/**
 * Every operator of subgraph 0 whose outputs TFLite gave (`tflite` maps tensor index to bytes), in execution
 * order. `interpreter` must have run with preserveAllTensors, so that every tensor still holds its value.
 */
export function diffOperators(interpreter: Interpreter, tflite: ReadonlyMap<number, Uint8Array>): OpDiff[] {
  const differs = new Set<number>();
  const diffs: OpDiff[] = [];
  for (const op of interpreter.subgraph.operators) {
    if (!op.outputs.every((o) => tflite.has(o))) continue;
    const outputs = op.outputs.map((o) => diffTensor(interpreter.tensors[o], tflite.get(o)!));
    const inputsIdentical = op.inputs.every((i) => i < 0 || !differs.has(i));
    for (const d of outputs) if (d.differing > 0) differs.add(d.tensor);
    diffs.push({ index: op.index, op: op.opName, inputs: describeInputs(interpreter, op), outputs, inputsIdentical });
  }
  return diffs;
}

function describeInputs(interpreter: Interpreter, op: ModelOperator): OpDiff['inputs'] {
  return op.inputs
    .filter((i) => i >= 0)
    .map((i) => ({ tensor: i, dtype: interpreter.tensors[i].dtype, shape: [...interpreter.tensors[i].shape] }));
}

export function opDiffers(d: OpDiff): boolean {
  return d.outputs.some((o) => o.differing > 0);
}

// ---- Text ----

export function formatShape(t: { tensor: number; dtype: string; shape: readonly number[] }): string {
  return `t${t.tensor} ${t.dtype}[${t.shape.join(',')}]`;
}

function formatCount(d: TensorDiff): string {
  if (d.differing === 0) return `identical (${d.elements} elements)`;
  const unit = d.dtype.startsWith('float') ? '' : ' LSB';
  return `${d.differing} of ${d.elements} differ, max ${d.maxDiff}${unit}`;
}

/** Converters join every fused op's name into one tensor name; a line shows the start. */
const NAME_WIDTH = 60;

export function formatTensorDiff(d: TensorDiff): string {
  const name = d.name.length > NAME_WIDTH ? `${d.name.slice(0, NAME_WIDTH - 3)}...` : d.name;
  return `${formatShape(d)} "${name}": ${formatCount(d)}`;
}

export function formatSamples(d: TensorDiff): string {
  return d.samples.map((s) => `[${s.index}] ours ${s.ours} TFLite ${s.tflite}`).join(', ');
}

/** The first diverging operator: index, type, shapes, and a few differing values. */
export function formatOpDivergence(d: OpDiff): string[] {
  const lines = [
    `op ${d.index} ${d.op}: inputs ${d.inputs.map(formatShape).join(', ')}` +
      (d.inputsIdentical ? ' (all equal to TFLite\'s)' : ' (some already differ)'),
  ];
  for (const o of d.outputs) {
    lines.push(`  output ${formatTensorDiff(o)}`);
    if (o.differing > 0) lines.push(`    ${formatSamples(o)}`);
  }
  return lines;
}

/** One line per operator: index, type, output, and its difference; `*` marks a difference on equal inputs. */
export function formatOpTable(diffs: OpDiff[]): string[] {
  return diffs.flatMap((d) =>
    d.outputs.map(
      (o, k) =>
        `${k === 0 ? String(d.index).padStart(4) : '    '} ${(k === 0 ? d.op : '').padEnd(18)} ` +
        `${formatShape(o).padEnd(30)} ${formatCount(o)}${o.differing > 0 && d.inputsIdentical ? '  *' : ''}`,
    ),
  );
}
