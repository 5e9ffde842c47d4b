// `tflite-int8 classify MODEL IMAGE|DIR... [--labels FILE] [--top K] [--crop F | --letterbox] [--json]`:
// top-K classes per image, with the time each step took. An image that cannot be decoded prints one line on
// stderr and the others still run; the exit code is then 1.
import { basename } from 'node:path';
import type { Prediction } from '../../image/classifier.js';
import { readImage } from '../../node/decode.js';
import { parseArgs, UsageError } from '../args.js';
import { describeError } from '../describe-error.js';
import { describeClassifier, expandImagePaths, IMAGE_OPTIONS, IMAGE_OPTIONS_USAGE, loadClassifier, topOption } from '../image-options.js';

export const usage = `classify MODEL IMAGE|DIR... [--labels FILE] [--top K] ${IMAGE_OPTIONS_USAGE} [--json]`;

interface ImageResult {
  image: string;
  predictions: Prediction[];
  decodeMs: number;
  preprocessMs: number;
  invokeMs: number;
}

export async function classify(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, IMAGE_OPTIONS);
  const [modelPath, ...inputs] = args.positionals;
  if (!modelPath || inputs.length === 0) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const topK = topOption(args, 5);
  const classifier = await loadClassifier(modelPath, args);
  const images = expandImagePaths(inputs);
  const json = args.flags.has('json');

  const results: ImageResult[] = [];
  let failed = 0;
  for (const image of images) {
    const started = performance.now();
    try {
      const pixels = readImage(image);
      const decodeMs = performance.now() - started;
      results.push({ image, decodeMs, ...classifier.classify(pixels, topK) });
    } catch (e) {
      console.error(`tflite-int8 classify: ${describeError(e)}`);
      failed++;
    }
  }

  if (json) {
    out(JSON.stringify(results.map(({ image, predictions }) => ({ image, predictions })), null, 2));
  } else {
    describeClassifier(modelPath, classifier).forEach((line) => out(line));
    out('');
    printTable(results, Math.min(topK, classifier.classes), out);
  }
  return failed > 0 ? 1 : 0;
}

/** Table cells show a label up to its first comma (ImageNet lists synonyms: "tabby, tabby cat"), cut to this width. */
const LABEL_WIDTH = 20;

function printTable(results: ImageResult[], k: number, out: (line: string) => void): void {
  const nameWidth = Math.max(5, ...results.map((r) => basename(r.image).length));
  const cell = (p: Prediction | undefined) => {
    if (!p) return ''.padEnd(LABEL_WIDTH + 7);
    const label = p.label?.split(',')[0] ?? `class ${p.index}`;
    const shown = label.length > LABEL_WIDTH ? `${label.slice(0, LABEL_WIDTH - 1)}…` : label;
    return `${shown.padEnd(LABEL_WIDTH)} ${`${(p.score * 100).toFixed(1)}%`.padStart(6)}`;
  };
  const header = ['image'.padEnd(nameWidth), ...Array.from({ length: k }, (_, i) => `top-${i + 1}`.padEnd(LABEL_WIDTH + 7))];
  out(`${header.join('  ')}  decode  preprocess    invoke`);
  for (const r of results) {
    const cells = [basename(r.image).padEnd(nameWidth), ...Array.from({ length: k }, (_, i) => cell(r.predictions[i]))];
    out(`${cells.join('  ')}  ${ms(r.decodeMs, 6)}  ${ms(r.preprocessMs, 10)}  ${ms(r.invokeMs, 8)}`);
  }
  if (results.length > 1) {
    const mean = (f: (r: ImageResult) => number) => results.reduce((s, r) => s + f(r), 0) / results.length;
    out(`${results.length} images; mean per image: decode ${mean((r) => r.decodeMs).toFixed(0)} ms, ` +
      `preprocess ${mean((r) => r.preprocessMs).toFixed(0)} ms, invoke ${mean((r) => r.invokeMs).toFixed(0)} ms`);
  }
}

function ms(value: number, width: number): string {
  return `${value.toFixed(0)} ms`.padStart(width);
}
