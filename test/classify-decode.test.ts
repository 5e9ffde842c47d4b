// Image decoding at the Node edge: every shared image, every BMP/PNG variant we claim, progressive JPEG,
// EXIF orientation, and one clear error line for corrupt or unsupported files.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { ImageFormatError } from '../src/errors.js';
import type { RgbaImage } from '../src/image/preprocess.js';
import { decodeImage, exifOrientation, readImage } from '../src/node/index.js';
import { encodeBmp, encodePng, withExifOrientation } from './helpers/image-files.js';
import { REPO_ROOT, SHARED } from './helpers/shared.js';

const IMAGES = join(SHARED, 'images');
const FIXTURES = join(REPO_ROOT, 'test/fixtures');

function pixel(image: RgbaImage, x: number, y: number): number[] {
  const at = (y * image.width + x) * 4;
  return Array.from(image.data.subarray(at, at + 4));
}

describe('the shared images', () => {
  it.each([
    ['cat.bmp', 512, 341],
    ['grace_hopper.bmp', 512, 600],
    ['parrot.jpg', 512, 929],
    ['owl.jpg', 512, 384],
    ['hot_dog.jpg', 512, 384],
    ['sunflower.png', 512, 340],
    ['bird_rgba.png', 512, 343],
    ['person.bmp', 96, 96],
    ['no_person.bmp', 96, 96],
  ])('%s decodes to %ix%i RGBA, opaque', (file, width, height) => {
    const image = readImage(join(IMAGES, file));
    expect([image.width, image.height, image.data.length]).toEqual([width, height, width * height * 4]);
    expect(image.data.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
  });

  it('24-bit BMP: bottom-up rows, BGR bytes become RGB', () => {
    // cat.bmp: 138-byte header, 512 px × 3 bytes = 1536-byte rows (no padding), last row of the picture first.
    const file = readFileSync(join(IMAGES, 'cat.bmp'));
    const bgr = (x: number, y: number) => {
      const at = 138 + (340 - y) * 1536 + 3 * x;
      return [file[at + 2], file[at + 1], file[at], 255];
    };
    const image = readImage(join(IMAGES, 'cat.bmp'));
    for (const [x, y] of [[0, 0], [511, 0], [0, 340], [511, 340], [256, 170]]) expect(pixel(image, x, y)).toEqual(bgr(x, y));
  });

  it('8-bit grayscale BMP: palette lookup, gray in all three channels', () => {
    // person.bmp: 1078-byte header (40-byte info header + 256 palette entries of 4 bytes), 96-byte rows bottom-up.
    const file = readFileSync(join(IMAGES, 'person.bmp'));
    expect(Array.from(file.subarray(54 + 4 * 200, 54 + 4 * 200 + 3))).toEqual([200, 200, 200]); // identity gray palette
    const image = readImage(join(IMAGES, 'person.bmp'));
    for (const [x, y] of [[0, 0], [95, 0], [40, 50], [95, 95]]) {
      const v = file[1078 + (95 - y) * 96 + x];
      expect(pixel(image, x, y)).toEqual([v, v, v, 255]);
    }
  });

  it('RGBA PNG keeps its channels', () => {
    // First pixels of bird_rgba.png as read with an independent PNG unfilter (Python zlib + Paeth).
    const image = readImage(join(IMAGES, 'bird_rgba.png'));
    expect([pixel(image, 0, 0), pixel(image, 1, 0), pixel(image, 256, 171)]).toEqual([
      [135, 141, 61, 255], [134, 139, 58, 255], [219, 217, 211, 255],
    ]);
  });

  it('the JPEGs say orientation 1 (top-left) or nothing', () => {
    // `file` reports orientation=upper-left for hot_dog.jpg and parrot.jpg; owl.jpg has no Orientation tag.
    for (const f of ['hot_dog.jpg', 'parrot.jpg', 'owl.jpg']) expect(exifOrientation(readFileSync(join(IMAGES, f)))).toBe(1);
  });
});

describe('BMP variants', () => {
  const RGB = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 255, 255]];
  const expected = (rows: number[][][]) => ({ width: rows[0].length, height: rows.length, rows: rows.map((r) => r.map((p) => [...p, 255])) });
  const asRows = (image: RgbaImage) => ({
    width: image.width,
    height: image.height,
    rows: Array.from({ length: image.height }, (_, y) => Array.from({ length: image.width }, (_, x) => pixel(image, x, y))),
  });
  const picture = [[RGB[0], RGB[1], RGB[2]], [RGB[3], RGB[4], RGB[5]]]; // 3×2: 9-byte rows padded to 12

  it.each([false, true])('24-bit, 3 px rows padded to 4 bytes, topDown=%s', (topDown) => {
    const bmp = encodeBmp({ width: 3, height: 2, bpp: 24, rows: picture, topDown });
    expect(asRows(decodeImage(bmp))).toEqual(expected(picture));
  });

  it.each([1, 4, 8] as const)('%i-bit palette', (bpp) => {
    const palette = bpp === 1 ? [RGB[0], RGB[5]] : RGB;
    const indices = bpp === 1 ? [[0, 1, 1], [1, 0, 0]] : [[0, 1, 2], [3, 4, 5]];
    const bmp = encodeBmp({ width: 3, height: 2, bpp, rows: indices, palette });
    expect(asRows(decodeImage(bmp))).toEqual(expected(indices.map((r) => r.map((i) => palette[i]))));
  });

  it('16-bit: X1R5G5B5 by default, R5G6B5 with bit fields; 5 bits v scale to round(v·255/31)', () => {
    // 0x7c00 = red 31, 0x03e0 = green 31, 0x4210 = 16,16,16 → round(16·255/31) = 132.
    const plain = encodeBmp({ width: 3, height: 1, bpp: 16, rows: [[0x7c00, 0x03e0, 0x4210]] });
    expect(asRows(decodeImage(plain))).toEqual(expected([[[255, 0, 0], [0, 255, 0], [132, 132, 132]]]));
    // 565: 0xf800 red 31, 0x07e0 green 63, 0x0410 = green 32 → round(32·255/63) = 130, blue 16 → 132.
    const fields = encodeBmp({ width: 3, height: 1, bpp: 16, rows: [[0xf800, 0x07e0, 0x0410]], masks: [0xf800, 0x07e0, 0x001f] });
    expect(asRows(decodeImage(fields))).toEqual(expected([[[255, 0, 0], [0, 255, 0], [0, 130, 132]]]));
  });

  it('32-bit: BGRX (fourth byte ignored) and bit fields with alpha', () => {
    const bgrx = encodeBmp({ width: 2, height: 1, bpp: 32, rows: [[0x7f102030, 0x00ffffff]] });
    expect(asRows(decodeImage(bgrx))).toEqual(expected([[[0x10, 0x20, 0x30], [255, 255, 255]]]));
    const rgba = encodeBmp({
      width: 1, height: 1, bpp: 32, rows: [[0x11223344]], masks: [0xff000000, 0x00ff0000, 0x0000ff00, 0x000000ff], compression: 6,
    });
    expect(pixel(decodeImage(rgba), 0, 0)).toEqual([0x11, 0x22, 0x33, 0x44]);
  });
});

