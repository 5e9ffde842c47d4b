// Writes .tflite flatbuffers on the `flatbuffers` Builder (a dev dependency: the runtime never writes models):
// `writeModel` builds small models from a plain description (tests, the kernel suite); `rewriteModel` re-emits a
// real model with a few edits (a subgraph renamed, every op output made a graph output) for the TFLite
// comparison. Field slots are those of the upstream TFLite schema (schema/tflite.fbs lists the ones we read).
import { Builder } from 'flatbuffers';
import { FlatBuffer, type Table } from '../schema/flatbuffer.js';
import { TENSOR_TYPE_NAMES, type DType } from '../schema/tflite.js';
import { ModelFormatError } from '../src/errors.js';
import { readModel, type ModelTensor } from '../src/model.js';

export interface TensorSpec {
  name?: string;
  dtype: DType;
  shape: number[];
  /** Constant data; the tensor gets a buffer of its own. */
  data?: Uint8Array;
  quantization?: { scale: number[]; zeroPoint: number[]; quantizedDimension?: number };
  shapeSignature?: number[];
  isVariable?: boolean;
  /** Force the buffer index (to write malformed models on purpose). */
  buffer?: number;
}

/** One field of an options table: slot number, scalar kind, value. */
export type OptionField =
  | { slot: number; kind: 'int8' | 'int32' | 'float32' | 'bool'; value: number | boolean }
  | { slot: number; kind: 'int32s'; value: number[] };

export interface OperatorSpec {
  /** BuiltinOperator value, or a custom op name. */
  op: number | string;
  inputs: number[];
  outputs: number[];
  /** The BuiltinOptions union type and the table's fields. */
  options?: { type: number; fields: OptionField[] };
  version?: number;
}

export interface ModelSpec {
  tensors: TensorSpec[];
  operators: OperatorSpec[];
  inputs: number[];
  outputs: number[];
  subgraphName?: string;
  description?: string;
  version?: number;
  /** Write no buffers at all (not even the sentinel), for malformed models. */
  omitBuffers?: boolean;
}

const CUSTOM = 32;

