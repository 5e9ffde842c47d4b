// `tflite-int8 info MODEL [--json]`: what the model holds and whether we can run it.
import { readFileSync } from 'node:fs';
import { allOps } from '../../all-ops.js';
import { readModel } from '../../model.js';
import { summarizeModel, type TensorSummary } from '../../summary.js';
import { parseArgs, UsageError } from '../args.js';

export const usage = 'info MODEL [--json]';

export function info(argv: string[], out: (line: string) => void): number {
  const args = parseArgs(argv, { flags: ['json'] });
  const [path] = args.positionals;
  if (!path || args.positionals.length > 1) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const summary = summarizeModel(readModel(readFileSync(path)), allOps());
  if (args.flags.has('json')) {
    out(JSON.stringify(summary, null, 2));
    return 0;
  }
  out(`${path}: ${summary.fileBytes.toLocaleString('en-US')} bytes, schema v${summary.schemaVersion}, ` +
    `${summary.subgraphs} subgraph(s), ${summary.operators} operators, ${summary.tensors} tensors`);
  if (summary.description) out(`description: ${summary.description}`);
  out('inputs:');
  summary.inputs.forEach((t, i) => out(`  ${i}  ${formatTensor(t)}`));
  out('outputs:');
  summary.outputs.forEach((t, i) => out(`  ${i}  ${formatTensor(t)}`));
  out('operators:');
  for (const { op, count } of summary.opCounts) out(`  ${String(count).padStart(4)}  ${op}`);
  out(
    summary.unsupported.length === 0
      ? 'unsupported: none'
      : `unsupported: ${summary.unsupported.map((u) => `${u.op} (node ${u.node})`).join(', ')}`,
  );
  out(`weights: ${summary.weightsBytes.toLocaleString('en-US')} bytes in ${summary.constantTensors} constant tensors`);
  if (summary.metadata.length > 0) out(`metadata: ${summary.metadata.join(', ')}`);
  return 0;
}

function formatTensor(t: TensorSummary): string {
  const signature = t.shapeSignature && t.shapeSignature.some((d) => d < 0) ? ` (signature [${t.shapeSignature}])` : '';
  let quant = '';
  if (t.scale && t.zeroPoint) {
    quant =
      t.scale.length === 1
        ? `  scale ${t.scale[0]} zero_point ${t.zeroPoint[0]}`
        : `  per-channel (${t.scale.length} scales, dimension ${t.quantizedDimension})`;
  }
  return `t${t.tensorIndex} ${t.dtype}[${t.shape.join(',')}]${signature}${quant}  "${t.name}"`;
}
