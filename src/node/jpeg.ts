// JPEG: pixels from jpeg-js (baseline and progressive, grayscale, RGB, CMYK); the EXIF orientation we read
// ourselves and apply, so a phone photo stored sideways is classified upright.
import jpeg from 'jpeg-js';
import { ImageFormatError } from '../errors.js';
import type { RgbaImage } from '../image/preprocess.js';
import { MAX_PIXELS } from './bmp.js';

export function decodeJpeg(bytes: Uint8Array, name: string): RgbaImage {
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: MAX_PIXELS / 1e6,
      maxMemoryUsageInMB: 2048,
    });
  } catch (e) {
    throw new ImageFormatError(`${name}: corrupt or unsupported JPEG (${oneLine(e)})`);
  }
  if (decoded.width < 1 || decoded.height < 1 || decoded.data.length !== decoded.width * decoded.height * 4) {
    throw new ImageFormatError(`${name}: corrupt JPEG (decoded ${decoded.width}x${decoded.height} from ${decoded.data.length} bytes)`);
  }
  return orient({ width: decoded.width, height: decoded.height, data: decoded.data }, exifOrientation(bytes));
}

function oneLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}

/**
 * The EXIF Orientation tag (0x0112) of a JPEG's APP1 "Exif" segment: 1..8, or 1 when absent or unreadable
 * (a damaged EXIF block should not cost the picture). Walks the marker segments up to the scan; in the
 * TIFF structure reads IFD0 only, in either byte order.
 */
export function exifOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return 1;
    const marker = bytes[at + 1];
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xda || marker === 0xd9) return 1; // start of scan, end of image: no EXIF before them
    const length = view.getUint16(at + 2);
    const start = at + 4;
    const end = at + 2 + length;
    if (length < 2 || end > bytes.length) return 1;
    if (marker === 0xe1 && end - start >= 14 && String.fromCharCode(...bytes.subarray(start, start + 6)) === 'Exif\0\0') {
      return tiffOrientation(view, start + 6, end);
    }
    at = end;
  }
  return 1;
}

function tiffOrientation(view: DataView, tiff: number, end: number): number {
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return 1; // "II" little-endian, "MM" big-endian
  const little = order === 0x4949;
  if (view.getUint16(tiff + 2, little) !== 42) return 1;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > end) return 1;
  const count = view.getUint16(ifd, little);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    if (entry + 12 > end) return 1;
    if (view.getUint16(entry, little) !== 0x0112) continue;
    // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
    if (view.getUint16(entry + 2, little) !== 3) return 1;
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * The image as it should be displayed for an EXIF orientation: 2 mirror, 3 rotate 180°, 4 flip vertically,
 * 5 transpose, 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise. 5–8 swap width and height.
 */
export function orient(image: RgbaImage, orientation: number): RgbaImage {
  if (orientation === 1) return image;
  const { width: w, height: h, data } = image;
  const swap = orientation >= 5;
  const outWidth = swap ? h : w;
  const outHeight = swap ? w : h;
  const out = new Uint8Array(w * h * 4);
  // Source pixel for display pixel (x, y).
  const source: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * w + (w - 1 - x),
    3: (x: number, y: number) => (h - 1 - y) * w + (w - 1 - x),
    4: (x: number, y: number) => (h - 1 - y) * w + x,
    5: (x: number, y: number) => x * w + y,
    6: (x: number, y: number) => (h - 1 - x) * w + y,
    7: (x: number, y: number) => (h - 1 - x) * w + (w - 1 - y),
    8: (x: number, y: number) => x * w + (w - 1 - y),
  }[orientation] ?? ((x: number, y: number) => y * w + x);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const s = source(x, y) * 4;
      out.set(data.subarray(s, s + 4), (y * outWidth + x) * 4);
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}
