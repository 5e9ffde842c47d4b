// The Node edge of tflite-int8 (`tflite-int8/node`): image files in, classifier from a model path.
// The core (`tflite-int8`) takes RGBA pixels and model bytes and runs in browsers; this adds the file system
// and decoders (jpeg-js, pngjs, our BMP reader).
import { readFileSync } from 'node:fs';
import { ImageClassifier, type CreateClassifierOptions } from '../image/classifier.js';

export { decodeImage, readImage } from './decode.js';
export { decodeBmp } from './bmp.js';
export { decodeJpeg, exifOrientation, orient } from './jpeg.js';
export { decodePng } from './png.js';

/** ImageClassifier.create on a model file. */
export function loadImageClassifier(modelPath: string, options: CreateClassifierOptions = {}): Promise<ImageClassifier> {
  return ImageClassifier.create(new Uint8Array(readFileSync(modelPath)), options);
}
