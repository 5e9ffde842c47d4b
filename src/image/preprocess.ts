// Image → input tensor, one documented pipeline (README "Preprocessing"):
//   1. fit:       center crop (fraction f of each side, TF-slim's eval crop, default 0.875) or letterbox
//                 (scale to fit inside the model's size, keep the aspect, pad the rest with `pad`, default 0);
//   2. resize:    bilinear with half-pixel centers while shrinking by at most 2x (or enlarging); area averaging
//                 when shrinking more, so every source pixel counts and a 4000-px photo does not alias
//                 (axisTaps); separable, rows then columns; values stay float64, nothing is rounded yet;
//   3. channels:  RGB as decoded (alpha ignored); for 1-channel models luma Y = 0.299 R + 0.587 G + 0.114 B
//                 (ITU-R BT.601, as PIL's convert('L') and OpenCV's RGB2GRAY);
//   4. values:    the input spec's PixelValues (raw bytes or normalization, see input-spec.ts); integer inputs
//                 round once, here, half away from zero;
//   5. layout:    NHWC, or planar NCHW.
// Runs in browsers: an ImageData is an RgbaImage.
import { ImageFormatError } from '../errors.js';
import type { TensorData } from '../tensor.js';
import type { ImageInputSpec } from './input-spec.js';

/** 8-bit RGBA pixels, rows top to bottom, no row padding: what a canvas ImageData holds. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * How the image becomes the model's input. 'tensor-bytes' skips the pipeline: the image is already the input
 * tensor, one byte per element (TFLM's test images, such as person_detect's, store the int8 tensor's bytes as
 * grayscale pixels), so it must have the model's size and is copied byte for byte.
 */
export type Fit = { mode: 'crop'; fraction: number } | { mode: 'letterbox'; pad: number } | { mode: 'tensor-bytes' };

/** TF-slim's evaluation preprocessing: keep the central 87.5% of each side. */
export const DEFAULT_FIT: Fit = { mode: 'crop', fraction: 0.875 };

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Luma weights (ITU-R BT.601) for 1-channel models. */
export const LUMA = [0.299, 0.587, 0.114] as const;

export function checkImage(image: RgbaImage): void {
  const { width, height, data } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new ImageFormatError(`image size ${width}x${height} is not a positive whole number of pixels`);
  }
  if (data.length !== width * height * 4) {
    throw new ImageFormatError(`a ${width}x${height} RGBA image needs ${width * height * 4} bytes, got ${data.length}`);
  }
}

/**
 * tf.image.central_crop's arithmetic, per side: start = floor((n − n·f) / 2), size = n − 2·start.
 * (512x341 at 0.875: x from 32, 448 wide; y from floor(21.3125) = 21, 299 high.)
 */
export function centralCrop(width: number, height: number, fraction: number): Rect {
  if (!(fraction > 0 && fraction <= 1)) throw new ImageFormatError(`crop fraction ${fraction} is not in (0, 1]`);
  const x = Math.floor((width - width * fraction) / 2);
  const y = Math.floor((height - height * fraction) / 2);
  return { x, y, width: width - 2 * x, height: height - 2 * y };
}

/** Where a width×height image lands inside a boxWidth×boxHeight box when scaled to fit, aspect kept, centered. */
export function letterboxRect(width: number, height: number, boxWidth: number, boxHeight: number): Rect {
  const scale = Math.min(boxWidth / width, boxHeight / height);
  const w = Math.min(boxWidth, Math.max(1, Math.round(width * scale)));
  const h = Math.min(boxHeight, Math.max(1, Math.round(height * scale)));
  return { x: Math.floor((boxWidth - w) / 2), y: Math.floor((boxHeight - h) / 2), width: w, height: h };
}

/** For each output position along one axis: the first source index and the normalized weights of its taps. */
export interface AxisTaps {
  first: Int32Array;
  count: Int32Array;
  /** Weights of output o start at o * stride. */
  weights: Float64Array;
  stride: number;
}

