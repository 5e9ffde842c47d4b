// `tflite-int8 eval MODEL DIR --truth CSV [--labels FILE] [--top K] [--json]`: top-1 and top-K accuracy over
// the images the truth file lists (format in ../truth-csv.ts), the most confused classes, and images/second.
// A progress bar with an ETA goes to stderr when it is a terminal.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImage } from '../../node/decode.js';
import { parseArgs, single, UsageError } from '../args.js';
import { describeClassifier, IMAGE_OPTIONS, IMAGE_OPTIONS_USAGE, loadClassifier, topOption } from '../image-options.js';
import { parseTruthCsv } from '../truth-csv.js';

export const usage = `eval MODEL DIR --truth CSV [--labels FILE] [--top K] ${IMAGE_OPTIONS_USAGE} [--json]`;

/** How many confused pairs the report lists. */
const CONFUSIONS_SHOWN = 10;

export async function evaluate(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { ...IMAGE_OPTIONS, valued: [...IMAGE_OPTIONS.valued, 'truth'] });
  const [modelPath, dir] = args.positionals;
  const truthPath = single(args, 'truth');
  if (!modelPath || !dir || args.positionals.length > 2 || !truthPath) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const classifier = await loadClassifier(modelPath, args);
  const k = Math.min(topOption(args, 5), classifier.classes);
  const rows = parseTruthCsv(readFileSync(truthPath, 'utf8'), truthPath, classifier.labels, classifier.classes);
  for (const row of rows) {
    if (!existsSync(join(dir, row.file))) throw new UsageError(`${truthPath} line ${row.line}: ${join(dir, row.file)} does not exist`);
  }
  const name = (index: number) => classifier.labels?.[index] ?? `class ${index}`;

  const progress = process.stderr.isTTY ? new ProgressBar(rows.length) : null;
  const started = performance.now();
  let top1 = 0;
  let topK = 0;
  let [decodeMs, preprocessMs, invokeMs] = [0, 0, 0];
  const confusions = new Map<string, { truth: string; predicted: string; count: number }>();
  const results: { image: string; truth: number; predicted: number; rank: number | null }[] = [];
  for (const row of rows) {
    const t0 = performance.now();
    const image = readImage(join(dir, row.file));
    decodeMs += performance.now() - t0;
    const r = classifier.classify(image, k);
    preprocessMs += r.preprocessMs;
    invokeMs += r.invokeMs;
    const position = r.predictions.findIndex((p) => p.index === row.index);
    const predicted = r.predictions[0].index;
    if (position === 0) top1++;
    if (position >= 0) topK++;
    if (predicted !== row.index) {
      const key = `${row.index}→${predicted}`;
      const entry = confusions.get(key) ?? { truth: name(row.index), predicted: name(predicted), count: 0 };
      entry.count++;
      confusions.set(key, entry);
    }
    results.push({ image: row.file, truth: row.index, predicted, rank: position >= 0 ? position + 1 : null });
    progress?.tick();
  }
  progress?.done();
  const seconds = (performance.now() - started) / 1000;
  const n = rows.length;
  const mostConfused = [...confusions.values()]
    .sort((a, b) => b.count - a.count || (a.truth < b.truth ? -1 : a.truth > b.truth ? 1 : 0))
    .slice(0, CONFUSIONS_SHOWN);

  if (args.flags.has('json')) {
    out(JSON.stringify({
      model: modelPath,
      images: n,
      top1: { correct: top1, accuracy: top1 / n },
      topK: { k, correct: topK, accuracy: topK / n },
      imagesPerSecond: n / seconds,
      confusions: mostConfused,
      results,
    }, null, 2));
    return 0;
  }
  describeClassifier(modelPath, classifier).forEach((line) => out(line));
  out('');
  out(`${n} image${n === 1 ? '' : 's'}: top-1 ${percent(top1, n)} (${top1}/${n}), top-${k} ${percent(topK, n)} (${topK}/${n})`);
  out(`speed: ${(n / seconds).toFixed(2)} images/s; per image: decode ${(decodeMs / n).toFixed(0)} ms, ` +
    `preprocess ${(preprocessMs / n).toFixed(0)} ms, invoke ${(invokeMs / n).toFixed(0)} ms`);
  if (mostConfused.length === 0) out('most confused: none (every top-1 is right)');
  else {
    out('most confused (count  truth → top-1):');
    for (const c of mostConfused) out(`  ${String(c.count).padStart(5)}  ${c.truth} → ${c.predicted}`);
  }
  return 0;
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(1)}%`;
}

/** `[#####-----] 12/50  ETA 38 s` redrawn in place on stderr. */
class ProgressBar {
  private completed = 0;
  private readonly started = performance.now();
  constructor(private readonly total: number) {}

  tick(): void {
    this.completed++;
    const width = 30;
    const filled = Math.round((width * this.completed) / this.total);
    const elapsed = (performance.now() - this.started) / 1000;
    const eta = (elapsed / this.completed) * (this.total - this.completed);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${this.completed}/${this.total}  ETA ${eta.toFixed(0)} s `);
  }

  done(): void {
    process.stderr.write('\r\x1b[K');
  }
}
