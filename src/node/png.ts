// PNG through pngjs, which expands every colour type (grayscale, RGB, palette, with or without alpha) to
// 8-bit RGBA and scales 16-bit samples down to 8 bits.
import pngjs from 'pngjs';
import { ImageFormatError } from '../errors.js';
import type { RgbaImage } from '../image/preprocess.js';
import { MAX_PIXELS } from './bmp.js';

export function decodePng(bytes: Uint8Array, name: string): RgbaImage {
  // The size is in IHDR (bytes 16..23): refuse a huge image before pngjs allocates it.
  if (bytes.length >= 24) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const [width, height] = [view.getUint32(16), view.getUint32(20)];
    if (width * height > MAX_PIXELS) throw new ImageFormatError(`${name}: PNG is ${width}x${height}, more than ${MAX_PIXELS} pixels`);
  }
  try {
    const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  } catch (e) {
    throw new ImageFormatError(`${name}: corrupt or unsupported PNG (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
  }
}
