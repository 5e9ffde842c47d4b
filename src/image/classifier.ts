// Image classification on top of the interpreter: image in (RGBA bytes or a canvas ImageData), top-K
// {index, label, score} out, score a probability. Browser-safe; file decoding lives in src/node/.
import { allOps } from '../all-ops.js';
import { InputError } from '../errors.js';
import { Interpreter } from '../interpreter.js';
import { alignLabels, readEmbeddedLabels } from '../labels.js';
import type { Subgraph } from '../model.js';
import type { Rounding } from '../quant.js';
import type { OpResolver } from '../resolver.js';
import type { Tensor } from '../tensor.js';
import { imageInputSpec, type ImageInputSpec, type Normalization } from './input-spec.js';
import { DEFAULT_FIT, preprocessImage, type Fit, type RgbaImage } from './preprocess.js';

export interface Prediction {
  /** Output index (class number). */
  index: number;
  /** null when no labels were given and the model embeds none. */
  label: string | null;
  /** Probability, 0..1. */
  score: number;
}

export interface Classification {
  predictions: Prediction[];
  preprocessMs: number;
  invokeMs: number;
}

/**
 * How output values become probabilities:
 * - `model-softmax`: the output comes from SOFTMAX (through reshapes and (de)quantization): dequantized as is;
 * - `model-logistic`: from LOGISTIC: independent per-class probabilities, dequantized as is;
 * - `softmax-applied`: anything else is taken as logits and softmax is applied to the dequantized values.
 */
export type ScoreKind = 'model-softmax' | 'model-logistic' | 'softmax-applied';

export interface ClassifierOptions {
  /** One label per output, or one fewer when output 0 is background (see alignLabels). */
  labels?: readonly string[];
  /** Center crop (default, fraction 0.875) or letterbox. */
  fit?: Fit;
  /** Pixel normalization (p − mean) / std; overrides the model's metadata. Required for float inputs without metadata. */
  normalization?: Normalization;
}

export interface CreateClassifierOptions extends ClassifierOptions {
  /** Kernels; all of ours by default. */
  resolver?: OpResolver;
  rounding?: Rounding;
}

/** Ops that move or requantize values without changing what they mean. */
const PASS_THROUGH = new Set(['RESHAPE', 'SQUEEZE', 'QUANTIZE', 'DEQUANTIZE']);

export class ImageClassifier {
  readonly input: ImageInputSpec;
  readonly output: Tensor;
  readonly classes: number;
  readonly labels: string[] | null;
  /** Where the labels came from: 'caller', or the embedded file's name. */
  readonly labelsSource: string | null;
  readonly scoreKind: ScoreKind;
  readonly fit: Fit;
  private readonly probabilities: Float64Array;

  /**
   * Loads a model for classification. Without `options.labels`, uses the labels file the model's
   * metadata embeds (TENSOR_AXIS_LABELS), if any — reading it may inflate, hence async. Loads with
   * Interpreter.create, which compiles the SIMD kernels asynchronously: a browser's main thread refuses to do it
   * synchronously.
   */
  static async create(model: Uint8Array | ArrayBuffer, options: CreateClassifierOptions = {}): Promise<ImageClassifier> {
    const interpreter = await Interpreter.create(model, { resolver: options.resolver ?? allOps(), rounding: options.rounding });
    if (options.labels) return new ImageClassifier(interpreter, options);
    const embedded = await readEmbeddedLabels(interpreter.model);
    return new ImageClassifier(interpreter, { ...options, labels: embedded?.labels }, embedded?.file);
  }

  /**
   * Wraps an interpreter whose input 0 is an image and output 0 a vector of class scores (create() is the usual
   * way in). `labelsFile` names where options.labels were read from, for people; the caller otherwise.
   */
  constructor(
    readonly interpreter: Interpreter,
    options: ClassifierOptions = {},
    labelsFile?: string,
  ) {
    this.input = imageInputSpec(interpreter.model, interpreter.input(0), 0, options.normalization);
    this.output = interpreter.output(0);
    const nonUnit = this.output.shape.filter((d) => d !== 1);
    if (nonUnit.length > 1 || this.output.size < 2) {
      throw new InputError(`output 0 (${this.output.name}) is ${this.output.describe()}, not a vector of class scores`);
    }
    if (!['uint8', 'int8', 'float32'].includes(this.output.dtype)) {
      throw new InputError(`output 0 (${this.output.name}) is ${this.output.dtype}; class scores must be uint8, int8 or float32`);
    }
    this.classes = this.output.size;
    this.labels = options.labels ? alignLabels(options.labels, this.classes) : null;
    this.labelsSource = options.labels ? (labelsFile ?? 'caller') : null;
    this.scoreKind = scoreKind(interpreter.subgraph, this.output.index);
    this.fit = options.fit ?? DEFAULT_FIT;
    this.probabilities = new Float64Array(this.classes);
  }

  /** Writes the image into the input tensor (the whole pipeline of preprocess.ts). */
  preprocess(image: RgbaImage): void {
    preprocessImage(image, this.input, this.interpreter.input(0).data, this.fit);
  }

  /** Preprocesses, invokes, and returns the K most probable classes, most probable first (ties: lower index). */
  classify(image: RgbaImage, topK = 5): Classification {
    const t0 = performance.now();
    this.preprocess(image);
    const t1 = performance.now();
    this.interpreter.invoke();
    const t2 = performance.now();
    return { predictions: this.top(topK), preprocessMs: t1 - t0, invokeMs: t2 - t1 };
  }

  /** Every class's probability after the last invoke. */
  scores(): Float64Array {
    const out = this.output;
    const p = this.probabilities;
    const raw = out.data as Float32Array | Uint8Array | Int8Array;
    const [scale, zero] = out.dtype === 'float32' ? [1, 0] : [out.scale, out.zeroPoint];
    for (let i = 0; i < p.length; i++) p[i] = scale * (raw[i] - zero);
    if (this.scoreKind === 'softmax-applied') {
      let max = -Infinity;
      for (const v of p) max = Math.max(max, v);
      let sum = 0;
      for (let i = 0; i < p.length; i++) sum += p[i] = Math.exp(p[i] - max);
      for (let i = 0; i < p.length; i++) p[i] /= sum;
    }
    return p;
  }

  /** The K most probable classes of the last invoke. */
  top(k: number): Prediction[] {
    if (!(Number.isInteger(k) && k >= 1)) throw new InputError(`top-K needs a whole number K ≥ 1, got ${k}`);
    const p = this.scores();
    const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b);
    return order.slice(0, k).map((index) => ({ index, label: this.labels ? this.labels[index] : null, score: p[index] }));
  }
}

/** Follows the output back through pass-through ops to the op that computed it. */
export function scoreKind(g: Subgraph, tensor: number): ScoreKind {
  for (let t = tensor; ; ) {
    const producer = g.operators.find((op) => op.outputs.includes(t));
    if (!producer) return 'softmax-applied';
    if (producer.opName === 'SOFTMAX') return 'model-softmax';
    if (producer.opName === 'LOGISTIC') return 'model-logistic';
    if (!PASS_THROUGH.has(producer.opName)) return 'softmax-applied';
    t = producer.inputs[0];
  }
}
