// What `classify` and `eval` share: the preprocessing and label options, loading the classifier, and
// finding the images in a folder.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ImageClassifier } from '../image/classifier.js';
import { describeValues, RANGES, type Normalization } from '../image/input-spec.js';
import { DEFAULT_FIT, type Fit } from '../image/preprocess.js';
import { parseLabels } from '../labels.js';
import { single, UsageError, type ParsedArgs } from './args.js';

export const IMAGE_OPTIONS = {
  valued: ['labels', 'top', 'crop', 'mean', 'std', 'range'],
  flags: ['letterbox', 'tensor-bytes', 'json'],
};
export const IMAGE_OPTIONS_USAGE = '[--crop F | --letterbox | --tensor-bytes] [--range 0,1|-1,1 | --mean M --std S]';

/** File names we decode, by extension, when a folder is given. */
const IMAGE_EXTENSION = /\.(jpe?g|png|bmp)$/i;

export function fitOption(args: ParsedArgs): Fit {
  const crop = single(args, 'crop');
  const modes = [crop !== undefined, args.flags.has('letterbox'), args.flags.has('tensor-bytes')].filter(Boolean).length;
  if (modes > 1) throw new UsageError('--crop, --letterbox and --tensor-bytes exclude each other');
  if (args.flags.has('letterbox')) return { mode: 'letterbox', pad: 0 };
  if (args.flags.has('tensor-bytes')) return { mode: 'tensor-bytes' };
  if (crop === undefined) return DEFAULT_FIT;
  const fraction = Number(crop);
  if (!(fraction > 0 && fraction <= 1)) throw new UsageError(`--crop takes a fraction in (0, 1], not "${crop}"`);
  return { mode: 'crop', fraction };
}

export function normalizationOption(args: ParsedArgs): Normalization | undefined {
  const range = single(args, 'range');
  const mean = single(args, 'mean');
  const std = single(args, 'std');
  if (range !== undefined) {
    if (mean !== undefined || std !== undefined) throw new UsageError('--range excludes --mean and --std');
    const n = RANGES[range];
    if (!n) throw new UsageError(`--range is 0,1 or -1,1, not "${range}"`);
    return n;
  }
  if (mean === undefined && std === undefined) return undefined;
  if (mean === undefined || std === undefined) throw new UsageError('--mean and --std go together');
  const numbers = (name: string, text: string) => {
    const values = text.split(',').map(Number);
    if (!values.every(Number.isFinite)) throw new UsageError(`--${name} takes a number or one per channel (R,G,B), not "${text}"`);
    return values;
  };
  return { mean: numbers('mean', mean), std: numbers('std', std) };
}

export function topOption(args: ParsedArgs, fallback: number): number {
  const top = single(args, 'top');
  if (top === undefined) return fallback;
  if (!/^\d+$/.test(top) || Number(top) < 1) throw new UsageError(`--top takes a whole number ≥ 1, not "${top}"`);
  return Number(top);
}

/** The classifier for MODEL with --labels FILE (else the model's embedded labels) and the preprocessing options. */
export async function loadClassifier(modelPath: string, args: ParsedArgs): Promise<ImageClassifier> {
  const labelsPath = single(args, 'labels');
  return ImageClassifier.create(new Uint8Array(readFileSync(modelPath)), {
    labels: labelsPath === undefined ? undefined : parseLabels(readFileSync(labelsPath, 'utf8')),
    fit: fitOption(args),
    normalization: normalizationOption(args),
  });
}

/** Two lines saying what the classifier does with images and scores, for people. */
export function describeClassifier(modelPath: string, c: ImageClassifier): string[] {
  const input = c.interpreter.input(0);
  const colour = c.input.channels === 3 ? 'RGB' : 'grayscale (0.299 R + 0.587 G + 0.114 B)';
  const labels = c.labels ? `labels from ${c.labelsSource === 'caller' ? 'file' : `${c.labelsSource} (embedded)`}` : 'no labels';
  const scores = {
    'model-softmax': "the model's softmax",
    'model-logistic': "the model's logistic",
    'softmax-applied': 'softmax applied to the logits',
  }[c.scoreKind];
  const pipeline =
    c.fit.mode === 'tensor-bytes'
      ? 'the image bytes are the tensor (no crop, resize, channel mixing or normalization)'
      : `${colour}: ${c.fit.mode === 'crop' ? `center crop ${c.fit.fraction}` : `letterbox (pad ${c.fit.pad})`}, ` +
        `resize to ${c.input.width}x${c.input.height}, ${describeValues(c.input)}`;
  return [`model: ${modelPath}: ${c.classes} classes, ${labels}, scores from ${scores}`, `input: ${input.describe()} ${c.input.layout} ${pipeline}`];
}

/** Image paths: files as given; folders expanded to their .jpg/.jpeg/.png/.bmp files, sorted by name. */
export function expandImagePaths(paths: string[]): string[] {
  return paths.flatMap((path) => {
    if (!statSync(path).isDirectory()) return [path];
    const files = readdirSync(path).filter((f) => IMAGE_EXTENSION.test(f)).sort();
    if (files.length === 0) throw new UsageError(`${path} holds no .jpg, .jpeg, .png or .bmp files`);
    return files.map((f) => join(path, f));
  });
}