describe('PNG colour types', () => {
  // 2×1 images; 16-bit samples scale to 8 bits as round(v·255/65535) (pngjs).
  it.each([
    ['gray 8', { colorType: 0, bitDepth: 8, samples: [0, 200] }, [[0, 0, 0, 255], [200, 200, 200, 255]]],
    ['gray 16', { colorType: 0, bitDepth: 16, samples: [0x1234, 0xffff] }, [[18, 18, 18, 255], [255, 255, 255, 255]]],
    ['gray + alpha', { colorType: 4, bitDepth: 8, samples: [10, 20, 30, 40] }, [[10, 10, 10, 20], [30, 30, 30, 40]]],
    ['RGB 8', { colorType: 2, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6] }, [[1, 2, 3, 255], [4, 5, 6, 255]]],
    ['RGB 16', { colorType: 2, bitDepth: 16, samples: [0, 0x8080, 0xffff, 257, 514, 771] }, [[0, 128, 255, 255], [1, 2, 3, 255]]],
    ['RGBA', { colorType: 6, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6, 7, 8] }, [[1, 2, 3, 4], [5, 6, 7, 8]]],
    ['palette', { colorType: 3, bitDepth: 8, samples: [1, 0], palette: [[9, 8, 7], [60, 70, 80]] }, [[60, 70, 80, 255], [9, 8, 7, 255]]],
  ] as const)('%s', (_, spec, pixels) => {
    const image = decodeImage(encodePng({ width: 2, height: 1, ...spec, samples: [...spec.samples] }));
    expect([pixel(image, 0, 0), pixel(image, 1, 0)]).toEqual(pixels);
  });
});

