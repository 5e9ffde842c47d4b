// `tflite-int8 classify` and `tflite-int8 eval` as a user runs them: the built bin, real files, exit codes,
// one-line errors. The runs use the two fastest models, person_detect and mobilenet_v1_0.25_128_quant; what
// the ImageNet models answer on these images is checked in classify.test.ts.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ImageClassifier } from '../src/image/classifier.js';
import { parseLabels } from '../src/labels.js';
import { readImage } from '../src/node/index.js';
import { modelPath, readModelBytes, REPO_ROOT, SHARED } from './helpers/shared.js';
import { cli } from './helpers/cli.js';

const IMAGES = join(SHARED, 'images');
const PERSON = modelPath('person_detect.tflite');
const MOBILENET = modelPath('mobilenet_v1_0.25_128_quant.tflite');
const PERSON_LABELS = join(REPO_ROOT, 'test/fixtures/person_detect_labels.txt');

let tmp: string;
let person: ImageClassifier;
let mobilenet: ImageClassifier;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tflite-int8-classify-'));
  person = await ImageClassifier.create(readModelBytes('person_detect.tflite'), {
    labels: parseLabels(readFileSync(PERSON_LABELS, 'utf8')),
  });
  mobilenet = await ImageClassifier.create(readModelBytes('mobilenet_v1_0.25_128_quant.tflite'));
});

