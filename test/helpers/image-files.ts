// Minimal BMP and PNG writers for decoder tests: every variant a test needs, written byte by byte from the
// format specifications, so the expected pixels are known by construction.
import { deflateSync } from 'node:zlib';
import { crc32 } from '../../src/zip.js';

export interface BmpSpec {
  width: number;
  height: number;
  bpp: 1 | 4 | 8 | 16 | 24 | 32;
  /** Rows top to bottom: palette indices (≤ 8 bpp) or packed pixel values (16/32 bpp) or [r, g, b] (24 bpp). */
  rows: (number | readonly number[])[][];
  /** [r, g, b] per entry, for ≤ 8 bpp. */
  palette?: readonly (readonly number[])[];
  /** Write rows top-down (negative height) instead of the usual bottom-up. */
  topDown?: boolean;
  /** BI_BITFIELDS masks [r, g, b] (16/32 bpp). */
  masks?: readonly number[];
  compression?: number;
}

export function encodeBmp(spec: BmpSpec): Uint8Array {
  const { width, height, bpp, rows } = spec;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  const masks = spec.masks ?? [];
  const palette = spec.palette ?? [];
  const pixelOffset = 14 + 40 + masks.length * 4 + palette.length * 4;
  const bytes = new Uint8Array(pixelOffset + stride * height);
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, spec.topDown ? -height : height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bpp, true);
  view.setUint32(30, spec.compression ?? (masks.length > 0 ? 3 : 0), true);
  view.setUint32(46, palette.length, true);
  masks.forEach((m, i) => view.setUint32(54 + 4 * i, m, true));
  palette.forEach(([r, g, b], i) => bytes.set([b, g, r, 0], 54 + masks.length * 4 + 4 * i));
  rows.forEach((row, y) => {
    const at = pixelOffset + (spec.topDown ? y : height - 1 - y) * stride;
    row.forEach((value, x) => {
      if (bpp === 24) {
        const [r, g, b] = value as readonly number[];
        bytes.set([b, g, r], at + 3 * x);
      } else if (bpp === 32) view.setUint32(at + 4 * x, value as number, true);
      else if (bpp === 16) view.setUint16(at + 2 * x, value as number, true);
      else bytes[at + ((x * bpp) >> 3)] |= (value as number) << (8 - bpp - ((x * bpp) & 7));
    });
  });
  return bytes;
}

export interface PngSpec {
  width: number;
  height: number;
  /** 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. */
  colorType: 0 | 2 | 3 | 4 | 6;
  bitDepth: 8 | 16;
  /** Samples row by row, channel by channel (palette: indices). */
  samples: number[];
  palette?: readonly (readonly number[])[];
}

const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as const;

export function encodePng(spec: PngSpec): Uint8Array {
  const { width, height, colorType, bitDepth, samples } = spec;
  const sampleBytes = bitDepth / 8;
  const rowBytes = width * CHANNELS[colorType] * sampleBytes;
  const raw = new Uint8Array(height * (1 + rowBytes));
  const rawView = new DataView(raw.buffer);
  const perRow = width * CHANNELS[colorType];
  for (let y = 0; y < height; y++) {
    for (let i = 0; i < perRow; i++) {
      const at = y * (1 + rowBytes) + 1 + i * sampleBytes; // filter byte 0 (None) leads each row
      if (bitDepth === 16) rawView.setUint16(at, samples[y * perRow + i]);
      else raw[at] = samples[y * perRow + i];
    }
  }
  const ihdr = new Uint8Array(13);
  const ihdrView = new DataView(ihdr.buffer);
  ihdrView.setUint32(0, width);
  ihdrView.setUint32(4, height);
  ihdr.set([bitDepth, colorType, 0, 0, 0], 8);
  const chunks = [chunk('IHDR', ihdr)];
  if (spec.palette) chunks.push(chunk('PLTE', Uint8Array.from(spec.palette.flat())));
  chunks.push(chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0)));
  return concat([Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(Array.from(type, (c) => c.charCodeAt(0)), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A JPEG with an APP1 Exif segment holding only IFD0's Orientation tag, inserted after SOI. */
export function withExifOrientation(jpeg: Uint8Array, orientation: number, byteOrder: 'II' | 'MM' = 'II'): Uint8Array {
  const little = byteOrder === 'II';
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const view = new DataView(tiff.buffer);
  tiff.set(Array.from(byteOrder, (c) => c.charCodeAt(0)));
  view.setUint16(2, 42, little);
  view.setUint32(4, 8, little); // IFD0 right after the header
  view.setUint16(8, 1, little); // one entry
  view.setUint16(10, 0x0112, little); // Orientation
  view.setUint16(12, 3, little); // SHORT
  view.setUint32(14, 1, little); // count
  view.setUint16(18, orientation, little);
  const payload = concat([Uint8Array.from([0x45, 0x78, 0x69, 0x66, 0, 0]), tiff]); // "Exif\0\0"
  const segment = new Uint8Array(4 + payload.length);
  segment.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  segment.set(payload, 4);
  return concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}