describe('JPEG', () => {
  it('progressive decodes to the same pixels as the baseline it was transcoded from', () => {
    const baseline = readImage(join(FIXTURES, 'gradient-baseline.jpg'));
    const progressive = readImage(join(FIXTURES, 'gradient-progressive.jpg'));
    expect(readFileSync(join(FIXTURES, 'gradient-progressive.jpg')).includes(Buffer.from([0xff, 0xc2]))).toBe(true); // SOF2
    expect([progressive.width, progressive.height]).toEqual([48, 32]);
    expect(Buffer.from(progressive.data).equals(Buffer.from(baseline.data))).toBe(true);
    // And it is the picture: red rises left to right, green top to bottom, blue disc in the middle.
    expect(pixel(progressive, 0, 0)[0]).toBeLessThan(20);
    expect(pixel(progressive, 47, 31)[0]).toBeGreaterThan(235);
    expect(pixel(progressive, 47, 31)[1]).toBeGreaterThan(235);
    expect(pixel(progressive, 24, 16)[2]).toBeGreaterThan(200);
  });

  describe('EXIF orientation', () => {
    // A 32×16 picture in four flat quadrants: top-left red, top-right green, bottom-left blue, bottom-right white.
    const [R, G, B, W] = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]];
    const data = new Uint8Array(32 * 16 * 4);
    for (let y = 0; y < 16; y++) {
      for (let x = 0; x < 32; x++) data.set([...(y < 8 ? (x < 16 ? R : G) : x < 16 ? B : W), 255], (y * 32 + x) * 4);
    }
    const plain = new Uint8Array(jpeg.encode({ width: 32, height: 16, data }, 95).data);
    const quadrants = (image: RgbaImage) => {
      const at = (fx: number, fy: number) => pixel(image, Math.floor(image.width * fx), Math.floor(image.height * fy)).slice(0, 3);
      const nearest = (p: number[]) => [R, G, B, W].find((c) => c.every((v, i) => Math.abs(v - p[i]) < 40));
      return [at(0.25, 0.25), at(0.75, 0.25), at(0.25, 0.75), at(0.75, 0.75)].map(nearest);
    };
    // Display quadrants (TL, TR, BL, BR) by the EXIF 2.3 definitions of the eight orientations.
    it.each([
      [1, [R, G, B, W], 32, 16],
      [2, [G, R, W, B], 32, 16], // mirrored left-right
      [3, [W, B, G, R], 32, 16], // rotated 180°
      [4, [B, W, R, G], 32, 16], // mirrored top-bottom
      [5, [R, B, G, W], 16, 32], // transposed
      [6, [B, R, W, G], 16, 32], // rotated 90° clockwise
      [7, [W, G, B, R], 16, 32], // transversed
      [8, [G, W, R, B], 16, 32], // rotated 90° counter-clockwise
    ])('orientation %i', (orientation, expected, width, height) => {
      const image = decodeImage(withExifOrientation(plain, orientation));
      expect([image.width, image.height]).toEqual([width, height]);
      expect(quadrants(image)).toEqual(expected);
    });

    it('reads big-endian (MM) EXIF too', () => {
      expect(exifOrientation(withExifOrientation(plain, 6, 'MM'))).toBe(6);
    });
  });
});

describe('bad files give one line naming the file', () => {
  const parrot = readFileSync(join(IMAGES, 'parrot.jpg'));
  const sunflower = readFileSync(join(IMAGES, 'sunflower.png'));
  const cat = readFileSync(join(IMAGES, 'cat.bmp'));
  const rle = encodeBmp({ width: 2, height: 1, bpp: 8, rows: [[0, 0]], palette: [[0, 0, 0]], compression: 1 });
  const badCrc = Uint8Array.from(sunflower);
  badCrc[40] ^= 0xff; // inside IHDR's CRC or the first data chunk
  it.each([
    ['empty', new Uint8Array(0), /^x: not a JPEG, PNG or BMP file \(empty\)$/],
    ['GIF', Buffer.from('GIF89a\x01\x00\x01\x00'), /^x: not a JPEG, PNG or BMP file \(starts with 47 49 46 38\)$/],
    ['truncated JPEG', parrot.subarray(0, 2000), /^x: corrupt or unsupported JPEG \(.+\)$/],
    ['truncated PNG', sunflower.subarray(0, 5000), /^x: corrupt or unsupported PNG \(.+\)$/],
    ['PNG with a bad CRC', badCrc, /^x: corrupt or unsupported PNG \(.+\)$/],
    ['truncated BMP', cat.subarray(0, 100_000), /^x: BMP pixel data \(341 rows of 1536 bytes at offset 138\) runs past the 100000-byte file$/],
    ['RLE BMP', rle, /^x: BMP compression RLE8 is not supported$/],
  ])('%s', (_, bytes, message) => {
    let error: unknown;
    try {
      decodeImage(new Uint8Array(bytes), 'x');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ImageFormatError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });
});
