// TFLM's whole arena for a model, before any board is flashed: `arena_used_bytes` is the planned head
// (planner.ts, exact) plus the persistent tail, which this file replays allocation by allocation.
//
// TFLM's SingleArenaBufferAllocator hands out the tail downwards from the end of the arena: each allocation
// moves the tail pointer down by its size, then down to its alignment. MicroInterpreter::AllocateTensors makes
// the same allocations in the same order for every model (tflite-micro micro_allocator.cc, micro_interpreter.cc,
// the kernels' Init and Prepare):
//   1. MicroAllocator::Create: the SingleArenaBufferAllocator, the GreedyMemoryPlanner and the MicroAllocator
//      objects themselves;
//   2. StartModelAllocation: the builtin-data allocator, one SubgraphAllocations per subgraph, a TfLiteEvalTensor
//      per tensor, a NodeAndRegistration per operator;
//   3. each operator's parsed builtin options (TfLiteConvParams, ...), in operator order;
//   4. each kernel's Init: its OpData, through AllocatePersistentBuffer (16-byte aligned);
//   5. each kernel's Prepare: per-channel multiplier and shift arrays and the like (16-byte aligned);
//   6. FinishModelAllocation: one ScratchBufferHandle per scratch request, then variable tensors;
//   7. the interpreter's input and output TfLiteTensor pointer arrays, and a persistent TfLiteTensor (with its
//      quantization struct and zero-point array) for every graph input and output.
// Struct sizes come from their field lists under a 64-bit (x86-64) or 32-bit (ARM AAPCS, Cortex-M) ABI, so the
// same replay gives both targets. Checked against TFLM's RecordingMicroAllocator breakdown of the six shared
// models (test/arena-report.test.ts): every recorded category matches to the byte on the 64-bit host.
import { tflmBufferRequests, planGreedyTflm } from './planner.js';
import type { Model, ModelOperator, ModelTensor } from './model.js';
import { byteSize } from './tensor.js';

/** The ABIs an estimate is made for: TFLM's golden host build, and a 32-bit microcontroller. */
export type TflmTarget = 'host64' | 'mcu32';

/** TFLM's MicroArenaBufferAlignment(): what AllocatePersistentBuffer aligns kernel data to. */
const PERSISTENT_BUFFER_ALIGNMENT = 16;

// ---- C struct layout ------------------------------------------------------------------------------------------

type Scalar = 'ptr' | 'size_t' | 'int' | 'float' | 'int16' | 'int8' | 'bool' | 'double';
type Field = Scalar | CStruct | readonly [Scalar | CStruct, number];
interface CStruct {
  name: string;
  fields: readonly Field[];
}

const SCALAR_SIZE: Record<TflmTarget, Record<Scalar, number>> = {
  host64: { ptr: 8, size_t: 8, int: 4, float: 4, int16: 2, int8: 1, bool: 1, double: 8 },
  // AAPCS: pointers and size_t are 4 bytes; double stays 8-byte aligned.
  mcu32: { ptr: 4, size_t: 4, int: 4, float: 4, int16: 2, int8: 1, bool: 1, double: 8 },
};

/** sizeof and alignof of `s` under `target`: natural alignment, tail padding to the largest member. */
export function structLayout(s: CStruct, target: TflmTarget): { size: number; align: number } {
  let size = 0;
  let align = 1;
  for (const field of s.fields) {
    const [type, count] = Array.isArray(field) ? field : [field, 1];
    const member =
      typeof type === 'string' ? { size: SCALAR_SIZE[target][type as Scalar], align: SCALAR_SIZE[target][type as Scalar] } : structLayout(type as CStruct, target);
    size = alignTo(size, member.align) + member.size * (count as number);
    align = Math.max(align, member.align);
  }
  return { size: alignTo(size, align), align };
}

