// Arena planning: which tensors need memory when, and where each goes in one ArrayBuffer.
import type { Subgraph } from './model.js';
import { ELEMENT_SIZE, elementCount } from './tensor.js';

/** TFLM's MicroArenaBufferAlignment(): every planned buffer starts on a 16-byte boundary. */
export const ARENA_ALIGNMENT = 16;

/** One tensor's memory need: `size` bytes from operator `firstUse` through operator `lastUse`, inclusive. */
export interface BufferRequest {
  tensor: number;
  size: number;
  firstUse: number;
  lastUse: number;
}

export interface ArenaPlan {
  /** Offset of each request, in request order. */
  offsets: number[];
  /** Bytes the arena needs. */
  size: number;
}

export function alignUp(n: number, alignment = ARENA_ALIGNMENT): number {
  return Math.ceil(n / alignment) * alignment;
}

/**
 * Lifetimes as TFLM computes them: a tensor lives from the operator that writes it to the last operator that
 * reads it; graph inputs from the start, graph outputs to the end. Constants and variables are not planned.
 */
export function tensorLifetimes(g: Subgraph): BufferRequest[] {
  const first = new Array<number>(g.tensors.length).fill(-1);
  const last = new Array<number>(g.tensors.length).fill(-1);
  const lastOp = Math.max(0, g.operators.length - 1);
  for (const i of g.inputs) first[i] = 0;
  g.operators.forEach((op, n) => {
    for (const i of op.inputs) if (i >= 0) last[i] = Math.max(last[i], n);
    for (const o of op.outputs) if (first[o] < 0) first[o] = n;
  });
  for (const o of g.outputs) last[o] = lastOp;
  const requests: BufferRequest[] = [];
  for (const t of g.tensors) {
    if (t.data || t.isVariable || first[t.index] < 0) continue;
    const size = elementCount(t.shape) * (ELEMENT_SIZE[t.dtype] ?? 0);
    requests.push({ tensor: t.index, size, firstUse: first[t.index], lastUse: Math.max(last[t.index], first[t.index]) });
  }
  return requests;
}

/**
 * Greedy by size, as TFLM's GreedyMemoryPlanner: place the largest buffers first, each at the lowest
 * aligned offset where it overlaps no already-placed buffer that is alive at the same time.
 */
export function planGreedy(requests: readonly BufferRequest[]): ArenaPlan {
  const order = requests.map((_, i) => i).sort((a, b) => requests[b].size - requests[a].size || a - b);
  const offsets = new Array<number>(requests.length).fill(0);
  const placed: number[] = []; // request indices, kept sorted by offset
  let size = 0;
  for (const r of order) {
    const need = alignUp(requests[r].size);
    let candidate = 0;
    for (const p of placed) {
      if (requests[p].lastUse < requests[r].firstUse || requests[r].lastUse < requests[p].firstUse) continue;
      if (offsets[p] >= candidate + need) break;
      candidate = Math.max(candidate, offsets[p] + alignUp(requests[p].size));
    }
    offsets[r] = candidate;
    const at = placed.findIndex((p) => offsets[p] > candidate);
    placed.splice(at < 0 ? placed.length : at, 0, r);
    size = Math.max(size, candidate + need);
  }
  return { offsets, size };
}
