// A small BMP reader: uncompressed 1/4/8-bit palette, 16-bit (5-5-5 or bit fields), 24-bit and 32-bit
// (BGRX or bit fields) images; bottom-up (positive height) and top-down (negative height) rows; rows padded
// to 4 bytes. BMP stores blue, green, red: the result is RGBA. RLE and embedded JPEG/PNG are refused.
import { ImageFormatError } from '../errors.js';
import type { RgbaImage } from '../image/preprocess.js';

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };
/** Refuse before allocating: larger than any photo we mean to classify, and than jpeg-js's own 100 MP default. */
export const MAX_PIXELS = 100_000_000;

export function decodeBmp(bytes: Uint8Array, name: string): RgbaImage {
  const fail = (what: string): never => {
    throw new ImageFormatError(`${name}: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) fail('not a BMP file');
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (14 + Math.max(headerSize, 12) > bytes.length) fail(`BMP header of ${headerSize} bytes runs past the ${bytes.length}-byte file`);
  let width: number, height: number, bpp: number, compression = BI_RGB, paletteSize = 0, paletteEntry = 4;
  if (headerSize === 12) {
    // OS/2 BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries.
    width = view.getUint16(18, true);
    height = view.getInt16(20, true);
    bpp = view.getUint16(24, true);
    paletteEntry = 3;
  } else if (headerSize >= 40) {
    width = view.getInt32(18, true);
    height = view.getInt32(22, true);
    bpp = view.getUint16(28, true);
    compression = view.getUint32(30, true);
    paletteSize = view.getUint32(46, true);
  } else {
    return fail(`unsupported BMP header size ${headerSize}`);
  }
  const topDown = height < 0;
  height = Math.abs(height);
  if (width <= 0 || height <= 0) fail(`BMP size ${width}x${height} is empty`);
  if (width * height > MAX_PIXELS) fail(`BMP is ${width}x${height}, more than ${MAX_PIXELS} pixels`);
  if (compression in COMPRESSION_NAMES) fail(`BMP compression ${COMPRESSION_NAMES[compression]} is not supported`);
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    fail(`unknown BMP compression ${compression}`);
  }

  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (pixelOffset + stride * height > bytes.length) {
    fail(`BMP pixel data (${height} rows of ${stride} bytes at offset ${pixelOffset}) runs past the ${bytes.length}-byte file`);
  }
  const rgba = new Uint8Array(width * height * 4);
  const rowStart = (y: number) => pixelOffset + (topDown ? y : height - 1 - y) * stride;

  if (bpp === 1 || bpp === 4 || bpp === 8) {
    if (compression !== BI_RGB) fail(`BMP with ${bpp} bits per pixel must be uncompressed`);
    const entries = paletteSize || 1 << bpp;
    const paletteStart = 14 + headerSize;
    if (entries > 1 << bpp || paletteStart + entries * paletteEntry > pixelOffset) {
      fail(`BMP palette of ${entries} entries does not fit before the pixel data`);
    }
    const mask = (1 << bpp) - 1;
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const bit = x * bpp;
        const index = (bytes[row + (bit >> 3)] >> (8 - bpp - (bit & 7))) & mask;
        if (index >= entries) fail(`BMP pixel (${x}, ${y}) uses palette entry ${index} of ${entries}`);
        const p = paletteStart + index * paletteEntry;
        const o = (y * width + x) * 4;
        rgba[o] = bytes[p + 2];
        rgba[o + 1] = bytes[p + 1];
        rgba[o + 2] = bytes[p];
        rgba[o + 3] = 255;
      }
    }
    return { width, height, data: rgba };
  }

  if (bpp === 24) {
    if (compression !== BI_RGB) fail('24-bit BMP must be uncompressed');
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const p = row + x * 3;
        const o = (y * width + x) * 4;
        rgba[o] = bytes[p + 2];
        rgba[o + 1] = bytes[p + 1];
        rgba[o + 2] = bytes[p];
        rgba[o + 3] = 255;
      }
    }
    return { width, height, data: rgba };
  }

  if (bpp === 16 || bpp === 32) {
    // Masks follow a 40-byte header (BI_BITFIELDS: 3, BI_ALPHABITFIELDS: 4) or sit inside larger headers.
    // Without them: 16-bit is X1R5G5B5; 32-bit is BGRX with the fourth byte unused (opaque).
    let masks = bpp === 16 ? [0x7c00, 0x03e0, 0x001f, 0] : [0xff0000, 0xff00, 0xff, 0];
    if (compression !== BI_RGB) {
      const count = compression === BI_ALPHABITFIELDS || headerSize >= 56 ? 4 : 3;
      if (14 + 40 + count * 4 > bytes.length) fail('BMP bit-field masks run past the end of the file');
      masks = [0, 1, 2, 3].map((i) => (i < count ? view.getUint32(54 + 4 * i, true) : 0));
    }
    const channels = masks.map(maskChannel);
    const bytesPerPixel = bpp / 8;
    for (let y = 0; y < height; y++) {
      const row = rowStart(y);
      for (let x = 0; x < width; x++) {
        const p = row + x * bytesPerPixel;
        const value = bpp === 16 ? view.getUint16(p, true) : view.getUint32(p, true);
        const o = (y * width + x) * 4;
        for (let c = 0; c < 3; c++) rgba[o + c] = channels[c](value);
        rgba[o + 3] = masks[3] ? channels[3](value) : 255;
      }
    }
    return { width, height, data: rgba };
  }
  return fail(`BMP with ${bpp} bits per pixel is not supported`);
}

/** Extracts a channel under `mask` and scales it to 0..255 (5 bits v → round(v · 255 / 31)). */
function maskChannel(mask: number): (value: number) => number {
  if (mask === 0) return () => 0;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const max = mask >>> shift;
  return (value) => Math.round((((value & mask) >>> shift) * 255) / max);
}