describe('tflite-int8 classify', () => {
  it('--json: one entry per image in the order given, the API\'s predictions', () => {
    const images = [join(IMAGES, 'no_person.bmp'), join(IMAGES, 'cat.bmp'), join(IMAGES, 'parrot.jpg')];
    const { status, stdout, stderr } = cli('classify', PERSON, ...images, '--labels', PERSON_LABELS, '--json');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const expected = images.map((image) => ({ image, predictions: person.classify(readImage(image), 5).predictions }));
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(expected[0].predictions.map((p) => p.label).sort()).toEqual(['no person', 'person']); // K capped at 2 classes
  });

  it('a folder expands to its images, sorted by name', () => {
    const { status, stdout } = cli('classify', PERSON, IMAGES, '--labels', PERSON_LABELS, '--json', '--top', '1');
    expect(status).toBe(0);
    expect(JSON.parse(stdout).map((r: { image: string }) => r.image)).toEqual(
      ['bird_rgba.png', 'cat.bmp', 'grace_hopper.bmp', 'hot_dog.jpg', 'no_person.bmp', 'owl.jpg', 'parrot.jpg', 'person.bmp', 'sunflower.png']
        .map((f) => join(IMAGES, f)),
    );
  });

  it('the table: what the pipeline does, then top-K and timings per image', () => {
    const { status, stdout, stderr } = cli('classify', MOBILENET, join(IMAGES, 'grace_hopper.bmp'), '--top', '3');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`model: ${MOBILENET}: 1001 classes, labels from imagenet_labels.txt (embedded), scores from the model's softmax`);
    expect(lines[1]).toBe(
      'input: uint8[1,128,128,3] NHWC RGB: center crop 0.875, resize to 128x128, q = p (raw bytes; the model\'s scale ' +
        '0.0078125 and zero point 128 make that real value -1..0.9922)',
    );
    expect(lines[3]).toMatch(/^image +top-1 +top-2 +top-3 +decode +preprocess +invoke$/);
    // Each cell: the label up to its first comma, the probability in percent.
    const cells = mobilenet.classify(readImage(join(IMAGES, 'grace_hopper.bmp')), 3).predictions
      .map((p) => `${p.label!.split(',')[0].slice(0, 20).padEnd(20)} ${`${(p.score * 100).toFixed(1)}%`.padStart(6)}`);
    expect(lines[4]).toMatch(/^grace_hopper\.bmp {2}(.{27}) {2}(.{27}) {2}(.{27}) +\d+ ms +\d+ ms +\d+ ms$/);
    expect(/^grace_hopper\.bmp {2}(.{27}) {2}(.{27}) {2}(.{27})/.exec(lines[4])!.slice(1)).toEqual(cells);
  });

  it('a bad image prints one line, the others still run, exit 1', () => {
    const bad = join(tmp, 'bad.jpg');
    writeFileSync(bad, readFileSync(join(IMAGES, 'parrot.jpg')).subarray(0, 3000));
    const { status, stdout, stderr } = cli('classify', PERSON, bad, join(IMAGES, 'person.bmp'), '--labels', PERSON_LABELS, '--json');
    expect(status).toBe(1);
    expect(stderr).toMatch(/^tflite-int8 classify: ImageFormatError: bad\.jpg: corrupt or unsupported JPEG \(.+\)\n$/);
    expect(JSON.parse(stdout).map((r: { image: string }) => r.image)).toEqual([join(IMAGES, 'person.bmp')]);
  });

  it.each([
    [['--crop', '1.5'], 2, 'tflite-int8 classify: --crop takes a fraction in (0, 1], not "1.5"'],
    [['--crop', '0.9', '--letterbox'], 2, 'tflite-int8 classify: --crop, --letterbox and --tensor-bytes exclude each other'],
    [['--letterbox', '--tensor-bytes'], 2, 'tflite-int8 classify: --crop, --letterbox and --tensor-bytes exclude each other'],
    [['--range', '0,255'], 2, 'tflite-int8 classify: --range is 0,1 or -1,1, not "0,255"'],
    [['--mean', '127.5'], 2, 'tflite-int8 classify: --mean and --std go together'],
  ])('usage error %j', (options, status, message) => {
    const result = cli('classify', PERSON, join(IMAGES, 'person.bmp'), ...options);
    expect([result.status, result.stderr]).toEqual([status, `${message}\n`]);
  });

  it('--tensor-bytes: TFLM\'s person_detect test images are the int8 tensor, and classify right that way', () => {
    // person.bmp / no_person.bmp hold the int8 input bytes as 8-bit gray pixels (identity palette).
    const result = cli('classify', PERSON, join(IMAGES, 'person.bmp'), join(IMAGES, 'no_person.bmp'),
      '--labels', PERSON_LABELS, '--tensor-bytes', '--top', '1', '--json');
    expect(result.status).toBe(0);
    const top1 = JSON.parse(result.stdout).map((r: { predictions: { label: string }[] }) => r.predictions[0].label);
    expect(top1).toEqual(['person', 'no person']);
    // Not the model's size: refused with one line naming both sizes.
    const wrong = cli('classify', PERSON, join(IMAGES, 'cat.bmp'), '--labels', PERSON_LABELS, '--tensor-bytes');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/must be the model's 96x96 input; this one is 512x341\n$/);
  });

  it('a float model without normalization says which flag to give', () => {
    const { status, stderr } = cli('classify', modelPath('mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite'), join(IMAGES, 'cat.bmp'));
    expect(status).toBe(1);
    expect(stderr).toMatch(/^tflite-int8 classify: InputError: input 0 .* float32\[1,224,224,3\]: a float input cannot say .*--range 0,1, --range -1,1 or --mean M --std S.*\n$/);
  });
});

