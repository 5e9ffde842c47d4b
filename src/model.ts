// Reads a .tflite flatbuffer into plain, validated structures. Everything a later stage relies on is checked
// here, once, with an error that says what is wrong and where: offsets and vectors in bounds (the reader),
// indices in range, shapes sane, constant data the size its shape and type say, every tensor produced before
// it is read. Constant data stays a view into the file.
import { FlatBuffer, zeros, type Table } from '../schema/flatbuffer.js';
import { builtinOperatorName, BuiltinOperator, TENSOR_TYPE_NAMES, type DType } from '../schema/tflite.js';
import { ModelFormatError, UnsupportedFeatureError } from './errors.js';
import { ELEMENT_SIZE, type Quantization } from './tensor.js';

/** The schema version TFLM accepts (TFLITE_SCHEMA_VERSION). */
export const SCHEMA_VERSION = 3;
/** Upper bound on any one tensor: larger shapes are corrupt or hostile, not models we can run. */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

export interface ModelTensor {
  index: number;
  name: string;
  dtype: DType;
  shape: number[];
  /** Shape with -1 for dimensions unknown at conversion; null when the file has none. */
  shapeSignature: number[] | null;
  buffer: number;
  /** Constant data (a view into the file), or null for tensors computed at run time. */
  data: Uint8Array | null;
  isVariable: boolean;
  quantization: Quantization | null;
}

export interface ModelOperator {
  index: number;
  /** BuiltinOperator value, or CUSTOM (32). */
  code: number;
  /** BuiltinOperator name, or the custom op's name. */
  opName: string;
  customCode: string | null;
  version: number;
  inputs: number[];
  outputs: number[];
  intermediates: number[];
  builtinOptionsType: number;
  builtinOptions: Table | null;
  customOptions: Uint8Array | null;
}

export interface Subgraph {
  index: number;
  name: string;
  tensors: ModelTensor[];
  inputs: number[];
  outputs: number[];
  operators: ModelOperator[];
}

export interface OperatorCode {
  code: number;
  name: string;
  customCode: string | null;
  version: number;
}

export interface Signature {
  key: string;
  subgraphIndex: number;
  inputs: { name: string; tensorIndex: number }[];
  outputs: { name: string; tensorIndex: number }[];
}

export interface Model {
  bytes: Uint8Array;
  version: number;
  description: string;
  operatorCodes: OperatorCode[];
  subgraphs: Subgraph[];
  buffers: Uint8Array[];
  metadata: { name: string; buffer: number; data: Uint8Array }[];
  signatures: Signature[];
}

function fail(where: string, what: string): never {
  throw new ModelFormatError(`${where}: ${what}`);
}

/** Parses and validates a model. Throws ModelFormatError naming the first problem found. */
export function readModel(input: Uint8Array | ArrayBuffer): Model {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.length < 8) fail('file', `${bytes.length} bytes is too short to be a TFLite model`);
  const fb = new FlatBuffer(bytes);
  const identifier = fb.identifier();
  if (identifier !== 'TFL3') {
    fail('file', `identifier is ${JSON.stringify(identifier)}, expected "TFL3" (not a TFLite flatbuffer)`);
  }
  const root = fb.root('model');
  const version = root.uint32(0);
  if (version !== SCHEMA_VERSION) fail('model', `schema version ${version}, expected ${SCHEMA_VERSION}`);

  // Buffers without data (every runtime tensor's) share one empty view.
  const empty = bytes.subarray(0, 0);
  const buffers = root.mapTables(4, 'buffers', (i) => `buffer ${i}`, (t, i) => readBuffer(t, i, bytes, empty));
  const operatorCodes = root.mapTables(1, 'operator_codes', (i) => `operator code ${i}`, readOperatorCode);
  const subgraphTables = root.tables(2, 'subgraphs', (i) => `subgraph ${i}`);
  if (subgraphTables.length === 0) fail('model', 'has no subgraphs');
  const subgraphs = subgraphTables.map((t, i) => readSubgraph(t, i, buffers, operatorCodes));

  const metadata = root.mapTables(6, 'metadata', (i) => `metadata ${i}`, (t, i) => {
    const buffer = t.uint32(1);
    if (buffer >= buffers.length) fail(`metadata ${i}`, `buffer ${buffer} out of range (model has ${buffers.length} buffers)`);
    return { name: t.string(0, 'name') ?? '', buffer, data: buffers[buffer] };
  });
  const signatures = root.mapTables(7, 'signature_defs', (i) => `signature ${i}`, (t, i) => readSignature(t, i, subgraphs));

  return {
    bytes,
    version,
    description: root.string(3, 'description') ?? '',
    operatorCodes,
    subgraphs,
    buffers,
    metadata,
    signatures,
  };
}

