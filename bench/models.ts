// `npm run bench [-- MODEL_NAME... --iterations N]`: invoke time of whole models, ours and the real TFLite
// (LiteRT.js, XNNPACK delegate and built-in kernels) in the same process, with tinybench; a table with ratios.
// Golden-rule inputs, one thread, invoke only (LiteRT's clock is read around its run call alone). Not part of
// `npm test`: timing belongs here. Run from the repo root, with ../shared beside it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { allOps, Interpreter } from '../src/index.js';
import { goldenRuleInput } from '../reference/golden-inputs.js';
import { TfliteRunner, type TfliteSession } from '../reference/tflite-runner.js';

const DEFAULT_MODELS = ['tf2_mobilenet_v2_1.0_224_ptq', 'mobilenet_v2_1.0_224_quant', 'v3-small_224_1.0_uint8', 'person_detect'];
const MODELS_DIR = join(process.cwd(), '../shared/models');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { iterations: { type: 'string', default: '10' } },
});
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations takes a whole number, not ${values.iterations}`);
const models = positionals.length > 0 ? positionals : DEFAULT_MODELS;

const runner = await TfliteRunner.load();
const rows: string[][] = [];
let runtimePackage = '';
for (const name of models) {
  const bytes = new Uint8Array(readFileSync(join(MODELS_DIR, `${name}.tflite`)));
  const ours = new Interpreter(bytes, { resolver: allOps() });
  const inputs = ours.inputs.map((t, k) => goldenRuleInput(t.dtype, t.size, k));
  const xnnpack = await runner.open(bytes, inputs, { xnnpack: true });
  const builtin = await runner.open(bytes, inputs, { xnnpack: false });
  runtimePackage = xnnpack.runtimePackage;
  // A fixed number of runs rather than a time budget: the slowest task takes about a second per invoke.
  const bench = new Bench({ name, iterations, time: 0, warmupIterations: 2, warmupTime: 0, throws: true });
  const timed = (session: TfliteSession) => async () => ({ overriddenDuration: await session.invoke() });
  bench
    // Our plan may reuse an input's memory once it is consumed (as TFLM's does): inputs are set before each
    // run, outside the time, as LiteRT's are set once at open.
    .add('ours', () => {
      inputs.forEach((input, k) => ours.setInputBytes(k, input));
      const started = performance.now();
      ours.invoke();
      return { overriddenDuration: performance.now() - started };
    })
    .add('LiteRT XNNPACK', timed(xnnpack))
    .add('LiteRT built-in', timed(builtin));
  try {
    await bench.run();
  } finally {
    xnnpack.close();
    builtin.close();
  }
  const median = (task: string) => {
    const result = bench.getTask(task)?.result;
    if (result?.state !== 'completed') throw new Error(`${name}: ${task} did not complete (${result?.state})`);
    return result.latency.p50;
  };
  const [o, x, b] = [median('ours'), median('LiteRT XNNPACK'), median('LiteRT built-in')];
  rows.push([name, ms(o), ms(x), ms(b), `${(o / x).toFixed(1)}×`, `${(o / b).toFixed(2)}×`]);
}

const header = ['model', 'ours', 'LiteRT XNNPACK', 'LiteRT built-in', 'ours/XNNPACK', 'ours/built-in'];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
console.log(`median invoke time, ms; ${iterations} runs after 2 warm-up; 1 thread; golden-rule inputs; ${runtimePackage}`);
console.log([line(header), ...rows.map(line)].join('\n'));

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
