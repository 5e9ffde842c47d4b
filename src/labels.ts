// Class labels: from a text file (one per line) or from the labels file a model embeds, matched to the
// output's class count.
import { InputError } from './errors.js';
import { associatedFile, modelMetadata } from './metadata.js';
import type { Model } from './model.js';

/** One label per line, line i naming output i; `\r\n` accepted, trailing empty lines dropped. */
export function parseLabels(text: string): string[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  return lines;
}

/**
 * The labels file the model's metadata attaches to output `output` (TENSOR_AXIS_LABELS, the first one
 * without a locale, else the first), read from the archive appended to the model; null when it names none.
 */
export async function readEmbeddedLabels(model: Model, output = 0): Promise<{ file: string; labels: string[] } | null> {
  const files = modelMetadata(model)?.outputs[output]?.associatedFiles.filter((f) => f.type === 'TENSOR_AXIS_LABELS') ?? [];
  const file = files.find((f) => !f.locale) ?? files[0];
  if (!file) return null;
  return { file: file.name, labels: parseLabels(new TextDecoder('utf-8').decode(await associatedFile(model, file.name))) };
}

/**
 * Labels indexed by output position. ImageNet models trained with TF-slim have 1001 outputs, output 0 being
 * "background"; the common 1000-line ImageNet labels files leave it out. So:
 * - as many labels as outputs: label i is output i;
 * - one label fewer: output 0 is background and output i is line i-1;
 * - one label more and the first line is "background" (a 1001-line file on a 1000-class model): line 0 is
 *   dropped, output i is line i+1.
 * Anything else is refused: a shifted mapping names every class wrongly and nothing would show it.
 */
export function alignLabels(labels: readonly string[], classes: number): string[] {
  if (labels.length === classes) return [...labels];
  if (labels.length === classes - 1) return ['background', ...labels];
  if (labels.length === classes + 1 && labels[0].trim().toLowerCase() === 'background') return labels.slice(1);
  throw new InputError(
    `${labels.length} labels for ${classes} model outputs: expected ${classes}, or ${classes - 1} when output 0 is background`,
  );
}
