// Running sliding-window ops (CONV_2D, DEPTHWISE_CONV_2D) a row at a time, so that a tensor need not exist
// whole. Two ways, both chosen by the optimized planner (memory-plan.ts), both built only from the kernels'
// own row evaluation (OpKernel.rows), so every element is computed by the kernel's arithmetic:
//
//   fusion   — a producer's output rows go into a ring of a few rows, and its consumer reads them from there
//              as soon as the rows its next output row needs exist (TinyEngine's patch-based inference,
//              by rows). The producer's whole output is never stored.
//   in place — an op writes its output over its own input: each output row is computed into a small buffer
//              of pending rows and copied to its final place once no later output row reads the input rows
//              that place covers.
//
// Rows are counted across batches ("global rows", batch b's row y is b * height + y).
import type { PreparedNode } from './graph.js';
import type { RowEvaluation, RowWindow } from './op.js';
import type { TensorData } from './tensor.js';

/** Ring rows a consumer needs to read its input through: the rows one output row's window spans. */
export function ringRows(window: RowWindow): number {
  return Math.min(window.inHeight, (window.filterHeight - 1) * window.dilationH + 1);
}

/**
 * The last global output row that reads global input row `inputRow`. Output row oy reads rows from
 * oy * strideH - padTop on, so no row after floor((y + padTop) / strideH) reads y.
 */
function lastReader(w: RowWindow, inputRow: number): number {
  const batch = Math.floor(inputRow / w.inHeight);
  const y = inputRow - batch * w.inHeight;
  return batch * w.outHeight + Math.min(w.outHeight - 1, Math.floor((y + w.padTop) / w.strideH));
}

/**
 * For an op computed in place: the last global output row that must be computed before output row `row` may
 * be written over the input, i.e. the last reader of the last input row its bytes cover. Nondecreasing in `row`.
 */
function writableAfter(w: RowWindow, inRowBytes: number, outRowBytes: number, row: number): number {
  const coveredRow = Math.min(w.batches * w.inHeight - 1, Math.floor(((row + 1) * outRowBytes - 1) / inRowBytes));
  return lastReader(w, coveredRow);
}

/** Output rows an in-place evaluation holds before it can write them: the most that are ever pending. */
export function pendingRows(w: RowWindow, inRowBytes: number, outRowBytes: number): number {
  let most = 1;
  for (let row = 0; row < w.batches * w.outHeight; row++) {
    most = Math.max(most, writableAfter(w, inRowBytes, outRowBytes, row) - row + 1);
  }
  return most;
}

/** A producer fused into its consumer: the producer's output rows pass through `ring`, never stored whole. */
export interface FusedRows {
  producer: PreparedNode;
  consumer: PreparedNode;
  producerRows: RowEvaluation<unknown, unknown>;
  consumerRows: RowEvaluation<unknown, unknown>;
  producerWindow: RowWindow;
  consumerWindow: RowWindow;
  /** Rows of the producer's output the ring holds (ringRows of the consumer's window). */
  ringRows: number;
}

/**
 * Computes the consumer's whole output. Before each consumer row, the producer computes the rows of its
 * output that row's window needs and no earlier row computed, into ring slot (row mod ringRows); rows no
 * window reads are never computed.
 */
export function evalFused(f: FusedRows, ring: TensorData): void {
  const { producer, consumer, producerRows, consumerRows, producerWindow: pw, consumerWindow: cw, ringRows } = f;
  const input = producer.node.inputs[0]!.data;
  const output = consumer.node.outputs[0].data;
  const reach = (cw.filterHeight - 1) * cw.dilationH;
  for (let b = 0; b < cw.batches; b++) {
    const inputStart = b * pw.inHeight * pw.inRowElements;
    let next = 0;
    for (let oy = 0; oy < cw.outHeight; oy++) {
      const top = oy * cw.strideH - cw.padTop;
      const last = Math.min(cw.inHeight - 1, top + reach);
      for (let r = Math.max(next, top); r <= last; r++) {
        const slot = (r % ringRows) * cw.inRowElements;
        producerRows.evalRow(producer.node, producer.data, input, inputStart, pw.inHeight, ring, slot, r);
      }
      next = Math.max(next, last + 1);
      const outputStart = (b * cw.outHeight + oy) * cw.outRowElements;
      consumerRows.evalRow(consumer.node, consumer.data, ring, 0, ringRows, output, outputStart, oy);
    }
  }
}

/** An op computed over its own input's memory. */
export interface InPlaceRows {
  node: PreparedNode;
  rows: RowEvaluation<unknown, unknown>;
  window: RowWindow;
  inRowBytes: number;
  outRowBytes: number;
  /** Output rows the pending buffer holds (pendingRows). */
  pendingRows: number;
}

/**
 * Computes output rows in order into `pending` (slot row mod pendingRows) and copies each to its place in
 * `arena` as soon as writableAfter allows. The output tensor starts where the input does; `pending` is a view
 * of the arena at byte `pendingByte` of the arena.
 */
export function evalInPlace(s: InPlaceRows, pending: TensorData, pendingByte: number, arena: Uint8Array): void {
  const { node: prepared, rows, window: w, inRowBytes, outRowBytes, pendingRows } = s;
  const { node, data } = prepared;
  const input = node.inputs[0]!.data;
  // Where the output starts in the arena, which may itself start anywhere in its buffer (the SIMD memory).
  const outputByte = node.outputs[0].bytes.byteOffset - arena.byteOffset;
  const lastRow = w.batches * w.outHeight - 1;
  let written = 0;
  for (let b = 0; b < w.batches; b++) {
    const inputStart = b * w.inHeight * w.inRowElements;
    for (let oy = 0; oy < w.outHeight; oy++) {
      const row = b * w.outHeight + oy;
      rows.evalRow(node, data, input, inputStart, w.inHeight, pending, (row % pendingRows) * w.outRowElements, oy);
      // After the last row nothing reads the input any more: every pending row goes.
      while (written <= row && (row === lastRow || writableAfter(w, inRowBytes, outRowBytes, written) <= row)) {
        const from = pendingByte + (written % pendingRows) * outRowBytes;
        arena.copyWithin(outputByte + written * outRowBytes, from, from + outRowBytes);
        written++;
      }
    }
  }
}
