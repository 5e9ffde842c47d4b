// Writes .tflite flatbuffers from a plain description, on the `flatbuffers` Builder (a dev dependency: the
// runtime never writes models). Used to build small single-op models for tests and, later, to rewrite real
// models. Field slots are those of schema/tflite.fbs.
import { Builder } from 'flatbuffers';
import { TENSOR_TYPE_NAMES, type DType } from '../schema/tflite.js';

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

export function writeModel(spec: ModelSpec): Uint8Array {
  const b = new Builder(1024);
  const int32Vector = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
    return b.endVector();
  };
  const offsetVector = (offsets: number[]) => {
    b.startVector(4, offsets.length, 4);
    for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
    return b.endVector();
  };

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
        let dataOffset = 0;
        if (data) {
          b.startVector(1, data.length, 16);
          for (let i = data.length - 1; i >= 0; i--) b.addInt8(data[i]);
          dataOffset = b.endVector();
        }
        b.startObject(3);
        if (dataOffset) b.addFieldOffset(0, dataOffset, 0);
        return b.endObject();
      });

  const tensors = spec.tensors.map((t, i) => {
    const name = b.createString(t.name ?? `t${i}`);
    const shape = int32Vector(t.shape);
    const signature = t.shapeSignature ? int32Vector(t.shapeSignature) : 0;
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
    const inputs = int32Vector(op.inputs);
    const outputs = int32Vector(op.outputs);
    let options = 0;
    if (op.options) {
      const vectors = op.options.fields.map((f) => (f.kind === 'int32s' ? int32Vector(f.value) : 0));
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
  const tensorsVector = offsetVector(tensors);
  const inputsVector = int32Vector(spec.inputs);
  const outputsVector = int32Vector(spec.outputs);
  const operatorsVector = offsetVector(operators);
  b.startObject(5);
  b.addFieldOffset(0, tensorsVector, 0);
  b.addFieldOffset(1, inputsVector, 0);
  b.addFieldOffset(2, outputsVector, 0);
  b.addFieldOffset(3, operatorsVector, 0);
  b.addFieldOffset(4, subgraphName, 0);
  const subgraph = b.endObject();

  const description = b.createString(spec.description ?? 'written by tflite-int8 model-writer');
  const codesVector = offsetVector(codeTables);
  const subgraphsVector = offsetVector([subgraph]);
  const buffersVector = offsetVector(buffers);
  b.startObject(8);
  b.addFieldInt32(0, spec.version ?? 3, 0);
  b.addFieldOffset(1, codesVector, 0);
  b.addFieldOffset(2, subgraphsVector, 0);
  b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffersVector, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}
