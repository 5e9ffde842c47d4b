// Typed accessors for the TFLite schema (schema/tflite.fbs): enum values and names, and readers for the
// builtin options tables. Field numbers here are the slot numbers commented in tflite.fbs.
import type { Table } from './flatbuffer.js';

/** TensorType values, by name. */
export const TensorType = {
  FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, COMPLEX64: 8, INT8: 9,
  FLOAT64: 10, COMPLEX128: 11, UINT64: 12, RESOURCE: 13, VARIANT: 14, UINT32: 15, UINT16: 16, INT4: 17, BFLOAT16: 18,
} as const;

/** The dtype names we use for TensorType values, index = enum value. */
export const TENSOR_TYPE_NAMES = [
  'float32', 'float16', 'int32', 'uint8', 'int64', 'string', 'bool', 'int16', 'complex64', 'int8',
  'float64', 'complex128', 'uint64', 'resource', 'variant', 'uint32', 'uint16', 'int4', 'bfloat16',
] as const;
export type DType = (typeof TENSOR_TYPE_NAMES)[number];

/** BuiltinOperator names, index = enum value. */
export const BUILTIN_OPERATOR_NAMES: readonly string[] = [
  'ADD', 'AVERAGE_POOL_2D', 'CONCATENATION', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'DEPTH_TO_SPACE', 'DEQUANTIZE',
  'EMBEDDING_LOOKUP', 'FLOOR', 'FULLY_CONNECTED', 'HASHTABLE_LOOKUP', 'L2_NORMALIZATION', 'L2_POOL_2D',
  'LOCAL_RESPONSE_NORMALIZATION', 'LOGISTIC', 'LSH_PROJECTION', 'LSTM', 'MAX_POOL_2D', 'MUL', 'RELU', 'RELU_N1_TO_1',
  'RELU6', 'RESHAPE', 'RESIZE_BILINEAR', 'RNN', 'SOFTMAX', 'SPACE_TO_DEPTH', 'SVDF', 'TANH', 'CONCAT_EMBEDDINGS',
  'SKIP_GRAM', 'CALL', 'CUSTOM', 'EMBEDDING_LOOKUP_SPARSE', 'PAD', 'UNIDIRECTIONAL_SEQUENCE_RNN', 'GATHER',
  'BATCH_TO_SPACE_ND', 'SPACE_TO_BATCH_ND', 'TRANSPOSE', 'MEAN', 'SUB', 'DIV', 'SQUEEZE',
  'UNIDIRECTIONAL_SEQUENCE_LSTM', 'STRIDED_SLICE', 'BIDIRECTIONAL_SEQUENCE_RNN', 'EXP', 'TOPK_V2', 'SPLIT',
  'LOG_SOFTMAX', 'DELEGATE', 'BIDIRECTIONAL_SEQUENCE_LSTM', 'CAST', 'PRELU', 'MAXIMUM', 'ARG_MAX', 'MINIMUM', 'LESS',
  'NEG', 'PADV2', 'GREATER', 'GREATER_EQUAL', 'LESS_EQUAL', 'SELECT', 'SLICE', 'SIN', 'TRANSPOSE_CONV',
  'SPARSE_TO_DENSE', 'TILE', 'EXPAND_DIMS', 'EQUAL', 'NOT_EQUAL', 'LOG', 'SUM', 'SQRT', 'RSQRT', 'SHAPE', 'POW',
  'ARG_MIN', 'FAKE_QUANT', 'REDUCE_PROD', 'REDUCE_MAX', 'PACK', 'LOGICAL_OR', 'ONE_HOT', 'LOGICAL_AND',
  'LOGICAL_NOT', 'UNPACK', 'REDUCE_MIN', 'FLOOR_DIV', 'REDUCE_ANY', 'SQUARE', 'ZEROS_LIKE', 'FILL', 'FLOOR_MOD',
  'RANGE', 'RESIZE_NEAREST_NEIGHBOR', 'LEAKY_RELU', 'SQUARED_DIFFERENCE', 'MIRROR_PAD', 'ABS', 'SPLIT_V', 'UNIQUE',
  'CEIL', 'REVERSE_V2', 'ADD_N', 'GATHER_ND', 'COS', 'WHERE', 'RANK', 'ELU', 'REVERSE_SEQUENCE', 'MATRIX_DIAG',
  'QUANTIZE', 'MATRIX_SET_DIAG', 'ROUND', 'HARD_SWISH', 'IF', 'WHILE', 'NON_MAX_SUPPRESSION_V4',
  'NON_MAX_SUPPRESSION_V5', 'SCATTER_ND', 'SELECT_V2', 'DENSIFY', 'SEGMENT_SUM', 'BATCH_MATMUL',
  'PLACEHOLDER_FOR_GREATER_OP_CODES', 'CUMSUM', 'CALL_ONCE', 'BROADCAST_TO', 'RFFT2D', 'CONV_3D', 'IMAG', 'REAL',
  'COMPLEX_ABS', 'HASHTABLE', 'HASHTABLE_FIND', 'HASHTABLE_IMPORT', 'HASHTABLE_SIZE', 'REDUCE_ALL',
  'CONV_3D_TRANSPOSE', 'VAR_HANDLE', 'READ_VARIABLE', 'ASSIGN_VARIABLE', 'BROADCAST_ARGS', 'RANDOM_STANDARD_NORMAL',
  'BUCKETIZE', 'RANDOM_UNIFORM', 'MULTINOMIAL', 'GELU', 'DYNAMIC_UPDATE_SLICE', 'RELU_0_TO_1',
  'UNSORTED_SEGMENT_PROD', 'UNSORTED_SEGMENT_MAX', 'UNSORTED_SEGMENT_SUM', 'ATAN2', 'UNSORTED_SEGMENT_MIN', 'SIGN',
  'BITCAST', 'BITWISE_XOR', 'RIGHT_SHIFT', 'STABLEHLO_LOGISTIC', 'STABLEHLO_ADD', 'STABLEHLO_DIVIDE',
  'STABLEHLO_MULTIPLY', 'STABLEHLO_MAXIMUM', 'STABLEHLO_RESHAPE', 'STABLEHLO_CLAMP', 'STABLEHLO_CONCATENATE',
  'STABLEHLO_BROADCAST_IN_DIM', 'STABLEHLO_CONVOLUTION', 'STABLEHLO_SLICE', 'STABLEHLO_CUSTOM_CALL',
  'STABLEHLO_REDUCE', 'STABLEHLO_ABS', 'STABLEHLO_AND', 'STABLEHLO_COSINE', 'STABLEHLO_EXPONENTIAL',
  'STABLEHLO_FLOOR', 'STABLEHLO_LOG', 'STABLEHLO_MINIMUM', 'STABLEHLO_NEGATE', 'STABLEHLO_OR', 'STABLEHLO_POWER',
  'STABLEHLO_REMAINDER', 'STABLEHLO_RSQRT', 'STABLEHLO_SELECT', 'STABLEHLO_SUBTRACT', 'STABLEHLO_TANH',
  'STABLEHLO_SCATTER', 'STABLEHLO_COMPARE', 'STABLEHLO_CONVERT', 'STABLEHLO_DYNAMIC_SLICE',
  'STABLEHLO_DYNAMIC_UPDATE_SLICE', 'STABLEHLO_PAD', 'STABLEHLO_IOTA', 'STABLEHLO_DOT_GENERAL',
  'STABLEHLO_REDUCE_WINDOW', 'STABLEHLO_SORT', 'STABLEHLO_WHILE', 'STABLEHLO_GATHER', 'STABLEHLO_TRANSPOSE',
  'DILATE', 'STABLEHLO_RNG_BIT_GENERATOR', 'REDUCE_WINDOW', 'STABLEHLO_COMPOSITE', 'STABLEHLO_SHIFT_LEFT',
  'STABLEHLO_CBRT', 'STABLEHLO_CASE',
];

