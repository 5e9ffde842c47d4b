// Image files → RgbaImage, by content (not by file name): JPEG, PNG, BMP.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ImageFormatError } from '../errors.js';
import { checkImage, type RgbaImage } from '../image/preprocess.js';
import { decodeBmp } from './bmp.js';
import { decodeJpeg } from './jpeg.js';
import { decodePng } from './png.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes JPEG, PNG or BMP bytes; `name` only labels errors. Throws ImageFormatError with one line. */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbaImage {
  let image: RgbaImage;
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) image = decodeJpeg(bytes, name);
  else if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) image = decodePng(bytes, name);
  else if (bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d) image = decodeBmp(bytes, name);
  else {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ImageFormatError(`${name}: not a JPEG, PNG or BMP file (${bytes.length === 0 ? 'empty' : `starts with ${head}`})`);
  }
  checkImage(image);
  return image;
}

/** Reads and decodes an image file. */
export function readImage(path: string): RgbaImage {
  return decodeImage(new Uint8Array(readFileSync(path)), basename(path));
}