describe('tflite-int8 eval', () => {
  it('reports top-1, top-K, confusions and speed as computed from the same predictions', () => {
    // Truth by label (one quoted), by index, a comment line; person_detect has two classes, so top-K is top-2.
    const truth = join(tmp, 'person-truth.csv');
    writeFileSync(truth, '# person_detect on the shared images\nperson.bmp,person\nno_person.bmp,"no person"\ncat.bmp,1\ngrace_hopper.bmp,0\n');
    const { status, stdout, stderr } = cli('eval', PERSON, IMAGES, '--truth', truth, '--labels', PERSON_LABELS, '--json');
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const report = JSON.parse(stdout);
    const truthIndex = { 'person.bmp': 1, 'no_person.bmp': 0, 'cat.bmp': 1, 'grace_hopper.bmp': 0 };
    const predicted = Object.keys(truthIndex).map((f) => person.classify(readImage(join(IMAGES, f)), 1).predictions[0].index);
    const right = Object.values(truthIndex).filter((t, i) => predicted[i] === t).length;
    expect(report).toMatchObject({ images: 4, top1: { correct: right, accuracy: right / 4 }, topK: { k: 2, correct: 4, accuracy: 1 } });
    expect(report.results.map((r: { predicted: number }) => r.predicted)).toEqual(predicted);
    const names = ['no person', 'person'];
    const wrong = Object.values(truthIndex).flatMap((t, i) => (predicted[i] === t ? [] : [`${names[t]}→${names[predicted[i]]}`]));
    expect(report.confusions.flatMap((c: { truth: string; predicted: string; count: number }) => new Array(c.count).fill(`${c.truth}→${c.predicted}`)).sort())
      .toEqual(wrong.sort());
    expect(report.imagesPerSecond).toBeGreaterThan(0);
  });

  it('ImageNet labels from the model; the human report', () => {
    // Truth = the model's own top-1 for hot_dog.jpg, and a label it does not give sunflower.png.
    const hotDog = mobilenet.classify(readImage(join(IMAGES, 'hot_dog.jpg')), 5).predictions[0].label!;
    const sunflower = mobilenet.classify(readImage(join(IMAGES, 'sunflower.png')), 5).predictions;
    const wrong = sunflower[0].label === 'military uniform' ? 'tench, Tinca tinca' : 'military uniform';
    const truth = join(tmp, 'imagenet-truth.csv');
    writeFileSync(truth, `filename,label\nhot_dog.jpg,"${hotDog}"\nsunflower.png,${wrong}\n`);
    const { status, stdout, stderr } = cli('eval', MOBILENET, IMAGES, '--truth', truth);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const inTop5 = sunflower.some((p) => p.label === wrong) ? 2 : 1;
    expect(stdout).toContain(`\n2 images: top-1 50.0% (1/2), top-5 ${inTop5 * 50}.0% (${inTop5}/2)\n`);
    expect(stdout).toMatch(/\nspeed: \d+\.\d\d images\/s; per image: decode \d+ ms, preprocess \d+ ms, invoke \d+ ms\n/);
    expect(stdout).toContain(`most confused (count  truth → top-1):\n      1  ${wrong} → ${sunflower[0].label}\n`);
  });

  it.each([
    ['cat.bmp,tabby\n', 'line 1: label "tabby" is not one of the model\'s labels (did you mean "tabby, tabby cat"?)'],
    ['cat.bmp,1001\n', 'line 1: index 1001 is out of range (the model has 1001 outputs)'],
    ['cat.bmp\n', 'line 1: expected two fields, filename,label or filename,index'],
    ['cat.bmp,"tabby\n', 'line 1: unterminated quote'],
  ])('truth %j is refused with its line', (csv, message) => {
    const truth = join(tmp, 'bad-truth.csv');
    writeFileSync(truth, csv);
    const { status, stderr } = cli('eval', MOBILENET, IMAGES, '--truth', truth);
    expect([status, stderr]).toEqual([1, `tflite-int8 eval: InputError: ${truth} ${message}\n`]);
  });

  it('a listed file that is missing is a usage error', () => {
    const truth = join(tmp, 'missing-truth.csv');
    writeFileSync(truth, 'nowhere.png,person\n');
    const { status, stderr } = cli('eval', PERSON, IMAGES, '--truth', truth, '--labels', PERSON_LABELS);
    expect([status, stderr]).toEqual([2, `tflite-int8 eval: ${truth} line 1: ${join(IMAGES, 'nowhere.png')} does not exist\n`]);
  });
});
