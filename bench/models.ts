// `npm run bench [-- MODEL_NAME... --iterations N]`: invoke time of whole models, ours on the SIMD and the
// pure-JS kernel tiers and the real TFLite (LiteRT.js, XNNPACK delegate and built-in kernels) in the same process,
// with tinybench; a table with ratios, and our load time (new Interpreter: parse, prepare, plan).
// Golden-rule inputs, one thread, invoke only (LiteRT's clock is read around its run call alone). Not part of
// `npm test`: timing belongs here. Run from the repo root, with ../shared beside it.
//
// Ours are timed first, every model, then LiteRT.js: loading LiteRT grows its WebAssembly memory, which detaches an
// ArrayBuffer, and from the first detach on V8 checks every typed-array access of the process for it — our pure-JS
// tier then runs about 25% slower than it does in a process of its own (the SIMD tier, inside WebAssembly, does not
// notice).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { allOps, Interpreter, type KernelChoice } from '../src/index.js';
import { goldenRuleInput } from '../reference/golden-inputs.js';
import { LOADS, timeLoads, WARM_AFTER } from '../src/cli/commands/bench.js';
import { TfliteRunner, type TfliteSession } from '../reference/tflite-runner.js';

const DEFAULT_MODELS = ['tf2_mobilenet_v2_1.0_224_ptq', 'mobilenet_v2_1.0_224_quant', 'v3-small_224_1.0_uint8', 'person_detect'];
const MODELS_DIR = join(process.cwd(), '../shared/models');
const TIERS: readonly KernelChoice[] = ['simd', 'js'];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { iterations: { type: 'string', default: '10' } },
});
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`--iterations takes a whole number, not ${values.iterations}`);
const models = positionals.length > 0 ? positionals : DEFAULT_MODELS;

/** A fixed number of runs rather than a time budget: the slowest task takes about a second per invoke. */
function newBench(name: string): Bench {
  return new Bench({ name, iterations, time: 0, warmupIterations: 2, warmupTime: 0, throws: true });
}

async function medians(bench: Bench): Promise<Map<string, number>> {
  await bench.run();
  return new Map(
    bench.tasks.map((task) => {
      const result = task.result;
      if (result?.state !== 'completed') throw new Error(`${bench.name}: ${task.name} did not complete (${result?.state})`);
      return [task.name, result.latency.p50];
    }),
  );
}

interface OursTimes {
  name: string;
  bytes: Uint8Array;
  inputs: Uint8Array[];
  firstLoadMs: number;
  loadMs: number;
  invokeMs: Map<string, number>;
}

const ours: OursTimes[] = [];
for (const name of models) {
  const bytes = new Uint8Array(readFileSync(join(MODELS_DIR, `${name}.tflite`)));
  // The load column: as `tflite-int8 bench` measures it, the warm median and the model's first load.
  const loads = timeLoads(bytes, 'simd');
  loads.interpreter.dispose();
  const tiers = TIERS.map((kernels) => ({ kernels, interpreter: new Interpreter(bytes, { resolver: allOps(), kernels }) }));
  const inputs = tiers[0].interpreter.inputs.map((t, k) => goldenRuleInput(t.dtype, t.size, k));
  const bench = newBench(name);
  // Our plan may reuse an input's memory once it is consumed (as TFLM's does): inputs are set before each run,
  // outside the time, as LiteRT's are set once at open.
  for (const { kernels, interpreter } of tiers) {
    bench.add(kernels, () => {
      inputs.forEach((input, k) => interpreter.setInputBytes(k, input));
      const started = performance.now();
      interpreter.invoke();
      return { overriddenDuration: performance.now() - started };
    });
  }
  ours.push({ name, bytes, inputs, firstLoadMs: loads.firstLoadMs, loadMs: loads.loadMs, invokeMs: await medians(bench) });
}

const runner = await TfliteRunner.load();
const rows: string[][] = [];
let runtimePackage = '';
for (const { name, bytes, inputs, firstLoadMs, loadMs, invokeMs } of ours) {
  const xnnpack = await runner.open(bytes, inputs, { xnnpack: true });
  const builtin = await runner.open(bytes, inputs, { xnnpack: false });
  runtimePackage = xnnpack.runtimePackage;
  const timed = (session: TfliteSession) => async () => ({ overriddenDuration: await session.invoke() });
  const bench = newBench(name).add('XNNPACK', timed(xnnpack)).add('built-in', timed(builtin));
  let theirs: Map<string, number>;
  try {
    theirs = await medians(bench);
  } finally {
    xnnpack.close();
    builtin.close();
  }
  const [simd, js, x, b] = [invokeMs.get('simd')!, invokeMs.get('js')!, theirs.get('XNNPACK')!, theirs.get('built-in')!];
  rows.push([name, ms(simd), ms(js), ms(x), ms(b), `${(simd / x).toFixed(2)}×`, `${(js / x).toFixed(1)}×`, ms(loadMs), ms(firstLoadMs)]);
}

const header = ['model', 'ours SIMD', 'ours JS', 'LiteRT XNNPACK', 'LiteRT built-in', 'SIMD/XNNPACK', 'JS/XNNPACK', 'load (warm)', 'first load'];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
console.log(
  `median invoke time, ms; ${iterations} runs after 2 warm-up; 1 thread; golden-rule inputs; ${runtimePackage}; ` +
    `load: median of ${LOADS} new Interpreter after ${WARM_AFTER}, each disposed before the next; first load: the ` +
    "model's first (the first model's also compiles the kernels)",
);
console.log([line(header), ...rows.map(line)].join('\n'));

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}
