// The same photo stored as BMP, PNG and JPEG (quality 95) classifies the same: decoders and preprocessing
// agree across formats. The PNG and JPEG are written by pngjs and jpeg-js into a temporary folder.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { expect, it } from 'vitest';
import { ImageClassifier } from '../src/image/classifier.js';
import { readImage } from '../src/node/index.js';
import { readModelBytes, SHARED } from './helpers/shared.js';

it('cat as BMP, PNG and JPEG q95: same top-1 on mobilenet_v1_0.25_128_quant', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tflite-int8-formats-'));
  const bmp = readImage(join(SHARED, 'images/cat.bmp'));
  const png = new pngjs.PNG({ width: bmp.width, height: bmp.height });
  png.data = Buffer.from(bmp.data);
  writeFileSync(join(dir, 'cat.png'), pngjs.PNG.sync.write(png));
  writeFileSync(join(dir, 'cat.jpg'), jpeg.encode({ width: bmp.width, height: bmp.height, data: bmp.data }, 95).data);

  const fromPng = readImage(join(dir, 'cat.png'));
  const fromJpeg = readImage(join(dir, 'cat.jpg'));
  expect(Buffer.from(fromPng.data).equals(Buffer.from(bmp.data))).toBe(true); // PNG is lossless
  expect([fromJpeg.width, fromJpeg.height]).toEqual([bmp.width, bmp.height]);

  const classifier = await ImageClassifier.create(readModelBytes('mobilenet_v1_0.25_128_quant.tflite'));
  const top1 = [bmp, fromPng, fromJpeg].map((image) => classifier.classify(image, 1).predictions[0].label);
  expect(['Egyptian cat', 'tabby, tabby cat']).toContain(top1[0]);
  expect(top1).toEqual([top1[0], top1[0], top1[0]]);
});
