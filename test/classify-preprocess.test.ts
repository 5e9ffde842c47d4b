// The preprocessing pipeline (src/image/preprocess.ts, input-spec.ts) against values worked out by hand from
// its documented steps: crop, resize weights, luma, value mapping, layout.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { imageInputSpec, RANGES, type ImageInputSpec } from '../src/image/input-spec.js';
import { axisTaps, centralCrop, fitImage, letterboxRect, preprocessImage, type RgbaImage } from '../src/image/preprocess.js';
import { Interpreter } from '../src/interpreter.js';
import { readModel, type Model } from '../src/model.js';
import { allOps } from '../src/all-ops.js';
import { Tensor } from '../src/tensor.js';
import { readImage } from '../src/node/index.js';
import { readModelBytes, SHARED } from './helpers/shared.js';

const cat = readImage(join(SHARED, 'images/cat.bmp'));

/** The taps of axisTaps as [source index, weight] pairs per output. */
function taps(start: number, size: number, out: number): [number, number][][] {
  const t = axisTaps(start, size, out);
  return Array.from({ length: out }, (_, o) =>
    Array.from({ length: t.count[o] }, (_, k) => [t.first[o] + k, t.weights[o * t.stride + k]] as [number, number]));
}

function image(width: number, height: number, rgb: (x: number, y: number) => number[]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([...rgb(x, y), 255], (y * width + x) * 4);
  return { width, height, data };
}

describe('crop and letterbox geometry', () => {
  it("central crop follows tf.image.central_crop's integer arithmetic", () => {
    // x: (512 − 448) / 2 = 32 → 448 wide; y: (341 − 298.375) / 2 = 21.3125 → 21, 341 − 42 = 299 high.
    expect(centralCrop(512, 341, 0.875)).toEqual({ x: 32, y: 21, width: 448, height: 299 });
    expect(centralCrop(96, 96, 1)).toEqual({ x: 0, y: 0, width: 96, height: 96 });
  });

  it('letterbox keeps the aspect and centres the picture', () => {
    // 512×341 into 224×224: scale 224/512 = 0.4375 → 224 × 149.19 → 149 high, top at floor((224 − 149) / 2) = 37.
    expect(letterboxRect(512, 341, 224, 224)).toEqual({ x: 0, y: 37, width: 224, height: 149 });
    expect(letterboxRect(512, 929, 224, 224)).toEqual({ x: 50, y: 0, width: 123, height: 224 });
  });
});

describe('resize weights', () => {
  it('enlarging: bilinear with half-pixel centres, clamped at the edges', () => {
    // 2 → 4: centres c = 0.25, 0.75, 1.25, 1.75; taps at pixel centres 0.5 and 1.5.
    expect(taps(0, 2, 4)).toEqual([[[0, 1]], [[0, 0.75], [1, 0.25]], [[0, 0.25], [1, 0.75]], [[1, 1]]]);
  });

  it('shrinking by exactly 2 averages the two pixels under each output', () => {
    expect(taps(32, 448, 224).slice(0, 2)).toEqual([[[32, 0.5], [33, 0.5]], [[34, 0.5], [35, 0.5]]]);
  });

  it('shrinking by more than 2 averages the area, partial pixels by their overlap', () => {
    // 5 → 2, s = 2.5: output 0 covers [0, 2.5): pixels 0 and 1 whole, half of 2, each divided by 2.5.
    expect(taps(0, 5, 2)).toEqual([[[0, 0.4], [1, 0.4], [2, 0.2]], [[2, 0.2], [3, 0.4], [4, 0.4]]]);
  });

  it('a 4000-px photo of 1-px stripes comes out flat gray, not aliased', () => {
    // Columns alternate black and white; each output averages ~17.9 columns, so it lies within 255 / 17.9 ≈ 14
    // of 127.5. Sampling two neighbours instead (plain bilinear) would give anything from 0 to 255.
    const stripes = image(4000, 300, (x) => (x % 2 ? [255, 255, 255] : [0, 0, 0]));
    const out = fitImage(stripes, 224, 224, 3, { mode: 'crop', fraction: 1 });
    const [min, max] = out.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
    expect(min).toBeGreaterThan(127.5 - 15);
    expect(max).toBeLessThan(127.5 + 15);
  });
});

