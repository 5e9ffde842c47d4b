// The arena report as a picture (an SVG string; the CLI writes it to a file): live activation bytes per
// operator for both planners with the budget line, then each plan's buffer placement as TFLM's
// PrintMemoryPlan draws it — time across, arena offset up, one rectangle per buffer, tensor on hover.
import type { ArenaReport, PlannerReport } from './arena-report.js';
import type { Model } from './model.js';

const WIDTH = 1100;
const LEFT = 96;
const RIGHT = 24;
const CHART_HEIGHT = 240;
const PLACEMENT_HEIGHT = 300;
const PANEL_GAP = 110;
const TOP = 132;

const COLORS = { tflm: '#1f5fbf', optimized: '#e07b00', budget: '#c62828', peak: '#6a1b9a', arena: '#555' };

export function renderArenaSvg(report: ArenaReport, model: Model): string {
  const times = report.timeline.length;
  const x = (time: number) => LEFT + ((time + 0.5) / times) * (WIDTH - LEFT - RIGHT);
  const chartTop = TOP;
  const placements = [report.tflm, report.optimized];
  const placementTop = (i: number) => chartTop + CHART_HEIGHT + PANEL_GAP + i * (PLACEMENT_HEIGHT + PANEL_GAP);
  const height = placementTop(placements.length) - PANEL_GAP + 64;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12" fill="#222">`,
    `<rect class="background" x="0" y="0" width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(LEFT, 28, `TFLM arena ≈ ${bytes(report.estimate.tflmArena32)} on a 32-bit MCU (${bytes(report.estimate.tflmArena64)} on a 64-bit host)`, {
      size: 16, weight: 'bold',
    }),
    text(LEFT, 48, `${report.model.operators} operators, ${report.model.tensors} tensors; activations ${bytes(report.estimate.headBytes)} + ` +
      `persistent tail ${bytes(report.estimate.tail32.bytes)} (32-bit); flash ${bytes(report.flashBytes)}`, { color: '#444' }),
    liveChart(report, x, chartTop),
    ...placements.map((plan, i) => placement(report, plan, model, x, placementTop(i), i === 0 ? 'TFLM greedy plan' : 'tflite-int8 optimized plan')),
    '</svg>',
  ];
  return parts.join('\n') + '\n';
}

function liveChart(report: ArenaReport, x: (t: number) => number, top: number): string {
  const activationBudget = report.budget ? Math.max(0, report.budget.budgetBytes - report.estimate.tail32.bytes) : null;
  const maxY = Math.max(report.tflm.activationBytes, report.optimized.activationBytes, activationBudget ?? 0) * 1.08 || 1;
  const y = (b: number) => top + CHART_HEIGHT - (b / maxY) * CHART_HEIGHT;
  const out: string[] = [
    `<g class="panel live">`,
    text(LEFT, top - 58, 'Live activation bytes while each operator runs', { size: 14, weight: 'bold' }),
    ...yAxis(maxY, y, LEFT, top, CHART_HEIGHT, 'live bytes'),
    ...xAxis(report, x, top + CHART_HEIGHT),
  ];
  const step = (key: 'tflmBytes' | 'optimizedBytes') =>
    report.timeline
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(x(p.time - 0.5))},${fmt(y(p[key]))} H${fmt(x(p.time + 0.5))}`)
      .join(' ');
  // Arena sizes: the plan's high-water mark sits at or above its live peak (the gap is fragmentation).
  out.push(hline(y(report.tflm.activationBytes), COLORS.arena, '2 4', `TFLM arena head ${bytes(report.tflm.activationBytes)}`, 'arena-line', 'right'));
  if (activationBudget !== null && report.budget) {
    out.push(
      hline(y(activationBudget), COLORS.budget, '', activationBudget > 0
        ? `budget ${bytes(report.budget.budgetBytes)} − 32-bit TFLM tail ${bytes(report.estimate.tail32.bytes)} = ${bytes(activationBudget)} for activations`
        : `budget ${bytes(report.budget.budgetBytes)} ≤ 32-bit TFLM tail ${bytes(report.estimate.tail32.bytes)}: no room for activations`, 'budget-line', 'left'),
    );
  }
  out.push(`<path class="series tflm" d="${step('tflmBytes')}" fill="none" stroke="${COLORS.tflm}" stroke-width="2"/>`);
  out.push(`<path class="series optimized" d="${step('optimizedBytes')}" fill="none" stroke="${COLORS.optimized}" stroke-width="2" stroke-dasharray="6 3"/>`);
  const peak = report.tflm.peak;
  out.push(peakMarker(x(peak.time), top, CHART_HEIGHT));
  out.push(`<circle class="peak" cx="${fmt(x(peak.time))}" cy="${fmt(y(peak.bytes))}" r="4.5" fill="${COLORS.peak}"/>`);
  const labelLeft = x(peak.time) < WIDTH * 0.65;
  out.push(text(x(peak.time) + (labelLeft ? 8 : -8), y(peak.bytes) - 8, `TFLM peak: ${opLabel(peak.opIndex, peak.opName)}, ${bytes(peak.bytes)} live`, {
    color: COLORS.peak, anchor: labelLeft ? 'start' : 'end', weight: 'bold', halo: true,
  }));
  out.push(
    legend(LEFT, top - 16, [
      { color: COLORS.tflm, dash: '', label: `TFLM plan (peak ${bytes(report.tflm.peak.bytes)}, arena ${bytes(report.tflm.activationBytes)})` },
      { color: COLORS.optimized, dash: '6 3', label: `optimized plan (peak ${bytes(report.optimized.peak.bytes)}, arena ${bytes(report.optimized.activationBytes)})` },
      ...(report.budget ? [{ color: COLORS.budget, dash: '', label: 'activation budget' }] : []),
      { color: COLORS.arena, dash: '2 4', label: 'TFLM arena head (high-water mark)' },
    ]),
  );
  out.push('</g>');
  return out.join('\n');
}

