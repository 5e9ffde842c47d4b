// Classifying real photos end to end with the default pipeline: the shared test images on the shared models
// give the classes their credits name (../shared/images/CREDITS.md). One classifier per model.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { ImageClassifier } from '../src/image/classifier.js';
import type { RgbaImage } from '../src/image/preprocess.js';
import { parseLabels } from '../src/labels.js';
import { readImage } from '../src/node/index.js';
import { MODELS, readModelBytes, REPO_ROOT, SHARED } from './helpers/shared.js';

const image = (name: string) => readImage(join(SHARED, 'images', name));
const imagenetLabels = parseLabels(readFileSync(join(MODELS, 'imagenet_labels.txt'), 'utf8'));
const CAT = ['Egyptian cat', 'tabby, tabby cat'];

describe.each([
  // The first two embed their labels (TFLITE_METADATA + appended zip); v3-small has none, so we give the file.
  ['mobilenet_v2_1.0_224_quant.tflite', undefined],
  ['tf2_mobilenet_v2_1.0_224_ptq.tflite', undefined],
  ['v3-small_224_1.0_uint8.tflite', imagenetLabels],
])('%s', (model, labels) => {
  let classifier: ImageClassifier;
  beforeAll(async () => {
    classifier = await ImageClassifier.create(readModelBytes(model), { labels });
  });

  it('cat.bmp is an Egyptian cat or a tabby', () => {
    const { predictions } = classifier.classify(image('cat.bmp'), 5);
    expect(CAT).toContain(predictions[0].label);
    expect(predictions.map((p) => p.index)).toEqual([...predictions].sort((a, b) => b.score - a.score).map((p) => p.index));
  });

  it('grace_hopper.bmp wears a military uniform; scores are probabilities', () => {
    const { predictions } = classifier.classify(image('grace_hopper.bmp'), 3);
    expect(predictions[0]).toMatchObject({ index: 653, label: 'military uniform' });
    // The model's own softmax, uint8 with scale 1/256, dequantized: each score in [0, 1]; the sum falls short of 1
    // by what 1001 outputs lose to rounding, most of the tiny classes landing on 0 (0.79 to 0.96 on these three).
    const scores = classifier.scores();
    expect(scores.every((p) => p >= 0 && p <= 1)).toBe(true);
    const sum = scores.reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThan(0.75);
    expect(sum).toBeLessThan(1.05);
    expect(predictions[0].score).toBeGreaterThan(predictions[1].score);
    expect(predictions[0].score).toBeLessThanOrEqual(1);
  });
});

it('a logits model (NCHW, 1000 classes, no softmax) gets softmax applied and the 1001-line labels shifted', async () => {
  // mobilenet_v2_quantized_1x3x224x224 was converted from PyTorch: ImageNet mean/std normalization, planar
  // input, FULLY_CONNECTED logits for 1000 classes, so line 0 ("background") of imagenet_labels.txt is dropped.
  const classifier = await ImageClassifier.create(readModelBytes('mobilenet_v2_quantized_1x3x224x224.tflite'), {
    labels: imagenetLabels,
    normalization: { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] },
  });
  expect([classifier.scoreKind, classifier.input.layout, classifier.classes]).toEqual(['softmax-applied', 'NCHW', 1000]);
  const { predictions } = classifier.classify(image('cat.bmp'), 3);
  expect(CAT).toContain(predictions[0].label);
  expect(predictions[0].index).toBe(imagenetLabels.indexOf(predictions[0].label!) - 1);
  expect(classifier.scores().reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
});

describe('person_detect', () => {
  // person.bmp and no_person.bmp are TFLM's person_detect test inputs: their pixel bytes are the model's int8
  // input bytes (TFLM's generate_cc_arrays writes the bytes into an int8 array), so the photo itself is each
  // byte XOR 0x80 (viewed as is, the picture has its bright and dark halves swapped). We recover the photo and
  // classify it as anyone would. No crop: the files are already framed at the model's 96×96.
  const photo = (name: string): RgbaImage => {
    const stored = image(name);
    return { ...stored, data: stored.data.map((v, i) => (i % 4 === 3 ? v : v ^ 0x80)) };
  };
  let classifier: ImageClassifier;
  beforeAll(async () => {
    const labels = parseLabels(readFileSync(join(REPO_ROOT, 'test/fixtures/person_detect_labels.txt'), 'utf8'));
    classifier = await ImageClassifier.create(readModelBytes('person_detect.tflite'), { labels, fit: { mode: 'crop', fraction: 1 } });
  });

  it('grayscale 96×96 int8: the recovered photo preprocesses to exactly the bytes TFLM feeds', () => {
    // 96 → 96 is the identity (bilinear weight 1 on the same pixel), luma of a gray pixel is the gray, and
    // q = p − 128 = (byte XOR 0x80) − 128 = the byte read as int8.
    expect(classifier.input).toMatchObject({ dtype: 'int8', width: 96, height: 96, channels: 1, values: { kind: 'raw' } });
    classifier.preprocess(photo('person.bmp'));
    const file = readFileSync(join(SHARED, 'images/person.bmp'));
    const rows = Array.from({ length: 96 }, (_, y) => file.subarray(1078 + (95 - y) * 96, 1078 + (96 - y) * 96)); // bottom-up rows
    const tflmInput = new Int8Array(Buffer.concat(rows));
    expect(Buffer.from(classifier.interpreter.input(0).bytes).equals(Buffer.from(tflmInput.buffer))).toBe(true);
  });

  it('calls person.bmp "person" and no_person.bmp "no person"', () => {
    expect(classifier.classify(photo('person.bmp'), 1).predictions[0].label).toBe('person');
    expect(classifier.classify(photo('no_person.bmp'), 1).predictions[0].label).toBe('no person');
  });
});

it('a float-input model without normalization metadata needs the caller to say it', async () => {
  await expect(ImageClassifier.create(readModelBytes('mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite'))).rejects.toThrow(InputError);
});