describe('cat.bmp → mobilenet_v2_1.0_224_quant input bytes, derived by hand', () => {
  it('three pixels, three channels', () => {
    const interpreter = new Interpreter(readModelBytes('mobilenet_v2_1.0_224_quant.tflite'), { resolver: allOps() });
    const spec = imageInputSpec(interpreter.model, interpreter.input(0));
    expect(spec).toMatchObject({ dtype: 'uint8', layout: 'NHWC', width: 224, height: 224, channels: 3, values: { kind: 'raw' } });
    const input = new Uint8Array(224 * 224 * 3);
    preprocessImage(cat, spec, input);
    const at = (x: number, y: number) => Array.from(input.subarray((y * 224 + x) * 3, (y * 224 + x) * 3 + 3));

    // Crop 0.875 of 512×341: columns 32..479 (448), rows 21..319 (299). Resize to 224×224:
    //   columns, s = 448/224 = 2: output x averages source columns 32 + 2x and 33 + 2x (weights ½, ½);
    //   rows, s = 299/224 ≤ 2, bilinear: centre c = 21 + (y + ½)·299/224, taps floor(c − ½) and the next,
    //   the second weighted c − ½ − floor(c − ½), in 448ths: 149.5/224 = 299/448.
    // Values are uint8 raw bytes, q = round(v) (the model reads (q − 128)/128).
    // Source pixels (R, G, B) read from the file's bottom-up BGR rows, e.g. row 170 col 256 at
    // 138 + (340 − 170)·1536 + 256·3.
    //
    // Pixel (112, 112): c = 21 + 112.5·299/224 = 171.1674 → rows 170 (149/448) and 171 (299/448); columns 256, 257.
    //   row 170: (176, 94, 55) (181, 102, 62) → means 178.5, 98, 58.5
    //   row 171: (180, 98, 58) (182, 101, 61) → means 181, 99.5, 59.5
    //   R (149·178.5 + 299·181) / 448 = 80715.5 / 448 = 180.1685 → 180
    //   G (149·98 + 299·99.5) / 448 = 44352.5 / 448 = 99.0011 → 99
    //   B (149·58.5 + 299·59.5) / 448 = 26507 / 448 = 59.1674 → 59
    expect(at(112, 112)).toEqual([180, 99, 59]);
    // Pixel (0, 0): c = 21 + 0.5·299/224 = 21.6674 → rows 21 (373/448) and 22 (75/448); columns 32, 33.
    //   row 21: (231, 123, 85) (226, 120, 79) → 228.5, 121.5, 82;  row 22: (228, 120, 82) (226, 118, 78) → 227, 119, 80
    //   R (373·228.5 + 75·227) / 448 = 102255.5 / 448 = 228.2489 → 228
    //   G (373·121.5 + 75·119) / 448 = 54244.5 / 448 = 121.0815 → 121
    //   B (373·82 + 75·80) / 448 = 36586 / 448 = 81.6652 → 82
    expect(at(0, 0)).toEqual([228, 121, 82]);
    // Pixel (223, 223): c = 21 + 223.5·299/224 = 319.3326 → rows 318 (75/448) and 319 (373/448); columns 478, 479.
    //   row 318: (181, 165, 134) (181, 166, 135) → 181, 165.5, 134.5;  row 319: (178, 164, 133) (180, 165, 134) → 179, 164.5, 133.5
    //   R (75·181 + 373·179) / 448 = 80342 / 448 = 179.3348 → 179
    //   G (75·165.5 + 373·164.5) / 448 = 73771 / 448 = 164.6674 → 165
    //   B (75·134.5 + 373·133.5) / 448 = 59883 / 448 = 133.6674 → 134
    expect(at(223, 223)).toEqual([179, 165, 134]);
    // The source pixels quoted above are the file's.
    const file = readFileSync(join(SHARED, 'images/cat.bmp'));
    const rgb = (row: number, col: number) => {
      const o = 138 + (340 - row) * 1536 + col * 3;
      return [file[o + 2], file[o + 1], file[o]];
    };
    expect([rgb(170, 256), rgb(170, 257), rgb(171, 256), rgb(171, 257)]).toEqual([[176, 94, 55], [181, 102, 62], [180, 98, 58], [182, 101, 61]]);
  });

  it('the same pixel for an NCHW int8 model with per-channel normalization from the caller', () => {
    // mobilenet_v2_quantized_1x3x224x224: int8 [1,3,224,224], scale 0.018631115555763245, zero point −14.
    // ImageNet normalization: mean (123.675, 116.28, 103.53), std (58.395, 57.12, 57.375).
    // Pixel (112, 112) from above, q = round((v − mean) / std / scale) − 14, planes R, G, B:
    //   R (180.1685 − 123.675) / 58.395 = 0.967438 → / scale = 51.926 → 52 − 14 = 38
    //   G (99.0011 − 116.28) / 57.12 = −0.302501 → −16.236 → −16 − 14 = −30
    //   B (59.1674 − 103.53) / 57.375 = −0.773204 → −41.5007 → −42 − 14 = −56 (half away from zero is not in play:
    //     0.0007 past the half)
    const interpreter = new Interpreter(readModelBytes('mobilenet_v2_quantized_1x3x224x224.tflite'), { resolver: allOps() });
    const spec = imageInputSpec(interpreter.model, interpreter.input(0), 0, { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] });
    expect(spec).toMatchObject({ dtype: 'int8', layout: 'NCHW', channels: 3, zeroPoint: -14, values: { kind: 'normalized', source: 'caller' } });
    const input = new Int8Array(3 * 224 * 224);
    preprocessImage(cat, spec, input);
    const plane = 224 * 224;
    const i = 112 * 224 + 112;
    expect([input[i], input[plane + i], input[2 * plane + i]]).toEqual([38, -30, -56]);
  });

  it('a float input takes (v − mean) / std', () => {
    // mobilenet_v3_small_100_224_int8_ptq_tfhub takes float32 in [0, 1]: --range 0,1 is mean 0, std 255.
    // Pixel (112, 112): R 180.1685 / 255 = 0.706543, G 99.0011 / 255 = 0.388240, B 59.1674 / 255 = 0.232029.
    const interpreter = new Interpreter(readModelBytes('mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite'), { resolver: allOps() });
    const spec = imageInputSpec(interpreter.model, interpreter.input(0), 0, RANGES['0,1']);
    const input = new Float32Array(224 * 224 * 3);
    preprocessImage(cat, spec, input);
    const i = (112 * 224 + 112) * 3;
    expect(Array.from(input.subarray(i, i + 3)).map((v) => v.toFixed(6))).toEqual(['0.706543', '0.388240', '0.232029']);
  });
});

