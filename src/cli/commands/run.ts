// `tflite-int8 run MODEL --input FILE... --out DIR [--rounding double|single] [--dump-tensors] [--arena-bytes N] [--kernels simd|js|reference]`
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allOps } from '../../all-ops.js';
import { Interpreter } from '../../interpreter.js';
import type { Rounding } from '../../quant.js';
import { byteCount, kernelsOption, parseArgs, single, UsageError } from '../args.js';

export const usage = 'run MODEL --input FILE... --out DIR [--rounding double|single] [--dump-tensors] [--arena-bytes N] [--kernels simd|js|reference]';

export function run(argv: string[], out: (line: string) => void): number {
  const args = parseArgs(argv, { valued: ['out', 'rounding', 'arena-bytes', 'kernels'], lists: ['input'], flags: ['dump-tensors'] });
  const [path] = args.positionals;
  const outDir = single(args, 'out');
  if (!path || args.positionals.length > 1 || !outDir) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const rounding = single(args, 'rounding') ?? 'double';
  if (rounding !== 'double' && rounding !== 'single') {
    throw new UsageError(`--rounding is double or single, not ${rounding}`);
  }
  const dumpTensors = args.flags.has('dump-tensors');
  const interpreter = new Interpreter(readFileSync(path), {
    resolver: allOps(),
    rounding: rounding as Rounding,
    preserveAllTensors: dumpTensors,
    arenaBytes: byteCount(args, 'arena-bytes'),
    kernels: kernelsOption(args),
  });
  const inputs = args.values.get('input') ?? [];
  if (inputs.length !== interpreter.inputs.length) {
    throw new UsageError(`model has ${interpreter.inputs.length} input(s); --input gave ${inputs.length} file(s)`);
  }
  inputs.forEach((file, i) => interpreter.setInputBytes(i, readFileSync(file)));

  const started = performance.now();
  interpreter.invoke();
  const invokeMs = performance.now() - started;

  mkdirSync(outDir, { recursive: true });
  interpreter.outputs.forEach((t, k) => writeFileSync(join(outDir, `out${k}.bin`), t.bytes));
  const meta = {
    model: path,
    rounding,
    kernels: interpreter.kernels,
    invokeMs,
    arenaBytes: interpreter.arenaBytes,
    outputs: interpreter.outputs.map((t, k) => ({
      file: `out${k}.bin`,
      tensorIndex: t.index,
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      scale: t.quantization ? Array.from(t.quantization.scale) : null,
      zeroPoint: t.quantization ? t.quantization.zeroPoint : null,
    })),
  };
  writeFileSync(join(outDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  if (dumpTensors) {
    mkdirSync(join(outDir, 'tensors'), { recursive: true });
    for (const t of interpreter.tensors) writeFileSync(join(outDir, 'tensors', `t${t.index}.bin`), t.bytes);
  }
  out(`${path}: ran ${interpreter.subgraph.operators.length} operators in ${invokeMs.toFixed(1)} ms; ` +
    `wrote ${interpreter.outputs.length} output(s)${dumpTensors ? ` and ${interpreter.tensors.length} tensors` : ''} to ${outDir}`);
  return 0;
}
