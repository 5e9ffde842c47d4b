// What an image model wants as input, derived from its input tensor (shape, type, quantization) and its
// TFLite metadata, never assumed: size, channel count, layout, and how a pixel byte becomes a tensor value.
import { InputError } from '../errors.js';
import { modelMetadata, type Normalization } from '../metadata.js';
import type { Model } from '../model.js';
import type { Tensor } from '../tensor.js';

export type { Normalization };

/**
 * How a pixel value p (0..255, after resizing) becomes a tensor element.
 * - `raw` (integer inputs): uint8 q = round(p); int8 q = round(p) − 128. A quantized image model's input
 *   scale and zero point already say what real value each byte stands for (mobilenet_v2_1.0_224_quant:
 *   (q − 128) / 128, i.e. [-1, 1)); the converter put the float model's normalization there. int8 is the
 *   uint8 byte shifted by 128, as TFLite shifts values and zero point when it turns a uint8 tensor into int8.
 * - `normalized`: real = (p − mean[c]) / std[c]; float32 inputs take it as is, integer inputs quantize it,
 *   q = clamp(round_half_away(real / scale) + zero_point). Float inputs need it: their tensor cannot say
 *   whether pixels go to [0,1] or [-1,1]. It comes from the caller, else from the model's metadata
 *   (NormalizationOptions), which integer inputs otherwise ignore, as TFLite Support's preprocessor does.
 */
export type PixelValues =
  | { kind: 'raw' }
  | { kind: 'normalized'; mean: number[]; std: number[]; source: 'caller' | 'metadata' };

export interface ImageInputSpec {
  /** Index among the model's inputs. */
  input: number;
  dtype: 'uint8' | 'int8' | 'float32';
  /** NHWC as TFLite models are; NCHW for [1, C, H, W] inputs (models converted from PyTorch). */
  layout: 'NHWC' | 'NCHW';
  height: number;
  width: number;
  /** 3: RGB; 1: grayscale (luma from RGB, see preprocess.ts). */
  channels: 1 | 3;
  scale: number;
  zeroPoint: number;
  values: PixelValues;
}

/** `--range 0,1` and `--range -1,1` as mean and std over pixel bytes. */
export const RANGES: Record<string, Normalization> = {
  '0,1': { mean: [0], std: [255] },
  '-1,1': { mean: [127.5], std: [127.5] },
};

const SUPPORTED_DTYPES = ['uint8', 'int8', 'float32'] as const;

/**
 * Reads input `input` of a model as an image input. `normalization` (from the caller) overrides the
 * model's metadata and the raw mapping; see PixelValues.
 */
export function imageInputSpec(model: Model, tensor: Tensor, input = 0, normalization?: Normalization): ImageInputSpec {
  const what = `input ${input} (${tensor.name}) is ${tensor.describe()}`;
  const dtype = SUPPORTED_DTYPES.find((d) => d === tensor.dtype);
  if (!dtype) throw new InputError(`${what}: image inputs must be uint8, int8 or float32`);
  const [batch, d1, d2, d3] = tensor.shape;
  if (tensor.shape.length !== 4 || batch !== 1) {
    throw new InputError(`${what}, not an image: expected [1, height, width, 1 or 3]`);
  }
  let layout: ImageInputSpec['layout'];
  let height: number, width: number, channels: number;
  if (d3 === 1 || d3 === 3) [layout, height, width, channels] = ['NHWC', d1, d2, d3];
  else if (d1 === 1 || d1 === 3) [layout, height, width, channels] = ['NCHW', d2, d3, d1];
  else throw new InputError(`${what}: expected 1 or 3 channels, in [1, height, width, channels] or [1, channels, height, width]`);
  if (height < 1 || width < 1) throw new InputError(`${what}: empty image size`);

  const metadataNormalization = modelMetadata(model)?.inputs[input]?.normalization ?? null;
  let values: PixelValues;
  if (normalization) values = { kind: 'normalized', ...perChannel(normalization, channels, `${what}: normalization`), source: 'caller' };
  else if (dtype !== 'float32') values = { kind: 'raw' };
  else if (metadataNormalization) {
    values = { kind: 'normalized', ...perChannel(metadataNormalization, channels, `${what}: metadata normalization`), source: 'metadata' };
  } else {
    throw new InputError(
      `${what}: a float input cannot say whether pixels go to [0,1] or [-1,1] and the model has no ` +
        'normalization metadata; give it (CLI: --range 0,1, --range -1,1 or --mean M --std S; API: normalization {mean, std})',
    );
  }
  return { input, dtype, layout, height, width, channels: channels as 1 | 3, scale: tensor.scale, zeroPoint: tensor.zeroPoint, values };
}

function perChannel(n: Normalization, channels: number, what: string): Normalization {
  const expand = (v: readonly number[], name: string) => {
    if (v.length === 1) return new Array<number>(channels).fill(v[0]);
    if (v.length === channels) return [...v];
    throw new InputError(`${what}: ${name} has ${v.length} values for ${channels} channel(s)`);
  };
  const mean = expand(n.mean, 'mean');
  const std = expand(n.std, 'std');
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s !== 0)) {
    throw new InputError(`${what}: mean [${mean}] and std [${std}] must be finite, std non-zero`);
  }
  return { mean, std };
}

/** One line saying how pixels become tensor values for this input, for people. */
export function describeValues(spec: ImageInputSpec): string {
  const v = spec.values;
  if (v.kind === 'raw') {
    const q = spec.dtype === 'uint8' ? 'q = p' : 'q = p − 128';
    return `${q} (raw bytes; the model's scale ${spec.scale} and zero point ${spec.zeroPoint} make that real value ` +
      `${realRange(spec)})`;
  }
  const norm = `(p − ${list(v.mean)}) / ${list(v.std)} from ${v.source === 'caller' ? 'the caller' : 'the model metadata'}`;
  return spec.dtype === 'float32' ? `x = ${norm}` : `q = round(${norm} / ${spec.scale}) + ${spec.zeroPoint}`;
}

function list(v: number[]): string {
  return v.every((x) => x === v[0]) ? String(v[0]) : `[${v.join(', ')}]`;
}

function realRange(spec: ImageInputSpec): string {
  const offset = spec.dtype === 'uint8' ? 0 : -128;
  const real = (p: number) => Number((spec.scale * (p + offset - spec.zeroPoint)).toPrecision(4));
  return `${real(0)}..${real(255)}`;
}