describe('channels, values and layout on small pictures', () => {
  const spec = (over: Partial<ImageInputSpec>): ImageInputSpec => ({
    input: 0, dtype: 'uint8', layout: 'NHWC', height: 2, width: 2, channels: 3, scale: 1 / 128, zeroPoint: 128, values: { kind: 'raw' }, ...over,
  });

  it('grayscale int8: luma 0.299 R + 0.587 G + 0.114 B of the resized pixel, then q = round(Y) − 128', () => {
    // 4×4 → 2×2 halves each side: output (0, 0) averages pixels (0,0) (1,0) (0,1) (1,1):
    //   (200,100,50) (210,90,40) (190,110,60) (180,120,70) → mean (195, 105, 55)
    //   Y = 0.299·195 + 0.587·105 + 0.114·55 = 58.305 + 61.635 + 6.27 = 126.21 → 126 → q = −2.
    // The other quadrants are flat: (10,20,30) → Y = 2.99 + 11.74 + 3.42 = 18.15 → 18 → −110;
    // (255,255,255) → 255 → 127; (0,0,0) → −128.
    const block = [[200, 100, 50], [210, 90, 40], [190, 110, 60], [180, 120, 70]];
    const picture = image(4, 4, (x, y) => (x < 2 && y < 2 ? block[y * 2 + x] : x >= 2 && y < 2 ? [10, 20, 30] : x < 2 ? [255, 255, 255] : [0, 0, 0]));
    const out = new Int8Array(4);
    preprocessImage(picture, spec({ dtype: 'int8', channels: 1, zeroPoint: -1 }), out, { mode: 'crop', fraction: 1 });
    expect(Array.from(out)).toEqual([-2, -110, 127, -128]);
  });

  it('letterbox pads with the pad value before the value mapping', () => {
    // 4×2 into 4×4: scale 1, rows 1–2 hold the picture unchanged, rows 0 and 3 the pad (7).
    const picture = image(4, 2, (x, y) => [x, y, 100]);
    const out = new Uint8Array(4 * 4 * 3);
    preprocessImage(picture, spec({ width: 4, height: 4 }), out, { mode: 'letterbox', pad: 7 });
    const row = (y: number) => Array.from(out.subarray(y * 12, y * 12 + 12));
    expect(row(0)).toEqual(new Array(12).fill(7));
    expect(row(1)).toEqual([0, 0, 100, 1, 0, 100, 2, 0, 100, 3, 0, 100]);
    expect(row(2)).toEqual([0, 1, 100, 1, 1, 100, 2, 1, 100, 3, 1, 100]);
    expect(row(3)).toEqual(new Array(12).fill(7));
  });

  it('int8 quantization clamps and rounds half away from zero', () => {
    // (p − 127.5) / 127.5 / (1/128) + 0 for p = 0 → −128; p = 255 → 128 → clamped 127.
    const s = spec({ dtype: 'int8', width: 2, height: 1, zeroPoint: 0, values: { kind: 'normalized', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], source: 'caller' } });
    const out = new Int8Array(6);
    preprocessImage(image(2, 1, (x) => (x ? [255, 255, 255] : [0, 0, 0])), s, out, { mode: 'crop', fraction: 1 });
    expect(Array.from(out)).toEqual([-128, -128, -128, 127, 127, 127]);
  });
});