/** Above this shrink factor, bilinear interpolation would skip source pixels: average them instead. */
export const AREA_ABOVE_SCALE = 2;

/**
 * Taps mapping source pixels [start, start + size) onto `out` pixels along one axis, with scale s = size / out.
 * Source pixel j covers [j, j + 1); output o covers [start + o·s, start + (o + 1)·s), centre c = start + (o + 0.5)·s.
 * - s ≤ 2, bilinear with half-pixel centres: the two pixels whose centres j + 0.5 bracket c, weights
 *   1 − |j + 0.5 − c|; a tap outside the source range is dropped and the other renormalized (= clamp to edge).
 *   At s = 2 this is the mean of the two pixels under the output, so it meets the area rule continuously.
 * - s > 2, area averaging (OpenCV's INTER_AREA, TF's resize AREA): every pixel under the output's footprint,
 *   weighted by how much of it lies inside, divided by s. A 4000-px photo going to 224 averages ~18×18 pixels.
 */
export function axisTaps(start: number, size: number, out: number): AxisTaps {
  const s = size / out;
  const stride = s > AREA_ABOVE_SCALE ? Math.ceil(s) + 1 : 2;
  const taps: AxisTaps = { first: new Int32Array(out), count: new Int32Array(out), weights: new Float64Array(out * stride), stride };
  for (let o = 0; o < out; o++) {
    const base = o * stride;
    if (s > AREA_ABOVE_SCALE) {
      const from = start + (o * size) / out;
      const to = start + ((o + 1) * size) / out;
      const first = Math.floor(from);
      const last = Math.min(start + size, Math.ceil(to)) - 1;
      for (let j = first; j <= last; j++) taps.weights[base + j - first] = (Math.min(to, j + 1) - Math.max(from, j)) / s;
      taps.first[o] = first;
      taps.count[o] = last - first + 1;
    } else {
      const c = start + ((o + 0.5) * size) / out;
      const left = Math.floor(c - 0.5);
      const right = c - 0.5 - left; // weight of pixel left + 1
      const lo = Math.max(start, left);
      const hi = Math.min(start + size - 1, left + 1);
      if (lo === hi) taps.weights[base] = 1;
      else [taps.weights[base], taps.weights[base + 1]] = [1 - right, right];
      taps.first[o] = lo;
      taps.count[o] = hi - lo + 1;
    }
  }
  return taps;
}

/**
 * Resamples `from` (a rectangle of the image) to width×height, RGB, float64, 3 values per pixel;
 * alpha is ignored. Separable: rows first, then columns.
 */
export function resizeBilinear(image: RgbaImage, from: Rect, width: number, height: number): Float64Array {
  checkImage(image);
  const xTaps = axisTaps(from.x, from.width, width);
  const yTaps = axisTaps(from.y, from.height, height);
  const src = image.data;
  const rows = new Float64Array(from.height * width * 3);
  for (let y = 0; y < from.height; y++) {
    const rowStart = (from.y + y) * image.width * 4;
    for (let x = 0; x < width; x++) {
      let r = 0, g = 0, b = 0;
      const base = x * xTaps.stride;
      for (let k = 0; k < xTaps.count[x]; k++) {
        const w = xTaps.weights[base + k];
        const p = rowStart + (xTaps.first[x] + k) * 4;
        r += w * src[p];
        g += w * src[p + 1];
        b += w * src[p + 2];
      }
      const o = (y * width + x) * 3;
      rows[o] = r;
      rows[o + 1] = g;
      rows[o + 2] = b;
    }
  }
  const out = new Float64Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const base = y * yTaps.stride;
    for (let k = 0; k < yTaps.count[y]; k++) {
      const w = yTaps.weights[base + k];
      const row = (yTaps.first[y] + k - from.y) * width * 3;
      for (let i = 0; i < width * 3; i++) out[y * width * 3 + i] += w * rows[row + i];
    }
  }
  return out;
}