function alignTo(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

const struct = (name: string, ...fields: Field[]): CStruct => ({ name, fields });

// tflite-micro structs as of the golden build (90b983c2b), without USE_TFLM_COMPRESSION. A vtable pointer is a
// 'ptr'; SingleArenaBufferAllocator has two (it implements two interfaces); intptr_t is 'size_t'.
const TFLM = {
  SingleArenaBufferAllocator: struct('SingleArenaBufferAllocator', ['ptr', 2], ['ptr', 5], 'size_t', 'int'),
  GreedyMemoryPlanner: struct('GreedyMemoryPlanner', 'ptr', ['int', 2], ['ptr', 4], ['int', 2], 'ptr', 'bool'),
  MicroAllocator: struct('MicroAllocator', 'ptr', ['ptr', 4], 'bool', 'size_t', 'ptr', 'size_t'),
  MicroBuiltinDataAllocator: struct('MicroBuiltinDataAllocator', 'ptr', 'ptr'),
  SubgraphAllocations: struct('SubgraphAllocations', 'ptr', 'ptr'),
  TfLiteEvalTensor: struct('TfLiteEvalTensor', 'ptr', 'ptr', 'int'),
  NodeAndRegistration: struct('NodeAndRegistration', struct('TfLiteNode', ['ptr', 6], 'int'), 'ptr'),
  ScratchBufferHandle: struct('ScratchBufferHandle', 'ptr'),
  // quantization {type, params*}, params {scale, zero_point}, data*, dims*, bytes, type, allocation_type, is_variable
  TfLiteTensor: struct('TfLiteTensor', struct('TfLiteQuantization', 'int', 'ptr'), ['int', 2], ['ptr', 2], 'size_t', ['int', 2], 'bool'),
  TfLiteAffineQuantization: struct('TfLiteAffineQuantization', 'ptr', 'ptr', 'int'),
  TensorPointer: struct('TfLiteTensor*', 'ptr'),
  // Kernel OpData (what Init allocates).
  OpDataConv: struct('OpDataConv', ['int', 4], ['int', 5], ['ptr', 2], ['int', 3]),
  OpDataFullyConnected: struct('OpDataFullyConnected', ['int', 9], ['ptr', 2], 'bool'),
  SoftmaxParams: struct('SoftmaxParams', 'double', ['int', 7], ['ptr', 5]),
  OpDataPooling: struct('OpDataPooling', ['int', 6], ['float', 2]),
  OpDataAdd: struct('OpDataAdd', 'bool', ['int', 12], ['float', 2]),
  OpDataSub: struct('OpDataSub', 'bool', ['int', 12]),
  OpDataMul: struct('OpDataMul', ['int', 7], ['float', 2]),
  // 11 int-sized fields in the golden build: its recording asks 44 bytes per MEAN; the 2024 sources list 10
  // (multiplier ... num_axis), and the extra scratch handles below suggest a third scratch index.
  OpDataReduce: struct('OpDataReduce', ['int', 11]),
  OpDataPad: struct('OpData (pad)', struct('PadParams', 'int8', ['int', 5], 'int8', ['int', 5], 'int'), 'int'),
  OpDataQuantizeReference: struct('OpDataQuantizeReference', struct('QuantizationParams', 'int', 'double'), ['int', 3]),
  DequantizeOpData: struct('DequantizeOpData', struct('DequantizationParams', 'double', 'int'), ['int', 3]),
  HardSwishParams: struct('HardSwishParams', ['int16', 3], 'int', 'int16', 'int'),
  OpDataLogistic: struct('OpDataLogistic', ['int', 4]),
  // ReluParams: ActivationParams {type, min, max}, input/output offsets, output multiplier and shift.
  ReluOpData: struct('ReluOpData', ['int', 7]),
  // ConcatenationParams: int8 axis, zero-point and scale pointers, uint16 count, output zero point and scale.
  OpDataConcatenation: struct('OpData (concatenation)', 'int8', ['ptr', 2], 'int16', 'int', 'float'),
  // Builtin options (what the flatbuffer parser allocates per operator).
  TfLiteConvParams: struct('TfLiteConvParams', ['int', 7]),
  TfLiteDepthwiseConvParams: struct('TfLiteDepthwiseConvParams', ['int', 7]),
  TfLiteFullyConnectedParams: struct('TfLiteFullyConnectedParams', ['int', 2], ['bool', 2], 'int'),
  TfLitePoolParams: struct('TfLitePoolParams', ['int', 6], ['int', 4]),
  TfLiteSoftmaxParams: struct('TfLiteSoftmaxParams', 'float'),
  TfLiteAddParams: struct('TfLiteAddParams', 'int', 'bool'),
  TfLiteSubParams: struct('TfLiteSubParams', 'int', 'bool'),
  TfLiteMulParams: struct('TfLiteMulParams', 'int'),
  TfLiteReducerParams: struct('TfLiteReducerParams', 'bool'),
  TfLiteReshapeParams: struct('TfLiteReshapeParams', ['int', 8], 'int'),
  TfLiteSqueezeParams: struct('TfLiteSqueezeParams', ['int', 8], 'int'),
  TfLiteConcatenationParams: struct('TfLiteConcatenationParams', 'int', 'int'),
  TfLiteSplitParams: struct('TfLiteSplitParams', 'int'),
};

/** What TFLM's reference kernel for an operator allocates in the tail. */
interface KernelTail {
  /** The parsed builtin options, or none when the parser allocates nothing (PAD, TRANSPOSE, QUANTIZE, ...). */
  options?: CStruct;
  /** The struct Init allocates, or none when the kernel has no Init (RESHAPE, TRANSPOSE). */
  opData?: CStruct;
  /** Byte sizes of the persistent buffers Prepare allocates, in call order. */
  prepare?: (op: ModelOperator, tensors: readonly ModelTensor[]) => number[];
  /** Scratch requests beyond the ones planner.ts plans (they are too small to move the head on any model). */
  extraScratchRequests?: (op: ModelOperator, tensors: readonly ModelTensor[]) => number;
}

const perChannel = (channels: number) => [4 * channels, 4 * channels];

const KERNELS: Record<string, KernelTail> = {
  // conv_common.cc ConvPrepare: int32 multiplier and shift per output channel (filter dimension 0).
  CONV_2D: { options: TFLM.TfLiteConvParams, opData: TFLM.OpDataConv, prepare: (op, t) => perChannel(t[op.inputs[1]].shape[0]) },
  // depthwise_conv_common.cc DepthwiseConvPrepare: the same per output channel (filter dimension 3).
  DEPTHWISE_CONV_2D: {
    options: TFLM.TfLiteDepthwiseConvParams,
    opData: TFLM.OpDataConv,
    prepare: (op, t) => perChannel(t[op.inputs[1]].shape[3]),
  },
  // fully_connected_common.cc: per-channel arrays only when the filter has more than one scale.
  FULLY_CONNECTED: {
    options: TFLM.TfLiteFullyConnectedParams,
    opData: TFLM.OpDataFullyConnected,
    prepare: (op, t) => {
      const scales = t[op.inputs[1]].quantization?.scale.length ?? 0;
      return scales > 1 ? perChannel(scales) : [];
    },
  },
  // softmax_common.cc: two 513-entry int16 lookup tables for int16 input.
  SOFTMAX: {
    options: TFLM.TfLiteSoftmaxParams,
    opData: TFLM.SoftmaxParams,
    prepare: (op, t) => (t[op.inputs[0]].dtype === 'int16' ? [2 * 513, 2 * 513] : []),
  },
  AVERAGE_POOL_2D: { options: TFLM.TfLitePoolParams, opData: TFLM.OpDataPooling },
  MAX_POOL_2D: { options: TFLM.TfLitePoolParams, opData: TFLM.OpDataPooling },
  ADD: { options: TFLM.TfLiteAddParams, opData: TFLM.OpDataAdd },
  SUB: { options: TFLM.TfLiteSubParams, opData: TFLM.OpDataSub },
  MUL: { options: TFLM.TfLiteMulParams, opData: TFLM.OpDataMul },
  // The golden build's tail holds 16 bytes more per int8 MEAN than one scratch handle: two more handles, as
  // PrepareMinMax requests for its index and axis arrays (inferred from the recording, not read in source).
  MEAN: {
    options: TFLM.TfLiteReducerParams,
    opData: TFLM.OpDataReduce,
    extraScratchRequests: (op, t) => (['int8', 'int16'].includes(t[op.inputs[0]].dtype) ? 2 : 0),
  },
  RESHAPE: { options: TFLM.TfLiteReshapeParams },
  PAD: { opData: TFLM.OpDataPad },
  TRANSPOSE: {},
  QUANTIZE: { opData: TFLM.OpDataQuantizeReference },
  DEQUANTIZE: { opData: TFLM.DequantizeOpData },
  HARD_SWISH: { opData: TFLM.HardSwishParams },
  // Read from source; no shared model runs these under TFLM, so they are not checked against a recording.
  LOGISTIC: { opData: TFLM.OpDataLogistic },
  RELU: { opData: TFLM.ReluOpData },
  SQUEEZE: { options: TFLM.TfLiteSqueezeParams },
  SPLIT: { options: TFLM.TfLiteSplitParams },
  // concatenation.cc Prepare: for int8, a float scale and an int32 zero point per input.
  CONCATENATION: {
    options: TFLM.TfLiteConcatenationParams,
    opData: TFLM.OpDataConcatenation,
    prepare: (op, t) => (t[op.outputs[0]].dtype === 'int8' ? [4 * op.inputs.length, 4 * op.inputs.length] : []),
  },
};

// ---- the replay -------------------------------------------------------------------------------------------------

/**
 * Where a tail allocation is counted: TFLM's RecordingMicroAllocator categories (so a golden `recording.types`
 * entry can be compared), plus three it does not record.
 */
export type TailCategory =
  | 'AllocatorObjects'
  | 'TfLiteEvalTensorData'
  | 'NodeAndRegistrationArray'
  | 'BuiltinData'
  | 'PersistentBufferData'
  | 'ScratchBufferHandles'
  | 'TfLiteTensorVariableBufferData'
  | 'PersistentTfLiteTensorData'
  | 'PersistentTfLiteTensorQuantizationData';

export interface TailAllocation {
  category: TailCategory;
  what: string;
  /** Bytes asked for. */
  requested: number;
  alignment: number;
  /** Bytes the tail moved, alignment padding included (TFLM's "used"). */
  used: number;
  /** How many items the allocation holds (tensors, nodes), as TFLM's recording counts them. */
  count: number;
}

export interface TailCategoryTotal {
  category: TailCategory;
  used: number;
  requested: number;
  count: number;
}

export interface TflmArenaEstimate {
  target: TflmTarget;
  /** TFLM's planned head: activations and kernel scratch buffers (GreedyMemoryPlanner, exact). */
  headBytes: number;
  /** The persistent tail, replayed. */
  tailBytes: number;
  /** head + tail: TFLM's `arena_used_bytes` after AllocateTensors. */
  arenaBytes: number;
  allocations: TailAllocation[];
  categories: TailCategoryTotal[];
  /** Structs whose size differs between the 64-bit and 32-bit ABI, as name: host64 → mcu32 bytes. */
  pointerSizedStructs: string[];
  /** Operators whose kernel this replay does not know: their options and OpData are counted as 0 bytes. */
  unknownKernels: { node: number; op: string }[];
}

/**
 * TFLM's `arena_used_bytes` for `model` on `target`: the planned head plus the persistent tail that
 * MicroInterpreter::AllocateTensors leaves, assuming the application asks for every input and output tensor
 * (as the golden harness does) and a 16-byte-aligned arena.
 */
export function estimateTflmArena(model: Model, target: TflmTarget): TflmArenaEstimate {
  const headRequests = tflmBufferRequests(model);
  const headBytes = planGreedyTflm(headRequests).size;
  const allocations: TailAllocation[] = [];
  let tail = 0;
  const allocate = (category: TailCategory, what: string, requested: number, alignment: number, count = 1) => {
    const before = tail;
    tail = alignTo(tail + requested, alignment);
    allocations.push({ category, what, requested, alignment, used: tail - before, count });
  };
  const allocateStruct = (category: TailCategory, s: CStruct, what = s.name, count = 1) => {
    const { size, align } = structLayout(s, target);
    allocate(category, what, size * count, align, count);
  };

  // 1, 2: the allocator and the per-model tables.
  for (const s of [TFLM.SingleArenaBufferAllocator, TFLM.GreedyMemoryPlanner, TFLM.MicroAllocator, TFLM.MicroBuiltinDataAllocator]) {
    allocateStruct('AllocatorObjects', s);
  }
  allocateStruct('AllocatorObjects', TFLM.SubgraphAllocations, `SubgraphAllocations × ${model.subgraphs.length}`, model.subgraphs.length);
  for (const g of model.subgraphs) {
    allocateStruct('TfLiteEvalTensorData', TFLM.TfLiteEvalTensor, `TfLiteEvalTensor × ${g.tensors.length} (subgraph ${g.index})`, g.tensors.length);
  }
  for (const g of model.subgraphs) {
    allocateStruct('NodeAndRegistrationArray', TFLM.NodeAndRegistration, `NodeAndRegistration × ${g.operators.length} (subgraph ${g.index})`, g.operators.length);
  }

  // 3, 4, 5: builtin options, then Init, then Prepare, each over every operator of every subgraph.
  const unknownKernels: { node: number; op: string }[] = [];
  const operators = model.subgraphs.flatMap((g) => g.operators.map((op) => ({ op, tensors: g.tensors, kernel: KERNELS[op.opName] })));
  for (const { op, kernel } of operators) {
    if (!kernel) unknownKernels.push({ node: op.index, op: op.opName });
    else if (kernel.options) allocateStruct('BuiltinData', kernel.options, `${kernel.options.name} (node ${op.index} ${op.opName})`);
  }
  for (const { op, kernel } of operators) {
    if (!kernel?.opData) continue;
    allocate('PersistentBufferData', `${kernel.opData.name} (node ${op.index} ${op.opName})`, structLayout(kernel.opData, target).size, PERSISTENT_BUFFER_ALIGNMENT);
  }
  for (const { op, tensors, kernel } of operators) {
    for (const bytes of kernel?.prepare?.(op, tensors) ?? []) {
      allocate('PersistentBufferData', `Prepare buffer (node ${op.index} ${op.opName})`, bytes, PERSISTENT_BUFFER_ALIGNMENT);
    }
  }

  // 6: scratch handles (one per request TFLM's planner placed in the head), then variable tensors.
  const scratchRequests =
    headRequests.filter((r) => r.tensor < 0).length +
    operators.reduce((n, { op, tensors, kernel }) => n + (kernel?.extraScratchRequests?.(op, tensors) ?? 0), 0);
  if (scratchRequests > 0) {
    allocateStruct('ScratchBufferHandles', TFLM.ScratchBufferHandle, `ScratchBufferHandle × ${scratchRequests}`, scratchRequests);
  }
  for (const t of model.subgraphs[0].tensors) {
    if (t.isVariable) allocate('TfLiteTensorVariableBufferData', `variable t${t.index}`, byteSize(t), PERSISTENT_BUFFER_ALIGNMENT);
  }

  // 7: the interpreter's persistent input and output tensors.
  const g = model.subgraphs[0];
  for (const [what, list] of [['input', g.inputs], ['output', g.outputs]] as const) {
    allocate('PersistentBufferData', `${what} tensor pointers × ${list.length}`, structLayout(TFLM.TensorPointer, target).size * list.length, PERSISTENT_BUFFER_ALIGNMENT);
    for (const i of list) {
      allocateStruct('PersistentTfLiteTensorData', TFLM.TfLiteTensor, `TfLiteTensor (${what} t${i})`);
      const q = g.tensors[i].quantization;
      if (q && q.scale.length > 0) {
        allocateStruct('PersistentTfLiteTensorQuantizationData', TFLM.TfLiteAffineQuantization, `TfLiteAffineQuantization (${what} t${i})`);
        // TfLiteIntArray of zero points: an int size, then one int per channel.
        allocate('PersistentTfLiteTensorQuantizationData', `zero points (${what} t${i})`, 4 + 4 * q.scale.length, 4);
      }
    }
  }

  return {
    target,
    headBytes,
    tailBytes: tail,
    arenaBytes: headBytes + tail,
    allocations,
    categories: totalsByCategory(allocations),
    pointerSizedStructs: Object.values(TFLM)
      .map((s) => ({ name: s.name, host: structLayout(s, 'host64').size, mcu: structLayout(s, 'mcu32').size }))
      .filter((s) => s.host !== s.mcu)
      .map((s) => `${s.name}: ${s.host} → ${s.mcu}`),
    unknownKernels,
  };
}

function totalsByCategory(allocations: readonly TailAllocation[]): TailCategoryTotal[] {
  const totals = new Map<TailCategory, TailCategoryTotal>();
  for (const a of allocations) {
    const t = totals.get(a.category) ?? { category: a.category, used: 0, requested: 0, count: 0 };
    t.used += a.used;
    t.requested += a.requested;
    t.count += a.count;
    totals.set(a.category, t);
  }
  return [...totals.values()];
}

