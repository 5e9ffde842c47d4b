// A model's TFLite metadata (the "TFLITE_METADATA" entry, schema/metadata.fbs) and the files it names,
// which the metadata writer appends to the .tflite as a zip archive.
import { readModelMetadata, type ModelMetadata } from '../schema/metadata.js';
import { ModelFormatError } from './errors.js';
import type { Model } from './model.js';
import { extractZipEntry, readZipEntries } from './zip.js';

export type { AssociatedFile, ModelMetadata, Normalization, TensorMetadata } from '../schema/metadata.js';

export const METADATA_NAME = 'TFLITE_METADATA';

/** The model's TFLite metadata, or null when it has none. */
export function modelMetadata(model: Model): ModelMetadata | null {
  const entry = model.metadata.find((m) => m.name === METADATA_NAME);
  return entry ? readModelMetadata(entry.data) : null;
}

/** The bytes of a file packed into the model's appended archive, CRC-checked. */
export async function associatedFile(model: Model, name: string): Promise<Uint8Array> {
  const entry = readZipEntries(model.bytes).get(name);
  if (!entry) throw new ModelFormatError(`metadata names associated file "${name}", which the model's archive does not hold`);
  return extractZipEntry(entry);
}