export function builtinOperatorName(code: number): string {
  return BUILTIN_OPERATOR_NAMES[code] ?? `BUILTIN_${code}`;
}

/** BuiltinOperator values of the ops we implement, by name. */
export const BuiltinOperator = {
  ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6,
  FULLY_CONNECTED: 9, LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RELU: 19, RELU6: 21, RESHAPE: 22, SOFTMAX: 25,
  CUSTOM: 32, PAD: 34, TRANSPOSE: 39, MEAN: 40, SUB: 41, SQUEEZE: 43, SPLIT: 49, QUANTIZE: 114, HARD_SWISH: 117,
} as const;

/** BuiltinOptions union type ids of the options tables we read. */
export const BuiltinOptionsType = {
  Conv2DOptions: 1, DepthwiseConv2DOptions: 2, Pool2DOptions: 5, FullyConnectedOptions: 8, SoftmaxOptions: 9,
  ConcatenationOptions: 10, AddOptions: 11, ReshapeOptions: 17, MulOptions: 21, ReducerOptions: 27,
  SubOptions: 28, SqueezeOptions: 30, SplitOptions: 35,
} as const;

export const Padding = { SAME: 0, VALID: 1 } as const;

// Builtin options. A missing table reads as all defaults, as TFLM's ParseOpData does.

