// Arena planning: which buffers need memory when, and where each goes in one ArrayBuffer.
//
// The story in three steps, as TFLM tells it (micro_allocator.cc CommitStaticMemoryPlan):
//   1. lifetimes — `tensorLifetimes` (tensor buffers) and, for TFLM's own figure, `tflmBufferRequests`
//      (the same plus the scratch buffers TFLM's reference kernels request in Prepare, and offline offsets);
//   2. a plan — `planGreedyTflm`: a list of BufferRequest in, one offset per request and the arena size out;
//   3. the interpreter points each tensor at arena[offset, offset + size).
// This is TFLM's planner, the interpreter's with `planner: 'tflm'`; memory-plan.ts holds ours, the default.
//
// Time is counted as TFLM's AllocationInfoBuilder counts "allocation scopes" (micro_allocation_info.cc): 0 is
// the start of the invocation, when graph inputs exist; operator n runs at time n + 1; graph outputs live to
// time N (the operator count). A tensor that no operator touches keeps TFLM's uninitialized lifetime (-1, -1):
// it is still planned, overlapping in time only with other such tensors.
import { ModelFormatError } from './errors.js';
import type { Model, ModelOperator, ModelTensor, Subgraph } from './model.js';
import { byteSize, elementCount } from './tensor.js';

/** TFLM's MicroArenaBufferAlignment(): every planned size is rounded up to, and every offset falls on, 16 bytes. */
export const ARENA_ALIGNMENT = 16;

/** One buffer the arena must hold: `size` bytes, alive from time `firstUse` through `lastUse`, inclusive. */
export interface BufferRequest {
  /** The tensor whose data this buffer holds, or -1 for a kernel's scratch buffer. */
  tensor: number;
  /** For a scratch buffer, the operator that requested it: it lives only while that operator runs. */
  node?: number;
  size: number;
  firstUse: number;
  lastUse: number;
  /** Offset fixed by the model's offline plan ("OfflineMemoryAllocation" metadata), taken as given. */
  offlineOffset?: number;
}

export interface ArenaPlan {
  /** Offset of each request, in request order. */
  offsets: number[];
  /** Bytes the arena needs: the largest offset + aligned size (TFLM's GetMaximumMemorySize). */
  size: number;
}

export function alignUp(n: number, alignment = ARENA_ALIGNMENT): number {
  return Math.ceil(n / alignment) * alignment;
}

/**
 * Tensor buffers with TFLM's lifetimes, in tensor order. Planned: every tensor with no constant data, not a
 * variable (TFLM keeps those in the persistent tail) and of non-zero size. A graph input is created at 0; an
 * operator's outputs are created at its time; every operand is used at its operator's time; graph outputs
 * are used at the end.
 */
export function tensorLifetimes(g: Subgraph): BufferRequest[] {
  const first = new Int32Array(g.tensors.length).fill(-1);
  const last = new Int32Array(g.tensors.length).fill(-1);
  const create = (t: number, time: number) => {
    if (first[t] < 0) first[t] = time;
    last[t] = time;
  };
  g.inputs.forEach((i) => create(i, 0));
  g.operators.forEach(({ inputs, outputs }, n) => {
    for (let k = 0; k < outputs.length; k++) if (first[outputs[k]] < 0) first[outputs[k]] = n + 1;
    for (let k = 0; k < inputs.length; k++) if (inputs[k] >= 0) last[inputs[k]] = n + 1;
    for (let k = 0; k < outputs.length; k++) if (outputs[k] >= 0) last[outputs[k]] = n + 1;
  });
  g.outputs.forEach((o) => create(o, g.operators.length));
  const requests: BufferRequest[] = [];
  g.tensors.forEach((t) => {
    const size = byteSize(t);
    if (t.data || t.isVariable || size === 0) return;
    requests.push({ tensor: t.index, size, firstUse: first[t.index], lastUse: last[t.index] });
  });
  return requests;
}

/**
 * Everything TFLM plans for subgraph 0 of `model`, in the order of its AllocationInfo array (which decides ties):
 * tensor buffers by tensor index, with offline offsets when the model carries an offline plan, then the scratch
 * buffers its reference kernels request in Prepare, by operator. `planGreedyTflm` of these gives TFLM's
 * `head_nonpersistent`; the interpreter's 'tflm' arena is exactly that (our kernels keep their temporaries in
 * prepared data, so TFLM's scratch buffers go unused). Exact for single-subgraph models built without TFLM's
 * compression (USE_TFLM_COMPRESSION adds decompression scratch); TFLM plans every subgraph of a model together,
 * which this does not.
 */
export function tflmBufferRequests(model: Model): BufferRequest[] {
  const g = model.subgraphs[0];
  const offline = offlineOffsets(model);
  const requests = tensorLifetimes(g);
  if (offline) {
    requests.forEach((r) => {
      if (offline[r.tensor] >= 0) r.offlineOffset = offline[r.tensor];
    });
  }
  g.operators.forEach((op, n) =>
    scratchBytes(op, g.tensors).forEach((size) => {
      requests.push({ tensor: -1, node: n, size, firstUse: n + 1, lastUse: n + 1 });
    }),
  );
  return requests;
}

