// Readers for TFLite metadata (schema/metadata.fbs): the "M001" flatbuffer a model may carry in its
// TFLITE_METADATA entry, read with the same bounds-checked reader as the model. Slot numbers are the ones
// commented in metadata.fbs.
import { ModelFormatError } from '../src/errors.js';
import { FlatBuffer, type Table } from './flatbuffer.js';

/** AssociatedFileType names, index = enum value. */
export const ASSOCIATED_FILE_TYPES = [
  'UNKNOWN', 'DESCRIPTIONS', 'TENSOR_AXIS_LABELS', 'TENSOR_VALUE_LABELS', 'TENSOR_AXIS_SCORE_CALIBRATION',
  'VOCABULARY', 'SCANN_INDEX_FILE',
] as const;

const COLOR_SPACES = ['unknown', 'rgb', 'grayscale'] as const;
const IMAGE_PROPERTIES = 2; // ContentProperties union type id
const NORMALIZATION_OPTIONS = 1; // ProcessUnitOptions union type id

export interface AssociatedFile {
  name: string;
  description: string;
  /** An ASSOCIATED_FILE_TYPES name, or `type <n>` for values newer than this reader. */
  type: string;
  locale: string | null;
}

/** A value x of the tensor's source data becomes (x - mean[c]) / std[c]; one value applies to all channels. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface TensorMetadata {
  name: string;
  description: string;
  /** Set when the tensor's content is an image. */
  colorSpace: (typeof COLOR_SPACES)[number] | null;
  normalization: Normalization | null;
  associatedFiles: AssociatedFile[];
}

export interface ModelMetadata {
  name: string;
  description: string;
  version: string;
  author: string;
  license: string;
  minParserVersion: string;
  /** Subgraph 0's inputs and outputs, in the model's input and output order. */
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  associatedFiles: AssociatedFile[];
}

/** Parses a TFLITE_METADATA buffer. Throws ModelFormatError naming what is malformed. */
export function readModelMetadata(bytes: Uint8Array): ModelMetadata {
  const fb = new FlatBuffer(bytes);
  const identifier = fb.identifier();
  if (identifier !== 'M001') {
    throw new ModelFormatError(`TFLITE_METADATA: identifier is ${JSON.stringify(identifier)}, expected "M001"`);
  }
  const root = fb.root('TFLITE_METADATA');
  const subgraph = root.tables(3, 'subgraph_metadata', (i) => `TFLITE_METADATA subgraph ${i}`)[0];
  const tensors = (slot: number, kind: string) =>
    subgraph ? subgraph.tables(slot, `${kind}_tensor_metadata`, (i) => `TFLITE_METADATA ${kind} ${i}`).map(readTensor) : [];
  return {
    name: root.string(0, 'name') ?? '',
    description: root.string(1, 'description') ?? '',
    version: root.string(2, 'version') ?? '',
    author: root.string(4, 'author') ?? '',
    license: root.string(5, 'license') ?? '',
    minParserVersion: root.string(7, 'min_parser_version') ?? '',
    inputs: tensors(2, 'input'),
    outputs: tensors(3, 'output'),
    associatedFiles: readAssociatedFiles(root, 6),
  };
}

function readTensor(t: Table): TensorMetadata {
  const content = t.table(3, `${t.where} content`);
  const imageProperties = content && content.uint8(0) === IMAGE_PROPERTIES ? content.table(1, `${t.where} image properties`) : null;
  let normalization: Normalization | null = null;
  for (const unit of t.tables(4, 'process_units', (i) => `${t.where} process unit ${i}`)) {
    if (unit.uint8(0) !== NORMALIZATION_OPTIONS) continue;
    const options = unit.table(1, `${unit.where} normalization`);
    if (options) normalization = readNormalization(options);
  }
  return {
    name: t.string(0, 'name') ?? '',
    description: t.string(1, 'description') ?? '',
    colorSpace: imageProperties ? (COLOR_SPACES[imageProperties.int8(0)] ?? 'unknown') : null,
    normalization,
    associatedFiles: readAssociatedFiles(t, 6),
  };
}

function readNormalization(t: Table): Normalization {
  const mean = Array.from(t.float32s(0, 'mean') ?? []);
  const std = Array.from(t.float32s(1, 'std') ?? []);
  if (mean.length === 0 || std.length === 0) throw new ModelFormatError(`${t.where}: mean and std must both be given`);
  if (!mean.every(Number.isFinite) || !std.every((s) => Number.isFinite(s) && s !== 0)) {
    throw new ModelFormatError(`${t.where}: mean [${mean}] and std [${std}] must be finite, std non-zero`);
  }
  return { mean, std };
}

function readAssociatedFiles(t: Table, slot: number): AssociatedFile[] {
  return t.tables(slot, 'associated_files', (i) => `${t.where} associated file ${i}`).map((f) => {
    const type = f.int8(2);
    return {
      name: f.string(0, 'name') ?? '',
      description: f.string(1, 'description') ?? '',
      type: ASSOCIATED_FILE_TYPES[type] ?? `type ${type}`,
      locale: f.string(3, 'locale'),
    };
  });
}
