// `tflite-int8 arena MODEL [--json] [--svg FILE] [--budget BYTES]`: how big the arena must be, before any board is flashed.
import { readFileSync, writeFileSync } from 'node:fs';
import { arenaReport, type ArenaReport, type LiveBuffer } from '../../arena-report.js';
import { renderArenaSvg } from '../../arena-svg.js';
import { readModel } from '../../model.js';
import { byteCount, parseArgs, single, UsageError } from '../args.js';

export const usage = 'arena MODEL [--json] [--svg FILE] [--budget BYTES]';

export function arena(argv: string[], out: (line: string) => void): number {
  const args = parseArgs(argv, { valued: ['svg', 'budget'], flags: ['json'] });
  const [path] = args.positionals;
  if (!path || args.positionals.length > 1) throw new UsageError(`usage: tflite-int8 ${usage}`);
  const budget = byteCount(args, 'budget');
  const model = readModel(readFileSync(path));
  const report = arenaReport(model, budget === undefined ? {} : { budgetBytes: budget });
  const svgPath = single(args, 'svg');
  if (svgPath) writeFileSync(svgPath, renderArenaSvg(report, model));
  if (args.flags.has('json')) out(JSON.stringify(report, null, 2));
  else printReport(path, report, out);
  return 0;
}

const n = (v: number) => v.toLocaleString('en-US');

function printReport(path: string, r: ArenaReport, out: (line: string) => void): void {
  out(`${path}: ${r.model.operators} operators, ${r.model.tensors} tensors` +
    `${r.model.subgraphs > 1 ? `, ${r.model.subgraphs} subgraphs (subgraph 0 planned)` : ''}`);
  out(`flash: ${n(r.flashBytes)} B .tflite file, of which ${n(r.weightsBytes)} B constant weights`);
  out('');
  out('activations (arena head)        bytes   live at peak   peak');
  const row = (label: string, p: ArenaReport['tflm']) =>
    out(`  ${label.padEnd(24)}${n(p.activationBytes).padStart(12)}${n(p.peak.bytes).padStart(15)}   ${opLabel(p.peak.opIndex, p.peak.opName)}`);
  row('TFLM greedy planner', r.tflm);
  row('tflite-int8 optimized', r.optimized);
  out(`  saved against TFLM: ${n(r.optimized.savedBytes)} B`);
  for (const s of r.optimized.savings) out(`    ${n(s.bytes).padStart(10)} B  ${s.name}: ${s.detail}`);
  out('');
  const e = r.estimate;
  out('TFLM arena (arena_used_bytes = planned head + persistent tail):');
  out(`  64-bit host   ${n(e.tflmArena64).padStart(12)} B = ${n(e.headBytes)} head + ${n(e.tail64.bytes)} tail`);
  out(`  32-bit MCU    ${n(e.tflmArena32).padStart(12)} B = ${n(e.headBytes)} head + ${n(e.tail32.bytes)} tail  (estimate: no 32-bit TFLM run to check)`);
  if (e.unknownKernels.length > 0) {
    out(`  not counted (kernel data unknown): ${e.unknownKernels.map((k) => `${k.op} (node ${k.node})`).join(', ')}`);
  }
  out('');
  const peak = r.tflm.peak;
  out(`peak of the TFLM plan: ${opLabel(peak.opIndex, peak.opName)}, ${n(peak.bytes)} B live`);
  for (const b of peak.buffers) out(`  ${n(b.bytes).padStart(10)} B  ${roleLabel(b).padEnd(26)} ${bufferLabel(b)}`);
  if (r.budget) {
    const b = r.budget;
    out('');
    out(`budget ${n(b.budgetBytes)} B: ${verdict(b)} — ${b.what}, ${n(b.needed)} B`);
    for (const o of b.others) out(`  ${verdict(o).padEnd(22)} ${o.what}, ${n(o.needed)} B`);
    out(`  attack first: ${opLabel(b.attack.opIndex, b.attack.opName)} (${n(b.attack.liveBytes)} B live). ${b.attack.advice}`);
  }
}

function verdict(c: { fits: boolean; marginBytes: number }): string {
  return c.fits ? `fits, ${n(c.marginBytes)} B spare` : `over by ${n(-c.marginBytes)} B`;
}

function opLabel(opIndex: number, name: string): string {
  return opIndex < 0 ? 'graph inputs' : `op ${opIndex} ${name}`;
}

function roleLabel(b: LiveBuffer): string {
  if (b.role !== 'held') return b.role;
  return b.heldFor === 'graph output' ? 'held: graph output' : `held for op ${b.heldFor?.opIndex} ${b.heldFor?.opName}`;
}

function bufferLabel(b: LiveBuffer): string {
  return b.tensor < 0 ? b.name : `t${b.tensor} ${b.dtype}[${b.shape?.join(',')}] "${shortName(b.name)}"`;
}

/** Converter names can join a dozen fused op names with ';': the first says what the tensor is. */
function shortName(name: string): string {
  const first = name.split(';')[0];
  const short = first.length > 72 ? `${first.slice(0, 71)}…` : first;
  return short === name ? name : `${short}…`;
}