/**
 * Steps 1–3: the image fitted and resized to the model's size, as float64 pixel values (0..255),
 * `channels` per pixel, NHWC.
 */
export function fitImage(
  image: RgbaImage,
  width: number,
  height: number,
  channels: 1 | 3,
  fit: Exclude<Fit, { mode: 'tensor-bytes' }> = DEFAULT_FIT as { mode: 'crop'; fraction: number },
): Float64Array {
  checkImage(image);
  let rgb: Float64Array;
  if (fit.mode === 'crop') {
    rgb = resizeBilinear(image, centralCrop(image.width, image.height, fit.fraction), width, height);
  } else {
    const box = letterboxRect(image.width, image.height, width, height);
    const inner = resizeBilinear(image, { x: 0, y: 0, width: image.width, height: image.height }, box.width, box.height);
    rgb = new Float64Array(width * height * 3).fill(fit.pad);
    for (let y = 0; y < box.height; y++) {
      rgb.set(inner.subarray(y * box.width * 3, (y + 1) * box.width * 3), ((box.y + y) * width + box.x) * 3);
    }
  }
  if (channels === 3) return rgb;
  const gray = new Float64Array(width * height);
  for (let i = 0; i < gray.length; i++) gray[i] = LUMA[0] * rgb[3 * i] + LUMA[1] * rgb[3 * i + 1] + LUMA[2] * rgb[3 * i + 2];
  return gray;
}

/** TFLite's rounding for quantization (std::round): half away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** Step 4 for one value: pixel value p (0..255) of channel c → tensor element. */
export function pixelToTensorValue(spec: ImageInputSpec, p: number, c: number): number {
  const v = spec.values;
  if (v.kind === 'raw') return spec.dtype === 'uint8' ? roundHalfAway(p) : roundHalfAway(p) - 128;
  const real = (p - v.mean[c]) / v.std[c];
  if (spec.dtype === 'float32') return real;
  const [min, max] = spec.dtype === 'uint8' ? [0, 255] : [-128, 127];
  return Math.min(max, Math.max(min, roundHalfAway(real / spec.scale) + spec.zeroPoint));
}

/** The whole pipeline: writes the image into `target` (the input tensor's data) per `spec`. */
export function preprocessImage(image: RgbaImage, spec: ImageInputSpec, target: TensorData, fit: Fit = DEFAULT_FIT): void {
  const { width, height, channels } = spec;
  if (target.length !== width * height * channels) {
    throw new ImageFormatError(`target holds ${target.length} values, the input needs ${width * height * channels}`);
  }
  if (fit.mode === 'tensor-bytes') {
    copyImageBytes(image, spec, target);
    return;
  }
  const pixels = fitImage(image, width, height, channels, fit);
  const out = target as Float32Array | Int8Array | Uint8Array;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < channels; c++) {
      const at = spec.layout === 'NHWC' ? i * channels + c : c * width * height + i;
      out[at] = pixelToTensorValue(spec, pixels[i * channels + c], c);
    }
  }
}

/**
 * Fit 'tensor-bytes': the image's R (and for 3-channel models G, B) bytes are the tensor's bytes, in the spec's
 * layout. Only for int8/uint8 inputs of exactly the image's size.
 */
function copyImageBytes(image: RgbaImage, spec: ImageInputSpec, target: TensorData): void {
  checkImage(image);
  const { width, height, channels } = spec;
  if (image.width !== width || image.height !== height) {
    throw new ImageFormatError(
      `a tensor-bytes image must be the model's ${width}x${height} input; this one is ${image.width}x${image.height}`,
    );
  }
  if (spec.dtype === 'float32') throw new ImageFormatError('tensor-bytes needs an int8 or uint8 input; this model takes float32');
  const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < channels; c++) {
      bytes[spec.layout === 'NHWC' ? i * channels + c : c * width * height + i] = image.data[i * 4 + c];
    }
  }
}
