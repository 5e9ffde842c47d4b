// `tflite-int8 compare MODEL [--input FILE...] [--per-layer] [--xnnpack] [--rounding double|single] [--json]`
//
// Runs the model in our interpreter and in the real TFLite (reference/tflite-runner.ts, LiteRT.js from npm, built-in
// kernels unless --xnnpack) on the same inputs, and reports per output how many elements differ and by how much.
// When outputs differ, or with --per-layer, TFLite runs again with every op output made a graph output, which
// names the first diverging op. Exit 0 identical, 1 different, 2 error.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { allOps } from '../../all-ops.js';
import { Interpreter } from '../../interpreter.js';
import type { Rounding } from '../../quant.js';
import {
  diffOperators,
  diffTensor,
  everyOpOutput,
  formatOpDivergence,
  formatOpTable,
  formatSamples,
  formatTensorDiff,
  opDiffers,
  type OpDiff,
  type TensorDiff,
} from '../../../reference/compare.js';
import { goldenRuleInput } from '../../../reference/golden-inputs.js';
import { parseArgs, single, UsageError } from '../args.js';

export const usage = 'compare MODEL [--input FILE...] [--per-layer] [--xnnpack] [--rounding double|single] [--json]';

export async function compare(argv: string[], out: (line: string) => void): Promise<number> {
  const args = parseArgs(argv, { valued: ['rounding'], lists: ['input'], flags: ['per-layer', 'xnnpack', 'json'] });
  const [path] = args.positionals;
  if (!path || args.positionals.length > 1) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const rounding = single(args, 'rounding') ?? 'double';
  if (rounding !== 'double' && rounding !== 'single') throw new UsageError(`--rounding is double or single, not ${rounding}`);
  const perLayer = args.flags.has('per-layer');
  const xnnpack = args.flags.has('xnnpack');

  const model = new Uint8Array(readFileSync(path));
  const interpreter = new Interpreter(model, { resolver: allOps(), rounding: rounding as Rounding, preserveAllTensors: true });
  const files = args.values.get('input');
  if (files && files.length !== interpreter.inputs.length) {
    throw new UsageError(`model has ${interpreter.inputs.length} input(s); --input gave ${files.length} file(s)`);
  }
  const inputs = files
    ? files.map((f) => new Uint8Array(readFileSync(f)))
    : interpreter.inputs.map((t, k) => goldenRuleInput(t.dtype, t.size, k));
  inputs.forEach((bytes, i) => interpreter.setInputBytes(i, bytes));
  interpreter.invoke();

  // The runner needs dev packages (LiteRT.js, tfjs-tflite, flatbuffers): load it only now.
  const { TfliteRunner } = await import('../../../reference/tflite-runner.js');
  const runner = await TfliteRunner.load();
  const run = await runner.run(model, inputs, { xnnpack });
  const outputs = interpreter.outputs.map((t, k) => diffTensor(t, run.tensors[k]));
  const outputsDiffer = outputs.some((d) => d.differing > 0);

  let ops: OpDiff[] | null = null;
  if (perLayer || outputsDiffer) {
    const tensors = everyOpOutput(interpreter.subgraph);
    const layered = await runner.run(model, inputs, { xnnpack, tensors });
    ops = diffOperators(interpreter, new Map(tensors.map((t, k) => [t, layered.tensors[k]])));
  }
  const firstDiverging = ops?.find(opDiffers) ?? null;

  const reference = `${run.runtimePackage}, ${xnnpack ? 'XNNPACK delegate' : 'built-in kernels (delegates off)'}, 1 thread`;
  if (args.flags.has('json')) {
    out(
      JSON.stringify(
        {
          model: path,
          reference: { runtime: run.runtime, package: run.runtimePackage, xnnpack, fallbackReason: run.fallbackReason ?? null },
          sanitized: run.sanitized,
          rounding,
          inputs: files ?? 'golden rule (../shared/golden/README.md)',
          identical: !outputsDiffer,
          outputs,
          firstDivergingOp: firstDiverging,
          ops: perLayer ? ops : undefined,
        },
        null,
        2,
      ),
    );
    return outputsDiffer ? 1 : 0;
  }

  out(`${basename(path)}: ours (rounding ${rounding}) vs TFLite (${reference})`);
  if (run.fallbackReason) out(`LiteRT.js could not run it (${run.fallbackReason}); tfjs-tflite did`);
  for (const line of run.sanitized) out(`TFLite got the model with ${line}`);
  out(`inputs: ${files ? files.join(', ') : 'the golden rule of ../shared/golden/README.md'}`);
  outputs.forEach((d: TensorDiff, k) => {
    out(`out${k} ${formatTensorDiff(d)}`);
    if (d.differing > 0) out(`  ${formatSamples(d)}`);
  });
  if (perLayer && ops) {
    out('per op (* = differs although every input equals TFLite\'s):');
    for (const line of formatOpTable(ops)) out(line);
  }
  if (firstDiverging) {
    out('first diverging op:');
    for (const line of formatOpDivergence(firstDiverging)) out(`  ${line}`);
  } else if (ops && outputsDiffer) {
    out('no op output differs when every op output is a graph output');
  }
  out(outputsDiffer ? 'result: outputs differ' : 'result: outputs identical');
  return outputsDiffer ? 1 : 0;
}