describe('where the value mapping comes from', () => {
  const metadataOf = (name: string): Model => readModel(readModelBytes(name));

  it('integer inputs: raw bytes, even when the metadata gives a normalization', () => {
    const model = metadataOf('mobilenet_v2_1.0_224_quant.tflite');
    const t = new Tensor(0, 'image', 'uint8', [1, 224, 224, 3], { scale: Float32Array.of(1 / 128), zeroPoint: [128], quantizedDimension: 0 }, false);
    expect(imageInputSpec(model, t).values).toEqual({ kind: 'raw' });
  });

  it('float inputs: the metadata normalization when present', () => {
    // A float tensor on a model whose TFLITE_METADATA says mean 127.5, std 127.5.
    const model = metadataOf('mobilenet_v2_1.0_224_quant.tflite');
    const t = new Tensor(0, 'image', 'float32', [1, 224, 224, 3], null, false);
    expect(imageInputSpec(model, t).values).toEqual({ kind: 'normalized', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], source: 'metadata' });
  });

  it('float inputs without metadata: an error that says which flag to give', () => {
    const interpreter = new Interpreter(readModelBytes('mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite'), { resolver: allOps() });
    expect(() => imageInputSpec(interpreter.model, interpreter.input(0))).toThrow(InputError);
    expect(() => imageInputSpec(interpreter.model, interpreter.input(0))).toThrow(
      /float32\[1,224,224,3\]: a float input cannot say whether pixels go to \[0,1\] or \[-1,1\].*--range 0,1, --range -1,1 or --mean M --std S/,
    );
  });

  it('non-image inputs and mismatched normalizations are refused', () => {
    const interpreter = new Interpreter(readModelBytes('micro_speech_quantized.tflite'), { resolver: allOps() });
    expect(() => imageInputSpec(interpreter.model, interpreter.input(0))).toThrow(/int8\[1,1960\], not an image/);
    const model = metadataOf('mobilenet_v2_1.0_224_quant.tflite');
    const t = new Tensor(0, 'image', 'float32', [1, 224, 224, 3], null, false);
    expect(() => imageInputSpec(model, t, 0, { mean: [1, 2], std: [1] })).toThrow(/mean has 2 values for 3 channel\(s\)/);
  });
});