function int32Vector(b: Builder, values: ArrayLike<number>): number {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function offsetVector(b: Builder, offsets: number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

function byteVector(b: Builder, data: Uint8Array, alignment: number): number {
  b.startVector(1, data.length, alignment);
  for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
  return b.endVector();
}

export function writeModel(spec: ModelSpec): Uint8Array {
  const b = new Builder(1024);

  // Buffers: 0 is the empty sentinel; each constant tensor gets the next one.
  const bufferData: (Uint8Array | null)[] = [null];
  const bufferOf = spec.tensors.map((t) => {
    if (t.buffer !== undefined) return t.buffer;
    if (!t.data) return 0;
    bufferData.push(t.data);
    return bufferData.length - 1;
  });
  const buffers = spec.omitBuffers
    ? []
    : bufferData.map((data) => {
        const dataOffset = data ? byteVector(b, data, 16) : 0;
        b.startObject(3);
        if (dataOffset) b.addFieldOffset(0, dataOffset, 0);
        return b.endObject();
      });

  const tensors = spec.tensors.map((t, i) => {
    const name = b.createString(t.name ?? `t${i}`);
    const shape = int32Vector(b, t.shape);
    const signature = t.shapeSignature ? int32Vector(b, t.shapeSignature) : 0;
    let quant = 0;
    if (t.quantization) {
      const scale = (() => {
        b.startVector(4, t.quantization.scale.length, 4);
        for (let k = t.quantization.scale.length - 1; k >= 0; k--) b.addFloat32(t.quantization.scale[k]);
        return b.endVector();
      })();
      b.startVector(8, t.quantization.zeroPoint.length, 8);
      for (let k = t.quantization.zeroPoint.length - 1; k >= 0; k--) b.addInt64(BigInt(t.quantization.zeroPoint[k]));
      const zeroPoint = b.endVector();
      b.startObject(7);
      b.addFieldOffset(2, scale, 0);
      b.addFieldOffset(3, zeroPoint, 0);
      b.addFieldInt32(6, t.quantization.quantizedDimension ?? 0, 0);
      quant = b.endObject();
    }
    b.startObject(8);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, TENSOR_TYPE_NAMES.indexOf(t.dtype as never), 0);
    b.addFieldInt32(2, bufferOf[i], 0);
    b.addFieldOffset(3, name, 0);
    if (quant) b.addFieldOffset(4, quant, 0);
    if (t.isVariable) b.addFieldInt8(5, 1, 0);
    if (signature) b.addFieldOffset(7, signature, 0);
    return b.endObject();
  });

  // One operator code per distinct op, in order of first use.
  const codes: (number | string)[] = [];
  for (const op of spec.operators) if (!codes.includes(op.op)) codes.push(op.op);
  const codeTables = codes.map((code) => {
    const custom = typeof code === 'string' ? b.createString(code) : 0;
    const builtin = typeof code === 'string' ? CUSTOM : code;
    const version = spec.operators.find((o) => o.op === code)?.version ?? 1;
    b.startObject(4);
    b.addFieldInt8(0, Math.min(builtin, 127), 0);
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, version, 1);
    b.addFieldInt32(3, builtin, 0);
    return b.endObject();
  });

  const operators = spec.operators.map((op) => {
    const inputs = int32Vector(b, op.inputs);
    const outputs = int32Vector(b, op.outputs);
    let options = 0;
    if (op.options) {
      const vectors = op.options.fields.map((f) => (f.kind === 'int32s' ? int32Vector(b, f.value) : 0));
      b.startObject(Math.max(0, ...op.options.fields.map((f) => f.slot + 1)));
      op.options.fields.forEach((f, k) => {
        if (f.kind === 'int32s') b.addFieldOffset(f.slot, vectors[k], 0);
        else if (f.kind === 'int8') b.addFieldInt8(f.slot, Number(f.value), 0);
        else if (f.kind === 'bool') b.addFieldInt8(f.slot, f.value ? 1 : 0, 0);
        else if (f.kind === 'int32') b.addFieldInt32(f.slot, Number(f.value), 0);
        else b.addFieldFloat32(f.slot, Number(f.value), 0);
      });
      options = b.endObject();
    }
    b.startObject(9);
    b.addFieldInt32(0, codes.indexOf(op.op), 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    if (op.options) {
      b.addFieldInt8(3, op.options.type, 0);
      b.addFieldOffset(4, options, 0);
    }
    return b.endObject();
  });

  const subgraphName = b.createString(spec.subgraphName ?? 'main');
  const tensorsVector = offsetVector(b, tensors);
  const inputsVector = int32Vector(b, spec.inputs);
  const outputsVector = int32Vector(b, spec.outputs);
  const operatorsVector = offsetVector(b, operators);
  b.startObject(5);
  b.addFieldOffset(0, tensorsVector, 0);
  b.addFieldOffset(1, inputsVector, 0);
  b.addFieldOffset(2, outputsVector, 0);
  b.addFieldOffset(3, operatorsVector, 0);
  b.addFieldOffset(4, subgraphName, 0);
  const subgraph = b.endObject();

  const description = b.createString(spec.description ?? 'written by tflite-int8 model-writer');
  const codesVector = offsetVector(b, codeTables);
  const subgraphsVector = offsetVector(b, [subgraph]);
  const buffersVector = offsetVector(b, buffers);
  b.startObject(8);
  b.addFieldInt32(0, spec.version ?? 3, 0);
  b.addFieldOffset(1, codesVector, 0);
  b.addFieldOffset(2, subgraphsVector, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

// ---- Rewriting a real model ----
// The file is parsed with our checked reader and every table is re-emitted field by field from the schema
// below: scalars by their raw bits (a float scale comes out bit for bit), vectors element by element, strings as
// their bytes. A field present in the source is written even when it holds its default, and an absent one stays
// absent, so the result reads back exactly as the original. A field the schema does not describe is an error,
// never silently dropped. (Never through flatc JSON: it prints floats with 6 decimals and changes scales.)

/** How a field is stored: a scalar of 1, 4 or 8 bytes, or an offset to a string, vector, table or union member. */
type FieldKind =
  | 1
  | 4
  | 8
  | 'string'
  | { vector: 1 | 4 | 8; align?: number }
  | { table: TableSchema }
  | { tables: TableSchema }
  /** A union's value; its type is the 1-byte field in the slot before. */
  | { union: Readonly<Record<number, TableSchema>> }
  /** A field the rewriter refuses (sparsity, custom quantization, data outside the flatbuffer). */
  | 'unsupported';

interface TableSchema {
  name: string;
  fields: FieldKind[];
}

const BYTE = 1;
const INT = 4;
const LONG = 8;
const INTS = { vector: 4 } as const;
const LONGS = { vector: 8 } as const;
const BYTES = { vector: 1 } as const;

/**
 * BuiltinOptions union members by type id: those of every op we implement and a few common neighbours.
 * Floats are 4-byte scalars here (copied as bits).
 */
const BUILTIN_OPTIONS: Record<number, TableSchema> = Object.fromEntries(
  (
    [
      [1, 'Conv2DOptions', [BYTE, INT, INT, BYTE, INT, INT, BYTE]],
      [2, 'DepthwiseConv2DOptions', [BYTE, INT, INT, INT, BYTE, INT, INT]],
      [5, 'Pool2DOptions', [BYTE, INT, INT, INT, INT, BYTE]],
      [8, 'FullyConnectedOptions', [BYTE, BYTE, BYTE, BYTE, BYTE]],
      [9, 'SoftmaxOptions', [INT]],
      [10, 'ConcatenationOptions', [INT, BYTE]],
      [11, 'AddOptions', [BYTE, BYTE]],
      [15, 'ResizeBilinearOptions', [INT, INT, BYTE, BYTE]],
      [17, 'ReshapeOptions', [INTS]],
      [21, 'MulOptions', [BYTE]],
      [22, 'PadOptions', []],
      [26, 'TransposeOptions', []],
      [27, 'ReducerOptions', [BYTE]],
      [28, 'SubOptions', [BYTE, BYTE]],
      [29, 'DivOptions', [BYTE]],
      [30, 'SqueezeOptions', [INTS]],
      [32, 'StridedSliceOptions', [INT, INT, INT, INT, INT, BYTE]],
      [35, 'SplitOptions', [INT]],
      [38, 'DequantizeOptions', []],
      [39, 'MaximumMinimumOptions', []],
      [43, 'PadV2Options', []],
      [74, 'ResizeNearestNeighborOptions', [BYTE, BYTE]],
      [75, 'LeakyReluOptions', [INT]],
      [89, 'QuantizeOptions', []],
      [91, 'HardSwishOptions', []],
    ] as [number, string, FieldKind[]][]
  ).map(([type, name, fields]) => [type, { name, fields }]),
);

const QUANTIZATION: TableSchema = {
  name: 'QuantizationParameters',
  // min, max, scale, zero_point, details (type, value), quantized_dimension
  fields: [INTS, INTS, INTS, LONGS, BYTE, 'unsupported', INT],
};
const VARIANT_SUBTYPE: TableSchema = { name: 'VariantSubType', fields: [INTS, BYTE, BYTE] };
const TENSOR: TableSchema = {
  name: 'Tensor',
  // shape, type, buffer, name, quantization, is_variable, sparsity, shape_signature, has_rank, variant_tensors
  fields: [INTS, BYTE, INT, 'string', { table: QUANTIZATION }, BYTE, 'unsupported', INTS, BYTE, { tables: VARIANT_SUBTYPE }],
};
const OPERATOR: TableSchema = {
  name: 'Operator',
  // opcode_index, inputs, outputs, builtin_options (type, value), custom_options, custom_options_format,
  // mutating_variable_inputs, intermediates, large_custom_options_offset/size, builtin_options_2 (type, value)
  fields: [
    INT, INTS, INTS, BYTE, { union: BUILTIN_OPTIONS }, BYTES, BYTE, BYTES, INTS,
    'unsupported', 'unsupported', BYTE, { union: {} },
  ],
};
const SUBGRAPH: TableSchema = {
  name: 'SubGraph',
  fields: [{ tables: TENSOR }, INTS, INTS, { tables: OPERATOR }, 'string'],
};
const OPERATOR_CODE: TableSchema = { name: 'OperatorCode', fields: [BYTE, 'string', INT, INT] };
// data (force_align: 16), offset, size
const BUFFER: TableSchema = { name: 'Buffer', fields: [{ vector: 1, align: 16 }, LONG, LONG] };
const METADATA: TableSchema = { name: 'Metadata', fields: ['string', INT] };
const TENSOR_MAP: TableSchema = { name: 'TensorMap', fields: ['string', INT] };
const SIGNATURE_DEF: TableSchema = {
  name: 'SignatureDef',
  fields: [{ tables: TENSOR_MAP }, { tables: TENSOR_MAP }, 'string', 'string', INT],
};
const MODEL: TableSchema = {
  name: 'Model',
  // version, operator_codes, subgraphs, description, buffers, metadata_buffer, metadata, signature_defs
  fields: [INT, { tables: OPERATOR_CODE }, { tables: SUBGRAPH }, 'string', { tables: BUFFER }, INTS, { tables: METADATA }, { tables: SIGNATURE_DEF }],
};

/** A field's replacement: an offset already built, a scalar value, or null to leave the field out. */
type FieldOverride = { offset: number } | { scalar: number } | null;

function unsupported(where: string, what: string): never {
  throw new ModelFormatError(`${where}: ${what}, which the model rewriter cannot copy`);
}

/** Re-emits `t` (a `schema` table) with `overrides` by slot; returns the new table's offset. */
function copyTable(b: Builder, t: Table, schema: TableSchema, overrides: Record<number, FieldOverride> = {}): number {
  const slots = Math.max(schema.fields.length, t.slotCount);
  const children: number[] = [];
  for (let slot = 0; slot < slots; slot++) {
    if (slot in overrides || !t.has(slot)) continue;
    const kind = schema.fields[slot];
    if (kind === undefined) unsupported(t.where, `${schema.name} has field ${slot}, beyond the schema we know`);
    if (kind === 'unsupported') unsupported(t.where, `${schema.name} field ${slot} is set`);
    if (typeof kind !== 'number') children[slot] = copyChild(b, t, slot, kind, schema);
  }
  b.startObject(slots);
  for (let slot = 0; slot < slots; slot++) {
    if (slot in overrides) {
      const override = overrides[slot];
      if (override === null) continue;
      if ('offset' in override) b.addFieldOffset(slot, override.offset, 0);
      else addScalar(b, slot, schema.fields[slot] as 1 | 4 | 8, override.scalar);
    } else if (t.has(slot)) {
      const kind = schema.fields[slot];
      if (typeof kind === 'number') {
        addScalar(b, slot, kind, kind === BYTE ? t.int8(slot) : kind === INT ? t.int32(slot) : t.int64(slot));
      } else {
        b.addFieldOffset(slot, children[slot], 0);
      }
    }
  }
  return b.endObject();
}

function addScalar(b: Builder, slot: number, size: 1 | 4 | 8, value: number): void {
  if (size === BYTE) b.addFieldInt8(slot, value, 0);
  else if (size === INT) b.addFieldInt32(slot, value, 0);
  else b.addFieldInt64(slot, BigInt(value), 0n);
}

function copyChild(b: Builder, t: Table, slot: number, kind: Exclude<FieldKind, number | 'unsupported'>, schema: TableSchema): number {
  const what = `${schema.name} field ${slot}`;
  if (kind === 'string') return b.createString(t.bytes(slot, what));
  if ('vector' in kind) {
    if (kind.vector === BYTE) return byteVector(b, t.bytes(slot, what)!, kind.align ?? 1);
    if (kind.vector === INT) return int32Vector(b, t.int32s(slot, what)!);
    const values = t.int64s(slot, what)!;
    b.startVector(8, values.length, 8);
    for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]));
    return b.endVector();
  }
  if ('table' in kind) return copyTable(b, t.table(slot, what)!, kind.table);
  if ('tables' in kind) {
    const tables = t.tables(slot, what, (i) => `${t.where} ${kind.tables.name} ${i}`);
    return offsetVector(b, tables.map((child) => copyTable(b, child, kind.tables)));
  }
  const type = t.uint8(slot - 1);
  const member = kind.union[type];
  if (!member) unsupported(t.where, `${schema.name} field ${slot} holds union type ${type}`);
  return copyTable(b, t.table(slot, what)!, member);
}

