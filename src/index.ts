// Public API of tflite-int8. Runs in browsers and Node: nothing here imports Node built-ins.
export { Interpreter, type InterpreterOptions } from './interpreter.js';
export { OpResolver } from './resolver.js';
export { allOps } from './all-ops.js';
export { readModel, type Model, type ModelTensor, type ModelOperator, type Subgraph } from './model.js';
export { summarizeModel, type ModelSummary, type TensorSummary } from './summary.js';
export { Tensor, type DType, type Quantization, type TensorData } from './tensor.js';
export type { OpKernel, Node, PrepareContext } from './op.js';
export type { Rounding } from './quant.js';
export { TfliteInt8Error, ModelFormatError, UnsupportedOpError, NodeError, InputError, ArenaError } from './errors.js';
export * from './kernels.js';
