// TFLite metadata (normalization, embedded labels), the zip archive appended to a model, labels files and
// their alignment with the outputs, and how scores are recognised as probabilities or logits.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readModelMetadata } from '../schema/metadata.js';
import { InputError, ModelFormatError } from '../src/errors.js';
import { scoreKind } from '../src/image/classifier.js';
import { alignLabels, parseLabels, readEmbeddedLabels } from '../src/labels.js';
import { modelMetadata } from '../src/metadata.js';
import { readModel } from '../src/model.js';
import { crc32, extractZipEntry, readZipEntries } from '../src/zip.js';
import { concat } from './helpers/image-files.js';
import { MODELS, readModelBytes } from './helpers/shared.js';

const imagenetLabels = readFileSync(join(MODELS, 'imagenet_labels.txt'), 'utf8').split('\n').filter((l) => l !== '');

describe('TFLITE_METADATA', () => {
  it('mobilenet_v2_1.0_224_quant: RGB image input normalized (x − 127.5) / 127.5, labels attached to the output', () => {
    const metadata = modelMetadata(readModel(readModelBytes('mobilenet_v2_1.0_224_quant.tflite')));
    expect(metadata).toMatchObject({ name: 'ImageClassifier', minParserVersion: '1.0.0' });
    expect(metadata?.inputs).toEqual([{
      name: 'image', description: 'Input image to be classified.', colorSpace: 'rgb',
      normalization: { mean: [127.5], std: [127.5] }, associatedFiles: [],
    }]);
    expect(metadata?.outputs[0].associatedFiles).toEqual([{
      name: 'imagenet_labels.txt', description: 'Labels for categories that the model can recognize.', type: 'TENSOR_AXIS_LABELS', locale: null,
    }]);
  });

  it('models without it give null', () => {
    expect(modelMetadata(readModel(readModelBytes('person_detect.tflite')))).toBeNull();
  });

  it('a buffer that is not M001 is refused', () => {
    const bytes = Uint8Array.from(readModel(readModelBytes('mobilenet_v2_1.0_224_quant.tflite')).metadata.find((m) => m.name === 'TFLITE_METADATA')!.data);
    bytes.set([0x4e, 0x4f, 0x50, 0x45], 4); // "NOPE"
    expect(() => readModelMetadata(bytes)).toThrow(new ModelFormatError('TFLITE_METADATA: identifier is "NOPE", expected "M001"'));
  });
});