/**
 * TFLM's GreedyMemoryPlanner (greedy_memory_planner.cc), to the byte. Sizes are rounded up to 16. Buffers with
 * an offline offset go first, where they are told. The rest go largest first; among equal sizes the one
 * requested last goes first (TFLM fills its sort array from the tail, then bubble-sorts, which is stable).
 * Each goes to the lowest offset where it fits between the buffers already placed that are alive at an
 * overlapping time, scanning them in offset order: first fit, not best fit.
 */
export function planGreedyTflm(requests: readonly BufferRequest[]): ArenaPlan {
  const sizes = requests.map((r) => alignUp(r.size));
  const fixed: number[] = [];
  const online: number[] = [];
  requests.forEach((r, i) => (r.offlineOffset === undefined ? online : fixed).push(i));
  online.reverse().sort((a, b) => sizes[b] - sizes[a]); // Array.prototype.sort is stable
  const offsets = new Array<number>(requests.length).fill(0);
  const placed = new Int32Array(requests.length); // request indices in offset order; equal offsets in placement order
  let placedCount = 0;
  const place = (r: number) => {
    const { firstUse, lastUse, offlineOffset } = requests[r];
    let candidate = offlineOffset ?? 0;
    for (let j = 0; offlineOffset === undefined && j < placedCount; j++) {
      const p = placed[j];
      if (requests[p].firstUse > lastUse || firstUse > requests[p].lastUse) continue;
      if (offsets[p] - candidate >= sizes[r]) break;
      candidate = Math.max(candidate, offsets[p] + sizes[p]);
    }
    offsets[r] = candidate;
    let at = placedCount++;
    for (; at > 0 && offsets[placed[at - 1]] > candidate; at--) placed[at] = placed[at - 1];
    placed[at] = r;
  };
  fixed.forEach((r) => place(r));
  online.forEach((r) => place(r));
  const size = requests.reduce((max, _, i) => Math.max(max, offsets[i] + sizes[i]), 0);
  return { offsets, size };
}


/**
 * Bytes of each RequestScratchBufferInArena call TFLM's reference kernel for `op` makes in Prepare, in call
 * order (tflite-micro, 2025–2026 sources). Ops not listed request none: ADD, MUL, SUB, SOFTMAX, pooling,
 * PAD, TRANSPOSE, QUANTIZE, DEQUANTIZE, HARD_SWISH, RESHAPE and the other shape ops among them.
 */
function scratchBytes(op: ModelOperator, tensors: readonly ModelTensor[]): number[] {
  const operand = (i: number | undefined) => (i !== undefined && i >= 0 ? tensors[i] : null);
  const input = operand(op.inputs[0]);
  const output = operand(op.outputs[0]);
  switch (op.opName) {
    // reduce_common.cc PrepareMeanOrSumHelper: one int32 accumulator per output element, for int8/int16 input.
    case 'MEAN':
    case 'SUM': {
      const integer = input?.dtype === 'int8' || input?.dtype === 'int16';
      return integer && output ? [4 * elementCount(output.shape)] : [];
    }
    // reduce_common.cc PrepareMinMaxHelper: an int per input dimension, then an int per axis entry.
    case 'REDUCE_MAX':
    case 'REDUCE_MIN': {
      const axis = operand(op.inputs[1]);
      return input && axis ? [4 * input.shape.length, 4 * elementCount(axis.shape)] : [];
    }
    // conv_common.cc ConvPrepare, depthwise_conv_common.cc DepthwiseConvPrepare, fully_connected.cc
    // FullyConnectedPrepare: int4 weights are unpacked into a scratch buffer, one byte per weight.
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
    case 'FULLY_CONNECTED': {
      const filter = operand(op.inputs[1]);
      return filter?.dtype === 'int4' ? [elementCount(filter.shape)] : [];
    }
    // transpose_conv.cc Prepare: an accumulator per output element, int32 for int8 input, int64 for int16;
    // then, for int16 input with an int16 bias, the bias widened to int64. Inputs: output shape, filter, input, bias.
    case 'TRANSPOSE_CONV': {
      const data = operand(op.inputs[2]);
      const bias = operand(op.inputs[3]);
      if (!data || !output) return [];
      if (data.dtype === 'int8') return [4 * elementCount(output.shape)];
      if (data.dtype !== 'int16') return [];
      const accumulators = 8 * elementCount(output.shape);
      return bias?.dtype === 'int16' ? [accumulators, 8 * elementCount(bias.shape)] : [accumulators];
    }
    default:
      return [];
  }
}

/**
 * The offline plan TFLM reads from metadata "OfflineMemoryAllocation" (micro_allocation_info.cc
 * GetOfflinePlannedOffsets): uint32 version, subgraph count, tensor count, then one int32 offset per tensor of
 * all subgraphs, subgraph 0 first; -1 leaves a tensor to the online planner. Null when the model has none.
 */
function offlineOffsets(model: Model): Int32Array | null {
  const entry = model.metadata.find((m) => m.name === 'OfflineMemoryAllocation');
  if (!entry) return null;
  const total = model.subgraphs.reduce((n, g) => n + g.tensors.length, 0);
  const bytes = entry.data;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.length >= 12 ? view.getUint32(8, true) : -1;
  if (count !== total || bytes.length < 12 + 4 * count) {
    throw new ModelFormatError(`OfflineMemoryAllocation metadata lists ${count} tensors; the model has ${total}`);
  }
  return Int32Array.from({ length: model.subgraphs[0].tensors.length }, (_, i) => view.getInt32(12 + 4 * i, true));
}
