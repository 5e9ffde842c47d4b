// Public API of tflite-int8. Runs in browsers and Node: nothing here imports Node built-ins.
export {
  Interpreter, defaultKernels, KERNEL_CHOICES, type InterpreterOptions, type ExecutionStep, type KernelChoice,
} from './interpreter.js';
export { freeSpareMemory, hostSupportsSimd } from './wasm/runtime.js';
export { operatorMacs } from './macs.js';
export { profileSteps, type StepProfile } from './profile.js';
export { OpResolver } from './resolver.js';
export { allOps } from './all-ops.js';
export { readModel, type Model, type ModelTensor, type ModelOperator, type Subgraph } from './model.js';
export { summarizeModel, type ModelSummary, type TensorSummary } from './summary.js';
export { Tensor, type DType, type Quantization, type TensorData } from './tensor.js';
export type {
  OpKernel, Node, PrepareContext, KernelTier, InputReuse, SpatialPadding, RowWindow, RowEvaluation,
} from './op.js';
export {
  planMemory, type MemoryPlan, type PlannedBuffer, type MemorySaving, type PlannerName,
} from './memory-plan.js';
export type { Rounding } from './quant.js';
export {
  TfliteInt8Error, ModelFormatError, UnsupportedOpError, UnsupportedFeatureError, NodeError, InputError, ArenaError, ImageFormatError,
} from './errors.js';
export {
  ImageClassifier, scoreKind, type Prediction, type Classification, type ClassifierOptions, type CreateClassifierOptions,
  type ScoreKind,
} from './image/classifier.js';
export { imageInputSpec, describeValues, RANGES, type ImageInputSpec, type PixelValues } from './image/input-spec.js';
export {
  preprocessImage, fitImage, resizeBilinear, axisTaps, centralCrop, letterboxRect, pixelToTensorValue, checkImage,
  DEFAULT_FIT, LUMA, type RgbaImage, type Fit, type Rect, type AxisTaps,
} from './image/preprocess.js';
export { parseLabels, alignLabels, readEmbeddedLabels } from './labels.js';
export {
  modelMetadata, associatedFile, type ModelMetadata, type TensorMetadata, type AssociatedFile, type Normalization,
} from './metadata.js';
export {
  arenaReport, type ArenaReport, type ArenaEstimate, type Budget, type BudgetCheck, type LiveBuffer, type Peak,
  type PlannerReport, type TimelinePoint,
} from './arena-report.js';
export { renderArenaSvg } from './arena-svg.js';
export { estimateTflmArena, type TflmArenaEstimate, type TflmTarget, type TailAllocation, type TailCategory } from './tflm-arena.js';
export * from './kernels.js';