export interface Conv2DOptions {
  padding: number;
  strideW: number;
  strideH: number;
  activation: number;
  dilationW: number;
  dilationH: number;
}
export function readConv2DOptions(t: Table | null): Conv2DOptions {
  return {
    padding: t?.int8(0) ?? 0,
    strideW: t?.int32(1) ?? 0,
    strideH: t?.int32(2) ?? 0,
    activation: t?.int8(3) ?? 0,
    dilationW: t?.int32(4, 1) ?? 1,
    dilationH: t?.int32(5, 1) ?? 1,
  };
}

export interface DepthwiseConv2DOptions extends Conv2DOptions {
  depthMultiplier: number;
}
export function readDepthwiseConv2DOptions(t: Table | null): DepthwiseConv2DOptions {
  return {
    padding: t?.int8(0) ?? 0,
    strideW: t?.int32(1) ?? 0,
    strideH: t?.int32(2) ?? 0,
    depthMultiplier: t?.int32(3) ?? 0,
    activation: t?.int8(4) ?? 0,
    dilationW: t?.int32(5, 1) ?? 1,
    dilationH: t?.int32(6, 1) ?? 1,
  };
}

export interface Pool2DOptions {
  padding: number;
  strideW: number;
  strideH: number;
  filterWidth: number;
  filterHeight: number;
  activation: number;
}
export function readPool2DOptions(t: Table | null): Pool2DOptions {
  return {
    padding: t?.int8(0) ?? 0,
    strideW: t?.int32(1) ?? 0,
    strideH: t?.int32(2) ?? 0,
    filterWidth: t?.int32(3) ?? 0,
    filterHeight: t?.int32(4) ?? 0,
    activation: t?.int8(5) ?? 0,
  };
}

export interface FullyConnectedOptions {
  activation: number;
  weightsFormat: number;
  keepNumDims: boolean;
}
export function readFullyConnectedOptions(t: Table | null): FullyConnectedOptions {
  return { activation: t?.int8(0) ?? 0, weightsFormat: t?.int8(1) ?? 0, keepNumDims: t?.bool(2) ?? false };
}

export interface SoftmaxOptions {
  beta: number;
}
export function readSoftmaxOptions(t: Table | null): SoftmaxOptions {
  return { beta: t?.float32(0) ?? 0 };
}

export interface ConcatenationOptions {
  axis: number;
  activation: number;
}
export function readConcatenationOptions(t: Table | null): ConcatenationOptions {
  return { axis: t?.int32(0) ?? 0, activation: t?.int8(1) ?? 0 };
}

/** AddOptions, SubOptions and MulOptions: the fused activation is field 0 in all three. */
export interface ActivationOptions {
  activation: number;
}
export function readActivationOptions(t: Table | null): ActivationOptions {
  return { activation: t?.int8(0) ?? 0 };
}

export interface ReshapeOptions {
  newShape: number[] | null;
}
export function readReshapeOptions(t: Table | null): ReshapeOptions {
  return { newShape: t?.int32s(0, 'new_shape') ?? null };
}

export interface ReducerOptions {
  keepDims: boolean;
}
export function readReducerOptions(t: Table | null): ReducerOptions {
  return { keepDims: t?.bool(0) ?? false };
}

export interface SqueezeOptions {
  squeezeDims: number[];
}
export function readSqueezeOptions(t: Table | null): SqueezeOptions {
  return { squeezeDims: t?.int32s(0, 'squeeze_dims') ?? [] };
}

export interface SplitOptions {
  numSplits: number;
}
export function readSplitOptions(t: Table | null): SplitOptions {
  return { numSplits: t?.int32(0) ?? 0 };
}