describe('the archive appended to a model', () => {
  it('lists the labels file as unzip does (stored, 21686 bytes, CRC 487a3114)', () => {
    const entries = readZipEntries(readModelBytes('mobilenet_v2_1.0_224_quant.tflite'));
    expect([...entries.keys()]).toEqual(['imagenet_labels.txt']);
    expect(entries.get('imagenet_labels.txt')).toMatchObject({ method: 0, size: 21686, crc32: 0x487a3114 });
  });

  it.each(['mobilenet_v2_1.0_224_quant.tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite', 'mobilenet_v1_0.25_128_quant.tflite'])(
    '%s embeds the 1001 ImageNet labels',
    async (name) => {
      const embedded = await readEmbeddedLabels(readModel(readModelBytes(name)));
      expect(embedded?.file).toBe('imagenet_labels.txt');
      expect(embedded?.labels).toEqual(imagenetLabels);
    },
  );

  it('a model without metadata embeds no labels', async () => {
    expect(await readEmbeddedLabels(readModel(readModelBytes('v3-small_224_1.0_uint8.tflite')))).toBeNull();
  });

  // A zip written after some other bytes, with offsets counted from the zip's own start.
  function zipAfter(prefix: Uint8Array, name: string, text: string, options: { deflate: boolean; size?: number; crc?: number }): Uint8Array {
    const data = new TextEncoder().encode(text);
    const stored = options.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const nameBytes = new TextEncoder().encode(name);
    const header = (signature: number, size: number) => {
      const h = new Uint8Array(size);
      new DataView(h.buffer).setUint32(0, signature, true);
      return h;
    };
    const fill = (view: DataView, at: number) => {
      view.setUint16(at, options.deflate ? 8 : 0, true); // method
      view.setUint32(at + 6, options.crc ?? crc32(data), true);
      view.setUint32(at + 10, stored.length, true);
      view.setUint32(at + 14, options.size ?? data.length, true);
      view.setUint16(at + 18, nameBytes.length, true);
    };
    const local = header(0x04034b50, 30);
    fill(new DataView(local.buffer), 8);
    const central = header(0x02014b50, 46);
    fill(new DataView(central.buffer), 10);
    new DataView(central.buffer).setUint32(42, 0, true); // local header at the zip's start
    const directoryOffset = 30 + nameBytes.length + stored.length;
    const end = header(0x06054b50, 22);
    const endView = new DataView(end.buffer);
    endView.setUint16(8, 1, true);
    endView.setUint16(10, 1, true);
    endView.setUint32(12, 46 + nameBytes.length, true);
    endView.setUint32(16, directoryOffset, true);
    return concat([prefix, local, nameBytes, stored, central, nameBytes, end]);
  }
  const prefix = readModelBytes('person_detect.tflite');
  const text = 'no person\nperson\n'.repeat(50);

  it('inflates deflated entries and finds a zip whose offsets start after the model', async () => {
    const entry = readZipEntries(zipAfter(prefix, 'labels.txt', text, { deflate: true })).get('labels.txt')!;
    expect(entry.method).toBe(8);
    expect(entry.stored.length).toBeLessThan(text.length);
    expect(new TextDecoder().decode(await extractZipEntry(entry))).toBe(text);
  });

  it('refuses a CRC mismatch, an entry that inflates past its size, and data past the end', async () => {
    const badCrc = readZipEntries(zipAfter(prefix, 'a.txt', text, { deflate: false, crc: 1 })).get('a.txt')!;
    await expect(extractZipEntry(badCrc)).rejects.toThrow(new ModelFormatError('appended zip archive: a.txt fails its CRC-32 check'));
    const bomb = readZipEntries(zipAfter(prefix, 'b.txt', text, { deflate: true, size: 10 })).get('b.txt')!;
    await expect(extractZipEntry(bomb)).rejects.toThrow(/b\.txt inflates past the 10 bytes its header says/);
    const whole = zipAfter(prefix, 'c.txt', text, { deflate: false });
    const cut = concat([whole.subarray(0, prefix.length + 40), whole.subarray(whole.length - 46 - 5 - 22)]);
    expect(() => readZipEntries(cut)).toThrow(ModelFormatError);
  });
});

describe('labels', () => {
  it('one per line; CRLF, a byte-order mark and trailing blank lines are tolerated', () => {
    expect(parseLabels('\uFEFFno person\r\nperson\r\n\r\n')).toEqual(['no person', 'person']);
  });

  it('align with the outputs: equal, background missing, background extra', () => {
    expect(alignLabels(imagenetLabels, 1001)[282]).toBe('tabby, tabby cat');
    const without = imagenetLabels.slice(1); // a 1000-line file: output i is line i − 1
    expect(alignLabels(without, 1001).slice(0, 2)).toEqual(['background', 'tench, Tinca tinca']);
    expect(alignLabels(without, 1001)[282]).toBe('tabby, tabby cat');
    expect(alignLabels(imagenetLabels, 1000)[0]).toBe('tench, Tinca tinca'); // 1001 lines on a 1000-class model
    expect(() => alignLabels(['a', 'b', 'c'], 1001)).toThrow(
      new InputError('3 labels for 1001 model outputs: expected 1001, or 1000 when output 0 is background'),
    );
  });
});

describe('scores: probabilities or logits', () => {
  it.each([
    ['mobilenet_v2_1.0_224_quant.tflite', 'model-softmax'],
    ['tf2_mobilenet_v2_1.0_224_ptq.tflite', 'model-softmax'], // SOFTMAX then QUANTIZE to uint8
    ['person_detect.tflite', 'model-softmax'],
    ['mobilenet_v2_quantized_1x3x224x224.tflite', 'softmax-applied'], // ends in FULLY_CONNECTED: logits
    ['mobilenet_v3_small_100_224_int8_ptq_tfhub.tflite', 'softmax-applied'], // float logits through DEQUANTIZE
  ])('%s: %s', (name, kind) => {
    const g = readModel(readModelBytes(name)).subgraphs[0];
    expect(scoreKind(g, g.outputs[0])).toBe(kind);
  });
});
