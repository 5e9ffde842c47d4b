// What a model holds, in a form both the CLI and an application can print or inspect.
import type { Model, ModelTensor } from './model.js';
import type { OpResolver } from './resolver.js';

export interface TensorSummary {
  tensorIndex: number;
  name: string;
  dtype: string;
  shape: number[];
  shapeSignature: number[] | null;
  scale: number[] | null;
  zeroPoint: number[] | null;
  quantizedDimension: number | null;
}

export interface ModelSummary {
  schemaVersion: number;
  description: string;
  fileBytes: number;
  subgraphs: number;
  operators: number;
  tensors: number;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  /** Operator name → how many nodes use it, most used first. */
  opCounts: { op: string; count: number }[];
  /** Nodes whose op the resolver lacks. */
  unsupported: { node: number; op: string }[];
  /** Bytes of constant tensor data in subgraph 0 (what goes to flash). */
  weightsBytes: number;
  constantTensors: number;
  metadata: string[];
}

export function describeTensor(t: ModelTensor): TensorSummary {
  const q = t.quantization;
  return {
    tensorIndex: t.index,
    name: t.name,
    dtype: t.dtype,
    shape: t.shape,
    shapeSignature: t.shapeSignature,
    scale: q ? Array.from(q.scale) : null,
    zeroPoint: q ? q.zeroPoint : null,
    quantizedDimension: q && q.scale.length > 1 ? q.quantizedDimension : null,
  };
}

export function summarizeModel(model: Model, resolver: OpResolver): ModelSummary {
  const g = model.subgraphs[0];
  const counts = new Map<string, number>();
  for (const op of g.operators) counts.set(op.opName, (counts.get(op.opName) ?? 0) + 1);
  const constants = g.tensors.filter((t) => t.data);
  return {
    schemaVersion: model.version,
    description: model.description,
    fileBytes: model.bytes.length,
    subgraphs: model.subgraphs.length,
    operators: g.operators.length,
    tensors: g.tensors.length,
    inputs: g.inputs.map((i) => describeTensor(g.tensors[i])),
    outputs: g.outputs.map((i) => describeTensor(g.tensors[i])),
    opCounts: [...counts].map(([op, count]) => ({ op, count })).sort((a, b) => b.count - a.count || (a.op < b.op ? -1 : 1)),
    unsupported: g.operators
      .filter((op) => !resolver.find(op.code, op.customCode))
      .map((op) => ({ node: op.index, op: op.opName })),
    weightsBytes: constants.reduce((sum, t) => sum + (t.data?.length ?? 0), 0),
    constantTensors: constants.length,
    metadata: model.metadata.map((m) => m.name),
  };
}