function readBuffer(t: Table, index: number, file: Uint8Array, empty: Uint8Array): Uint8Array {
  const inline = t.bytes(0, 'data');
  const offset = t.int64(1);
  const size = t.int64(2);
  // Models over 2 GB keep buffer data after the flatbuffer; offset counts from the start of the file.
  if (offset > 1) {
    if (offset + size > file.length) {
      fail(`buffer ${index}`, `data at offset ${offset} size ${size} runs past the end of the ${file.length}-byte file`);
    }
    return file.subarray(offset, offset + size);
  }
  return inline ?? empty;
}

function readOperatorCode(t: Table, index: number): OperatorCode {
  // Old files keep the op in the 1-byte deprecated field and leave builtin_code at 0 (ADD): take the larger.
  const code = Math.max(t.int8(0), t.int32(3));
  if (code < 0) fail(`operator code ${index}`, `negative builtin code ${code}`);
  const customCode = t.string(1, 'custom_code');
  return {
    code,
    name: code === BuiltinOperator.CUSTOM ? (customCode ?? 'CUSTOM') : builtinOperatorName(code),
    customCode,
    version: t.int32(2, 1),
  };
}

// Names for error messages are made only when an error needs them: a model has thousands of tables and
// tensor indices, and naming each up front would be most of what reading allocates.

function readSubgraph(t: Table, index: number, buffers: Uint8Array[], codes: OperatorCode[]): Subgraph {
  const where = `subgraph ${index}`;
  const tensorName = (i: number) => `${where} tensor ${i}`;
  const quantizationName = (i: number) => `${where} tensor ${i} quantization`;
  const tensors = t.mapTables(0, 'tensors', tensorName, (tt, i) => readTensor(tt, i, buffers, quantizationName));
  const outOfRange = (what: string, value: number) =>
    fail(`${where} ${what}`, `tensor ${value} out of range (subgraph has ${tensors.length} tensors)`);
  const inputs = t.int32s(1, 'inputs') ?? [];
  const badInput = firstNonTensor(inputs, tensors.length, false);
  if (badInput >= 0) outOfRange(`input ${badInput}`, inputs[badInput]);
  const outputs = t.int32s(2, 'outputs') ?? [];
  const badOutput = firstNonTensor(outputs, tensors.length, false);
  if (badOutput >= 0) outOfRange(`output ${badOutput}`, outputs[badOutput]);
  const optionsName = (i: number) => `${where} operator ${i} builtin options`;
  const operators = t.mapTables(3, 'operators', (i) => `${where} operator ${i}`, (ot, i): ModelOperator => {
    const opcodeIndex = ot.uint32(0);
    if (opcodeIndex >= codes.length) {
      fail(ot.where, `opcode index ${opcodeIndex} out of range (model has ${codes.length} operator codes)`);
    }
    const opcode = codes[opcodeIndex];
    const builtinOptionsType = ot.uint8(3);
    const opInputs = ot.int32s(1, 'inputs') ?? [];
    const badOpInput = firstNonTensor(opInputs, tensors.length, true);
    if (badOpInput >= 0) outOfRange(`operator ${i} (${opcode.name}) input ${badOpInput}`, opInputs[badOpInput]);
    const opOutputs = ot.int32s(2, 'outputs') ?? [];
    const badOpOutput = firstNonTensor(opOutputs, tensors.length, false);
    if (badOpOutput >= 0) outOfRange(`operator ${i} (${opcode.name}) output ${badOpOutput}`, opOutputs[badOpOutput]);
    const intermediates = ot.int32s(8, 'intermediates') ?? [];
    const badIntermediate = firstNonTensor(intermediates, tensors.length, false);
    if (badIntermediate >= 0) outOfRange(`operator ${i} intermediate ${badIntermediate}`, intermediates[badIntermediate]);
    return {
      index: i,
      code: opcode.code,
      opName: opcode.name,
      customCode: opcode.customCode,
      version: opcode.version,
      inputs: opInputs,
      outputs: opOutputs,
      intermediates,
      builtinOptionsType,
      builtinOptions: builtinOptionsType ? ot.table(4, optionsName, i) : null,
      customOptions: ot.bytes(5, 'custom_options'),
    };
  });
  const subgraph = { index, name: t.string(4, 'name') ?? '', tensors, inputs, outputs, operators };
  checkDataflow(subgraph);
  return subgraph;
}

/** Where in `indices` the first entry is that names no tensor (-1 counts as one where `optional`), or -1. */
function firstNonTensor(indices: number[], tensorCount: number, optional: boolean): number {
  for (let k = 0; k < indices.length; k++) {
    const value = indices[k];
    if (!((optional && value === -1) || (value >= 0 && value < tensorCount))) return k;
  }
  return -1;
}