/** A change to one tensor of subgraph 0. */
export interface TensorEdit {
  /** A new shape_signature; null removes it. */
  shapeSignature?: number[] | null;
  quantizedDimension?: number;
}

export interface ModelRewrite {
  /** A new name for subgraph 0. */
  subgraphName?: string;
  /** A new output list for subgraph 0. */
  outputs?: number[];
  /** Changes to tensors of subgraph 0, by tensor; undefined leaves a tensor as it is. */
  tensor?: (t: ModelTensor) => TensorEdit | undefined;
  /** Leave out the signature defs (they would no longer describe subgraph 0's outputs). */
  dropSignatures?: boolean;
}

/**
 * Re-emits a real model with the given edits and nothing else changed: same buffers (data moved inline when a
 * large model kept it after the flatbuffer), tensors, quantization, operators and their options, operator
 * codes, metadata and signatures. Throws ModelFormatError for what it cannot copy faithfully.
 */
export function rewriteModel(bytes: Uint8Array, rewrite: ModelRewrite = {}): Uint8Array {
  const model = readModel(bytes);
  const root = new FlatBuffer(bytes).root('model');
  const b = new Builder(bytes.length + 4096);
  b.forceDefaults(true);

  const subgraphs = root.tables(2, 'subgraphs', (i) => `subgraph ${i}`).map((t, i) => {
    if (i !== 0) return copyTable(b, t, SUBGRAPH);
    const g = model.subgraphs[0];
    const tensors = t.tables(0, 'tensors', (k) => `subgraph 0 tensor ${k}`).map((tt, k) => {
      const edit = rewrite.tensor?.(g.tensors[k]);
      if (!edit) return copyTable(b, tt, TENSOR);
      const overrides: Record<number, FieldOverride> = {};
      if (edit.shapeSignature !== undefined) {
        overrides[7] = edit.shapeSignature === null ? null : { offset: int32Vector(b, edit.shapeSignature) };
      }
      const quantization = tt.table(4, 'quantization');
      if (edit.quantizedDimension !== undefined && quantization) {
        overrides[4] = { offset: copyTable(b, quantization, QUANTIZATION, { 6: { scalar: edit.quantizedDimension } }) };
      }
      return copyTable(b, tt, TENSOR, overrides);
    });
    const overrides: Record<number, FieldOverride> = { 0: { offset: offsetVector(b, tensors) } };
    if (rewrite.outputs) overrides[2] = { offset: int32Vector(b, rewrite.outputs) };
    if (rewrite.subgraphName !== undefined) overrides[4] = { offset: b.createString(rewrite.subgraphName) };
    return copyTable(b, t, SUBGRAPH, overrides);
  });

  const buffers = root.tables(4, 'buffers', (i) => `buffer ${i}`).map((t, i) => {
    // Data kept after the flatbuffer (offset > 1, models over 2 GB) comes back inline: the offset would be stale.
    if (t.int64(1) <= 1) return copyTable(b, t, BUFFER);
    return copyTable(b, t, BUFFER, { 0: { offset: byteVector(b, model.buffers[i], 16) }, 1: null, 2: null });
  });

  const overrides: Record<number, FieldOverride> = {
    2: { offset: offsetVector(b, subgraphs) },
    4: { offset: offsetVector(b, buffers) },
  };
  if (rewrite.dropSignatures) overrides[7] = null;
  b.finish(copyTable(b, root, MODEL, overrides), 'TFL3');
  return b.asUint8Array().slice();
}
