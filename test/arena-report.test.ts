// The arena report against TFLM's own figures: planned head, the whole arena_used_bytes and the
// RecordingMicroAllocator breakdown of every model TFLM ran; the 32-bit replay and the picture by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeModel } from '../reference/model-writer.js';
import { BuiltinOperator } from '../schema/tflite.js';
import { arenaReport } from '../src/arena-report.js';
import { renderArenaSvg } from '../src/arena-svg.js';
import { readModel } from '../src/model.js';
import { estimateTflmArena, structLayout } from '../src/tflm-arena.js';
import { GOLDEN, readModelBytes } from './helpers/shared.js';
import { findAll, parseXml } from './helpers/xml.js';

interface Recorded {
  used: number;
  requested: number;
  count: number;
}
interface TflmMeta {
  arena_used_bytes: number;
  recording: { head_nonpersistent: number; tail_persistent: number; default_tail_usage: number; types: Record<string, Recorded> };
}

const TFLM_ARENA: Record<string, { arena_used_bytes: number; head_nonpersistent: number }> = JSON.parse(
  readFileSync(join(GOLDEN, 'tflm-arena.json'), 'utf8'),
);
const meta = (name: string): TflmMeta => JSON.parse(readFileSync(join(GOLDEN, 'tflm', name, 'meta.json'), 'utf8'));
const model = (name: string) => readModel(readModelBytes(name));

// The golden ran under RecordingMicroAllocator, whose objects are larger than the plain allocator's: its
// RecordingSingleArenaBufferAllocator adds four size_t counters, and RecordingMicroAllocator adds a pointer and
// seven RecordedAllocation {requested, used, count} of size_t. On x86-64: 4·8 + 8 + 7·3·8 = 208 bytes, which is
// exactly recording.total − arena_used_bytes on every model.
const RECORDING_OVERHEAD = structLayout(
  { name: 'recording fields', fields: [['size_t', 4], 'ptr', ['size_t', 7 * 3]] },
  'host64',
).size;

describe('TFLM arena on the models TFLM ran', () => {
  it('covers six models', () => expect(Object.keys(TFLM_ARENA)).toHaveLength(6));

  for (const [name, golden] of Object.entries(TFLM_ARENA)) {
    describe(name, () => {
      const report = arenaReport(model(name));
      const host = estimateTflmArena(model(name), 'host64');
      const recording = meta(name).recording;

      it(`activation bytes equal TFLM's head_nonpersistent (${golden.head_nonpersistent})`, () => {
        expect(report.tflm.activationBytes).toBe(golden.head_nonpersistent);
        expect(report.estimate.headBytes).toBe(golden.head_nonpersistent);
      });

      it(`64-bit estimate equals arena_used_bytes (${golden.arena_used_bytes}): relative error 0, within the 1% asked`, () => {
        const relativeError = Math.abs(report.estimate.tflmArena64 - golden.arena_used_bytes) / golden.arena_used_bytes;
        expect(relativeError).toBe(0);
        expect(report.estimate.tflmArena64).toBe(golden.arena_used_bytes);
      });

      it('every category TFLM records matches used, requested and count', () => {
        for (const [category, recorded] of Object.entries(recording.types)) {
          const ours = host.categories.find((c) => c.category === category) ?? { used: 0, requested: 0, count: 0 };
          expect({ category, used: ours.used, requested: ours.requested, count: ours.count }).toEqual({ category, ...recorded });
        }
      });

      it('the allocator objects and the whole tail match, once the recording allocator is accounted for', () => {
        expect(RECORDING_OVERHEAD).toBe(208);
        const objects = host.categories.find((c) => c.category === 'AllocatorObjects');
        expect((objects?.used ?? 0) + RECORDING_OVERHEAD).toBe(recording.default_tail_usage);
        expect(host.tailBytes + RECORDING_OVERHEAD).toBe(recording.tail_persistent);
        expect(host.unknownKernels).toEqual([]);
      });

      it('the 32-bit estimate keeps the head and shrinks only the tail', () => {
        expect(report.estimate.tflmArena32 - report.estimate.tail32.bytes).toBe(golden.head_nonpersistent);
        expect(report.estimate.tail32.bytes).toBeLessThan(report.estimate.tail64.bytes);
      });
    });
  }
});

