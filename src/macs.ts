// How much arithmetic one run of an operator does, from its tensors' shapes alone: what a profile divides time by.
import type { ModelOperator, ModelTensor } from './model.js';
import { elementCount } from './tensor.js';

/** Ops that only move or relabel bytes: no arithmetic to count. */
const DATA_MOVEMENT = new Set(['RESHAPE', 'SQUEEZE', 'PAD', 'CONCATENATION', 'SPLIT', 'TRANSPOSE']);
/** Ops that accumulate every input element once (a pool's windows tile its input on the models we run). */
const REDUCTIONS = new Set(['AVERAGE_POOL_2D', 'MAX_POOL_2D', 'MEAN']);

/**
 * Multiply-accumulates of one run of `op` (operator of a subgraph whose tensors are `tensors`):
 * CONV_2D output elements × kH·kW·filter depth (= outH·outW·outC·kH·kW·inC/groups: a grouped filter holds inC/groups);
 * DEPTHWISE_CONV_2D output elements × kH·kW; FULLY_CONNECTED output elements × depth (units·depth·batches);
 * pooling and MEAN, input elements; pure data movement (RESHAPE, SQUEEZE, PAD, CONCATENATION, SPLIT, TRANSPOSE), 0;
 * every other op, one per output element.
 */
export function operatorMacs(op: ModelOperator, tensors: readonly ModelTensor[]): number {
  const shape = (i: number) => tensors[i].shape;
  const outputs = op.outputs.reduce((sum, t) => sum + elementCount(shape(t)), 0);
  switch (op.opName) {
    case 'CONV_2D': {
      const [, kH, kW, depth] = shape(op.inputs[1]);
      return outputs * kH * kW * depth;
    }
    case 'DEPTHWISE_CONV_2D': {
      const [, kH, kW] = shape(op.inputs[1]);
      return outputs * kH * kW;
    }
    case 'FULLY_CONNECTED': {
      const weights = shape(op.inputs[1]);
      return outputs * weights[weights.length - 1];
    }
  }
  if (DATA_MOVEMENT.has(op.opName)) return 0;
  if (REDUCTIONS.has(op.opName)) return elementCount(shape(op.inputs[0]));
  return outputs;
}
