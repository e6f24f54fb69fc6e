// The loss chart: training and validation loss per step, drawn as SVG (one marker per reported step).
import { h, s, fmt } from './dom.js';

const WIDTH = 760;
const HEIGHT = 280;
const MARGIN = { left: 58, right: 18, top: 18, bottom: 42 };

const SERIES = [
  { key: 'trainLoss', cls: 'train', label: 'training loss' },
  { key: 'validLoss', cls: 'valid', label: 'validation loss' },
];

/** "Nice" round tick values covering [min, max]. */
export function ticks(min, max, count = 5) {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((m) => m >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * Draws points ([{ step, trainLoss, validLoss }], one per step, ordered by step). totalSteps, when known, sets the
 * x axis end so the curve grows across the chart while training goes on.
 */
export function lossChart(points, totalSteps) {
  if (!points.length) return h('p', { class: 'muted', 'data-testid': 'chart-empty' }, 'No training steps reported yet.');

  const values = points.flatMap((p) => SERIES.map((x) => p[x.key])).filter((v) => typeof v === 'number');
  let yMin = Math.min(...values);
  let yMax = Math.max(...values);
  if (yMax === yMin) { yMin -= 0.5; yMax += 0.5; }
  const pad = (yMax - yMin) * 0.06;
  yMin = Math.max(0, yMin - pad);
  yMax += pad;
  const firstStep = points[0].step;
  const lastStep = Math.max(points[points.length - 1].step, totalSteps ?? 0);
  const xMin = Math.min(firstStep, 1);
  const xMax = lastStep > xMin ? lastStep : xMin + 1;

  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (step) => MARGIN.left + ((step - xMin) / (xMax - xMin)) * plotW;
  const y = (v) => MARGIN.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;

  const svg = s('svg', {
    class: 'loss-chart',
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': `Loss per step: ${points.length} steps reported`,
    'data-points': points.length,
  });

  const grid = s('g', { class: 'grid' });
  for (const v of ticks(yMin, yMax)) {
    grid.append(
      s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(v), y2: y(v) }),
      s('text', { x: MARGIN.left - 8, y: y(v) + 4, class: 'tick y' }, fmt.num(v, 3)),
    );
  }
  for (const v of ticks(xMin, xMax, 8).filter((t) => Number.isInteger(t))) {
    grid.append(s('text', { x: x(v), y: HEIGHT - MARGIN.bottom + 18, class: 'tick x' }, String(v)));
  }
  grid.append(
    s('line', { class: 'axis', x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom }),
    s('line', { class: 'axis', x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: HEIGHT - MARGIN.bottom, y2: HEIGHT - MARGIN.bottom }),
    s('text', { class: 'axis-label', x: MARGIN.left + plotW / 2, y: HEIGHT - 6 }, 'step'),
    s('text', { class: 'axis-label', x: 14, y: MARGIN.top + plotH / 2, transform: `rotate(-90 14 ${MARGIN.top + plotH / 2})` }, 'loss'),
  );
  svg.append(grid);

  const legend = s('g', { class: 'legend' });
  let legendX = WIDTH - MARGIN.right - 250;
  for (const series of SERIES) {
    const shown = points.filter((p) => typeof p[series.key] === 'number');
    if (!shown.length) continue;
    // A gap in the reports (a step without this value) breaks the line instead of bridging it.
    let d = '';
    let pen = 'M';
    for (const p of points) {
      const v = p[series.key];
      if (typeof v !== 'number') { pen = 'M'; continue; }
      d += `${pen}${x(p.step).toFixed(2)},${y(v).toFixed(2)} `;
      pen = 'L';
    }
    svg.append(s('path', { class: `line ${series.cls}`, d: d.trim() }));
    const dots = s('g', { class: `points ${series.cls}` });
    for (const p of shown) {
      dots.append(s('circle', { class: `pt ${series.cls}`, cx: x(p.step).toFixed(2), cy: y(p[series.key]).toFixed(2), r: 2.6, 'data-step': p.step },
        s('title', {}, `step ${p.step}: ${series.label} ${fmt.num(p[series.key], 5)}`)));
    }
    svg.append(dots);
    legend.append(
      s('line', { class: `line ${series.cls}`, x1: legendX, x2: legendX + 22, y1: MARGIN.top + 6, y2: MARGIN.top + 6 }),
      s('text', { x: legendX + 28, y: MARGIN.top + 10 }, series.label),
    );
    legendX += 125;
  }
  svg.append(legend);
  return svg;
}