describe('the 32-bit replay, by hand', () => {
  it('hello_world_int8: 32 B head + 684 B tail', () => {
    // Tail offsets from the arena end, allocation by allocation (ARM AAPCS sizes):
    //   SingleArenaBufferAllocator 36, GreedyMemoryPlanner 44, MicroAllocator 36, MicroBuiltinDataAllocator 8,
    //   SubgraphAllocations 8                                         → 132
    //   TfLiteEvalTensor 12 × 10 tensors                                → 252
    //   NodeAndRegistration 32 × 3 operators                            → 348
    //   TfLiteFullyConnectedParams 16 × 3 (4-aligned)                   → 396
    //   OpDataFullyConnected 48 × 3, each 16-aligned: 444→448, 496, 544 → 544
    //   input pointer array 4 → 548→560; TfLiteTensor 40 → 600; TfLiteAffineQuantization 12 → 612; zero points 8 → 620
    //   output pointer array 4 → 624 (aligned); TfLiteTensor 40 → 664; quantization 12 → 676; zero points 8 → 684
    const mcu = estimateTflmArena(model('hello_world_int8.tflite'), 'mcu32');
    expect(mcu.headBytes).toBe(32);
    expect(mcu.tailBytes).toBe(684);
    expect(mcu.arenaBytes).toBe(716);
  });

  it('names the structs whose size changes', () => {
    const { pointerSizedStructs } = estimateTflmArena(model('hello_world_int8.tflite'), 'mcu32');
    expect(pointerSizedStructs).toEqual(
      expect.arrayContaining([
        'TfLiteEvalTensor: 24 → 12',
        'NodeAndRegistration: 64 → 32',
        'TfLiteTensor: 64 → 40',
        'OpDataConv: 72 → 56',
        'OpDataFullyConnected: 64 → 48',
        'SoftmaxParams: 80 → 56',
      ]),
    );
    expect(pointerSizedStructs.some((s) => s.startsWith('TfLiteConvParams'))).toBe(false);
  });
});

describe('arenaReport on person_detect', () => {
  const name = 'person_detect.tflite';
  const report = arenaReport(model(name));

  it('flash: the file, and constant weights as TFLM lists them', () => {
    const tensors: { const: boolean; bytes: number }[] = JSON.parse(readFileSync(join(GOLDEN, 'tflm', name, 'tensors/tensors.json'), 'utf8'));
    expect(report.flashBytes).toBe(readModelBytes(name).length);
    expect(report.weightsBytes).toBe(tensors.filter((t) => t.const).reduce((sum, t) => sum + t.bytes, 0));
  });

  it('peak: operator 2 (CONV_2D) reading t51 [1,48,48,8] and writing t54 [1,48,48,16]', () => {
    const { peak } = report.tflm;
    expect(peak).toMatchObject({ time: 3, opIndex: 2, opName: 'CONV_2D', bytes: 48 * 48 * 8 + 48 * 48 * 16 });
    expect(peak.buffers.map((b) => [b.tensor, b.role, b.bytes, b.shape])).toEqual([
      [54, 'output', 36864, [1, 48, 48, 16]],
      [51, 'input', 18432, [1, 48, 48, 8]],
    ]);
  });

  it('timeline: the input alone at time 0, the 2-byte output (16 aligned) at the end', () => {
    expect(report.timeline).toHaveLength(32);
    expect(report.timeline[0]).toMatchObject({ time: 0, opIndex: -1, tflmBytes: 96 * 96 });
    expect(report.timeline[31]).toMatchObject({ opIndex: 30, opName: 'SOFTMAX', tflmBytes: 16 + 16 });
    expect(Math.max(...report.timeline.map((p) => p.tflmBytes))).toBe(report.tflm.peak.bytes);
  });

});