function placement(report: ArenaReport, plan: PlannerReport, model: Model, x: (t: number) => number, top: number, title: string): string {
  const g = model.subgraphs[0];
  // One scale for both plans, so their heights compare at a glance.
  const maxY = Math.max(report.tflm.activationBytes, report.optimized.activationBytes) || 1;
  const y = (b: number) => top + PLACEMENT_HEIGHT - (b / maxY) * PLACEMENT_HEIGHT;
  const key = plan === report.tflm ? 'tflm' : 'optimized';
  const out: string[] = [
    `<g class="panel placement" data-planner="${key}">`,
    text(LEFT, top - 30, `${title}: ${plan.buffers.length} buffers in ${bytes(plan.activationBytes)}`, { size: 14, weight: 'bold' }),
    text(LEFT, top - 12, 'one rectangle per buffer: across, the operators it lives through; up, its arena offset; grey: kernel scratch; hover for the tensor', {
      color: '#555',
    }),
    ...yAxis(maxY, y, LEFT, top, PLACEMENT_HEIGHT, 'arena offset'),
    ...xAxis(report, x, top + PLACEMENT_HEIGHT),
  ];
  for (const b of plan.buffers) {
    const tensor = b.tensor >= 0 ? g.tensors[b.tensor] : null;
    const first = Math.max(b.firstUse, 0);
    const last = Math.max(b.lastUse, first);
    const top_ = y(b.offset + b.size);
    const h = Math.max(y(b.offset) - top_, 0.6);
    const fill = tensor ? `hsl(${(tensor.index * 137.508) % 360} 55% 62%)` : '#9e9e9e';
    const name = tensor ? `t${tensor.index} "${tensor.name}" ${tensor.dtype}[${tensor.shape.join(',')}]` : `scratch of node ${b.node} ${b.node === undefined ? '' : g.operators[b.node].opName}`;
    const lifetime = first === last ? `at ${opLabel(first - 1, opName(model, first))}` : `from ${opLabel(first - 1, opName(model, first))} to ${opLabel(last - 1, opName(model, last))}`;
    const shares = b.sharesWith === undefined ? '' : `, shares t${b.sharesWith}'s memory`;
    out.push(
      `<rect class="buffer" data-tensor="${b.tensor}" x="${fmt(x(first - 0.5))}" y="${fmt(top_)}" width="${fmt(x(last + 0.5) - x(first - 0.5))}" ` +
        `height="${fmt(h)}" fill="${fill}" stroke="#fff" stroke-width="0.5"><title>${escape(`${name}: ${bytes(b.size)} at offset ` +
        `${b.offset.toLocaleString('en-US')}, ${lifetime}${shares}`)}</title></rect>`,
    );
  }
  out.push(peakMarker(x(plan.peak.time), top, PLACEMENT_HEIGHT));
  out.push(text(x(plan.peak.time) + 4, top + 12, `peak ${bytes(plan.peak.bytes)}`, { color: COLORS.peak, weight: 'bold', halo: true }));
  out.push('</g>');
  return out.join('\n');
}

function xAxis(report: ArenaReport, x: (t: number) => number, baseline: number): string[] {
  const times = report.timeline.length;
  const every = niceStep(times / 24, [1, 2, 5]);
  const out = [`<line x1="${LEFT}" y1="${baseline}" x2="${WIDTH - RIGHT}" y2="${baseline}" stroke="#333"/>`];
  for (let t = 0; t < times; t++) {
    // Operator ticks at multiples of `every`; "in" stands alone at time 0 (operator 0 only when every op is ticked).
    if (t !== 0 && ((t - 1) % every !== 0 || (t === 1 && every > 1))) continue;
    out.push(`<line x1="${fmt(x(t))}" y1="${baseline}" x2="${fmt(x(t))}" y2="${baseline + 4}" stroke="#333"/>`);
    out.push(text(x(t), baseline + 16, t === 0 ? 'in' : String(t - 1), { anchor: 'middle', color: '#444', size: 11 }));
  }
  out.push(text((LEFT + WIDTH - RIGHT) / 2, baseline + 34, 'operator index, in execution order ("in": graph inputs, before operator 0)', { anchor: 'middle', color: '#333' }));
  return out;
}