function readTensor(
  t: Table,
  index: number,
  buffers: Uint8Array[],
  quantizationName: (index: number) => string,
): ModelTensor {
  const typeCode = t.int8(1);
  const dtype = TENSOR_TYPE_NAMES[typeCode];
  if (dtype === undefined) fail(t.where, `unknown tensor type ${typeCode}`);
  const shape = t.int32s(0, 'shape') ?? [];
  let elements = 1;
  for (const d of shape) {
    if (d < 0) fail(t.where, `shape [${shape.join(',')}] has a negative dimension`);
    elements *= d;
  }
  const elementSize = ELEMENT_SIZE[dtype];
  if (elementSize !== undefined && elements * elementSize > MAX_TENSOR_BYTES) {
    fail(t.where, `shape [${shape.join(',')}] of ${dtype} needs ${elements * elementSize} bytes, more than ${MAX_TENSOR_BYTES}`);
  }
  const buffer = t.uint32(2);
  if (buffer >= buffers.length) fail(t.where, `buffer ${buffer} out of range (model has ${buffers.length} buffers)`);
  const raw = buffers[buffer];
  const data = raw.length > 0 ? raw : null;
  if (data && elementSize !== undefined && data.length !== elements * elementSize) {
    fail(
      t.where,
      `constant data is ${data.length} bytes, but ${dtype}[${shape.join(',')}] needs ${elements * elementSize}`,
    );
  }
  if (t.has(6)) throw new UnsupportedFeatureError(`${t.where}: is sparse (sparsity parameters), which is not supported`);
  return {
    index,
    name: t.string(3, 'name') ?? '',
    dtype,
    shape,
    shapeSignature: t.int32s(7, 'shape_signature'),
    buffer,
    data,
    isVariable: t.bool(5),
    quantization: readQuantization(t.table(4, quantizationName, index), t),
  };
}

/** The quantization of `tensor`, read from its table `q`. */
function readQuantization(q: Table | null, tensor: Table): Quantization | null {
  if (!q) return null;
  if (q.uint8(4) !== 0) {
    throw new UnsupportedFeatureError(`${tensor.where}: uses custom quantization details, which are not supported`);
  }
  const scale = q.float32s(2, 'scale');
  if (!scale || scale.length === 0) return null;
  const zeroPoint = q.int64s(3, 'zero_point') ?? zeros(0);
  if (zeroPoint.length !== scale.length && zeroPoint.length > 1) {
    fail(tensor.where, `quantization has ${scale.length} scales but ${zeroPoint.length} zero points`);
  }
  for (let i = 0; i < scale.length; i++) {
    const s = scale[i];
    if (!(s >= 0 && s < Infinity)) fail(tensor.where, `quantization scale ${s} is not a finite non-negative number`);
  }
  return {
    scale,
    zeroPoint: scale.length === zeroPoint.length ? zeroPoint : repeated(zeroPoint[0] ?? 0, scale.length),
    quantizedDimension: q.int32(6),
  };
}

/** One zero point standing for `length` scales' (0, as nearly always, is the shared `zeros`). */
function repeated(zeroPoint: number, length: number): number[] {
  return zeroPoint === 0 ? zeros(length) : new Array<number>(length).fill(zeroPoint);
}

function readSignature(t: Table, index: number, subgraphs: Subgraph[]): Signature {
  const where = `signature ${index}`;
  const subgraphIndex = t.uint32(4);
  if (subgraphIndex >= subgraphs.length) {
    fail(where, `subgraph ${subgraphIndex} out of range (model has ${subgraphs.length} subgraphs)`);
  }
  const tensorCount = subgraphs[subgraphIndex].tensors.length;
  const maps = (id: number, what: string) =>
    t.mapTables(id, what, (i) => `${where} ${what} ${i}`, (m, i) => {
      const tensorIndex = m.uint32(1);
      if (tensorIndex >= tensorCount) fail(`${where} ${what} ${i}`, `tensor ${tensorIndex} out of range`);
      return { name: m.string(0, 'name') ?? '', tensorIndex };
    });
  return { key: t.string(2, 'signature_key') ?? '', subgraphIndex, inputs: maps(0, 'inputs'), outputs: maps(1, 'outputs') };
}

/** Every operator input must be a constant, a graph input, a variable, or the output of an earlier operator. */
function checkDataflow(g: Subgraph): void {
  const available = new Uint8Array(g.tensors.length);
  for (const t of g.tensors) if (t.data || t.isVariable) available[t.index] = 1;
  for (const i of g.inputs) available[i] = 1;
  for (const op of g.operators) {
    for (const i of op.inputs) {
      if (i >= 0 && !available[i]) {
        fail(
          `subgraph ${g.index} operator ${op.index} (${op.opName})`,
          `reads tensor ${i} (${g.tensors[i].name}) before any operator writes it`,
        );
      }
    }
    for (const o of op.outputs) {
      if (g.tensors[o].data) {
        fail(`subgraph ${g.index} operator ${op.index} (${op.opName})`, `writes tensor ${o}, which is a constant`);
      }
      available[o] = 1;
    }
  }
  for (const o of g.outputs) {
    if (!available[o]) fail(`subgraph ${g.index} output`, `tensor ${o} (${g.tensors[o].name}) is never written`);
  }
}