describe('live buffers at the peak', () => {
  it('a skip connection is held for the ADD that reads it', () => {
    // t1 feeds op 1 and, three operators later, op 3 (ADD): at op 2 three 1,000-byte tensors (1,008 planned) are alive.
    const q = { scale: [0.5], zeroPoint: [0] };
    const tensor = (name: string) => ({ name, dtype: 'int8' as const, shape: [1, 1000], quantization: q });
    const residual = readModel(
      writeModel({
        tensors: ['in', 'a', 'b', 'c', 'sum'].map(tensor),
        operators: [
          { op: BuiltinOperator.RELU, inputs: [0], outputs: [1] },
          { op: BuiltinOperator.RELU, inputs: [1], outputs: [2] },
          { op: BuiltinOperator.RELU, inputs: [2], outputs: [3] },
          { op: BuiltinOperator.ADD, inputs: [1, 3], outputs: [4] },
        ],
        inputs: [0],
        outputs: [4],
      }),
    );
    const { peak } = arenaReport(residual).tflm;
    expect(peak).toMatchObject({ opIndex: 2, opName: 'RELU', bytes: 3 * 1008 });
    expect(peak.buffers.map((b) => [b.tensor, b.role, b.heldFor])).toEqual([
      [1, 'held', { opIndex: 3, opName: 'ADD' }],
      [2, 'input', undefined],
      [3, 'output', undefined],
    ]);
  });
});

describe('budget', () => {
  const hello = model('hello_world_int8.tflite');

  it('fits with nothing to spare at exactly the 32-bit arena, and is 1 byte over below it', () => {
    const fits = arenaReport(hello, { budgetBytes: 716 }).budget;
    expect(fits).toMatchObject({ budgetBytes: 716, needed: 716, fits: true, marginBytes: 0 });
    const over = arenaReport(hello, { budgetBytes: 715 }).budget;
    expect(over).toMatchObject({ needed: 716, fits: false, marginBytes: -1 });
    expect(over?.others.find((o) => o.what.startsWith('TFLM arena on a 64-bit host'))).toMatchObject({ needed: 1184, marginBytes: 715 - 1184 });
    // hello_world's peak: op 0 reads the 1-byte input and writes 16 bytes, each a 16-byte buffer.
    expect(over?.attack).toMatchObject({ opIndex: 0, opName: 'FULLY_CONNECTED', liveBytes: 32 });
    expect(over?.attack.advice).toContain('Cut 1 B');
  });

  it('says when the persistent tail alone is over budget', () => {
    expect(arenaReport(hello, { budgetBytes: 600 }).budget?.attack.advice).toContain("persistent tail alone (684 B on 32-bit) exceeds the budget");
  });
});

describe('renderArenaSvg', () => {
  const m = model('person_detect.tflite');
  const report = arenaReport(m, { budgetBytes: 100_000 });
  const svg = parseXml(renderArenaSvg(report, m));

  it('is well-formed SVG', () => {
    expect(svg.name).toBe('svg');
    expect(svg.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
  });

  it('draws one rectangle with a <title> per planned buffer, for each plan', () => {
    for (const planner of ['tflm', 'optimized'] as const) {
      const panel = findAll(svg, (e) => e.attributes['data-planner'] === planner)[0];
      const rects = findAll(panel, (e) => e.name === 'rect' && e.attributes.class === 'buffer');
      expect(rects).toHaveLength(report[planner].buffers.length);
      for (const r of rects) expect(r.children.filter((c) => c.name === 'title')).toHaveLength(1);
    }
    const t54 = findAll(svg, (e) => e.name === 'rect' && e.attributes['data-tensor'] === '54')[0];
    expect(t54.children[0].text).toContain('t54 "MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6" int8[1,48,48,16]: 36 KiB');
  });

  it('labels its axes, marks the peak and the budget, and has a legend', () => {
    const texts = findAll(svg, (e) => e.name === 'text').map((e) => e.text);
    expect(texts).toContain('live bytes');
    expect(texts).toContain('arena offset');
    expect(texts.filter((t) => t.startsWith('operator index'))).toHaveLength(3);
    expect(texts).toContain('TFLM peak: op 2 CONV_2D, 54 KiB live');
    expect(texts.some((t) => t.startsWith('budget 97.7 KiB − 32-bit TFLM tail'))).toBe(true);
    expect(findAll(svg, (e) => e.attributes.class === 'legend')).toHaveLength(1);
    expect(findAll(svg, (e) => e.attributes.class === 'peak-marker')).toHaveLength(3);
    expect(findAll(svg, (e) => e.name === 'path' && /series/.test(e.attributes.class ?? ''))).toHaveLength(2);
  });
});