function yAxis(maxY: number, y: (b: number) => number, left: number, top: number, height: number, label: string): string[] {
  const unit = maxY >= 2 * 1024 * 1024 ? 1024 * 1024 : maxY >= 2048 ? 1024 : 1;
  const step = niceStep(maxY / unit / 6, [1, 2, 2.5, 5]) * unit;
  const out = [`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + height}" stroke="#333"/>`];
  for (let v = 0; v <= maxY; v += step) {
    out.push(`<line x1="${left}" y1="${fmt(y(v))}" x2="${WIDTH - RIGHT}" y2="${fmt(y(v))}" stroke="#000" stroke-opacity="0.08"/>`);
    out.push(text(left - 6, y(v) + 4, bytes(v), { anchor: 'end', color: '#444', size: 11 }));
  }
  const mid = top + height / 2;
  out.push(`<text x="${left - 72}" y="${fmt(mid)}" transform="rotate(-90 ${left - 72} ${fmt(mid)})" text-anchor="middle" fill="#333">${escape(label)}</text>`);
  return out;
}

function niceStep(rough: number, multiples: number[]): number {
  const pow = 10 ** Math.floor(Math.log10(Math.max(rough, 1e-9)));
  return (multiples.find((m) => m * pow >= rough) ?? 10) * pow;
}

/** A horizontal line across the chart, labelled above it at the right or the left end. */
function hline(yPos: number, color: string, dash: string, label: string, cls: string, labelAt: 'right' | 'left'): string {
  const at = text(labelAt === 'right' ? WIDTH - RIGHT - 4 : LEFT + 6, yPos - 5, label, { anchor: labelAt === 'right' ? 'end' : 'start', color, halo: true });
  return (
    `<g class="${cls}"><line x1="${LEFT}" y1="${fmt(yPos)}" x2="${WIDTH - RIGHT}" y2="${fmt(yPos)}" stroke="${color}" stroke-width="1.5"` +
    `${dash ? ` stroke-dasharray="${dash}"` : ''}/>${at}</g>`
  );
}

function peakMarker(xPos: number, top: number, height: number): string {
  return `<line class="peak-marker" x1="${fmt(xPos)}" y1="${top}" x2="${fmt(xPos)}" y2="${top + height}" stroke="${COLORS.peak}" stroke-width="1.2" stroke-dasharray="4 3"/>`;
}

/** A legend in rows of two entries, ending at `bottom`. */
function legend(left: number, bottom: number, entries: { color: string; dash: string; label: string }[]): string {
  const rows = Math.ceil(entries.length / 2);
  const out = ['<g class="legend">'];
  entries.forEach((e, i) => {
    const xx = left + (i % 2) * ((WIDTH - LEFT - RIGHT) / 2);
    const yy = bottom - (rows - 1 - Math.floor(i / 2)) * 18;
    out.push(`<line x1="${fmt(xx)}" y1="${yy - 4}" x2="${fmt(xx + 28)}" y2="${yy - 4}" stroke="${e.color}" stroke-width="2"${e.dash ? ` stroke-dasharray="${e.dash}"` : ''}/>`);
    out.push(text(xx + 36, yy, e.label));
  });
  out.push('</g>');
  return out.join('');
}

/** A text element; `halo` paints a white outline under it so it stays readable over lines and rectangles. */
function text(
  xPos: number,
  yPos: number,
  content: string,
  o: { size?: number; weight?: string; color?: string; anchor?: string; halo?: boolean } = {},
): string {
  const attrs = [`x="${fmt(xPos)}"`, `y="${fmt(yPos)}"`];
  if (o.halo) attrs.push('paint-order="stroke" stroke="#fff" stroke-width="3" stroke-linejoin="round"');
  if (o.size) attrs.push(`font-size="${o.size}"`);
  if (o.weight) attrs.push(`font-weight="${o.weight}"`);
  if (o.color) attrs.push(`fill="${o.color}"`);
  if (o.anchor) attrs.push(`text-anchor="${o.anchor}"`);
  return `<text ${attrs.join(' ')}>${escape(content)}</text>`;
}

function opName(model: Model, time: number): string {
  return time === 0 ? 'graph inputs' : model.subgraphs[0].operators[time - 1].opName;
}

function opLabel(opIndex: number, name: string): string {
  return opIndex < 0 ? 'the graph inputs' : `op ${opIndex} ${name}`;
}

/** Bytes for an axis or a label: exact below 10 KiB, else KiB / MiB with one decimal. */
export function bytes(n: number): string {
  if (n < 10 * 1024) return `${n.toLocaleString('en-US')} B`;
  if (n < 10 * 1024 * 1024) return `${(n / 1024).toLocaleString('en-US', { maximumFractionDigits: 1 })} KiB`;
  return `${(n / 1024 / 1024).toLocaleString('en-US', { maximumFractionDigits: 2 })} MiB`;
}

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
