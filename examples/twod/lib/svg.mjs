/**
 * Hand-written SVG pictures of the 2-D benchmark: decision regions with the true boundary,
 * the lambda sweep and the certified accuracy (the activation grid is in
 * `examples/shared/svg.mjs`). No dependencies; every file is a standalone SVG 1.1 document.
 */

import {doc, esc, f} from '../../shared/svg.mjs';
import {ANNULUS_RADII_SQ, CIRCLE_RADIUS_SQ} from './data.mjs';

/** The true class boundary of a dataset as SVG path data, in data coordinates mapped by `m`. */
function truthPath(dataset, m) {
  const circle = (r) => {
    const pts = [];
    for (let i = 0; i <= 180; ++i) {
      const a = (2 * Math.PI * i) / 180;
      pts.push([r * Math.cos(a), r * Math.sin(a)]);
    }
    return 'M' + pts.map(([x, y]) => `${f(m.x(x))},${f(m.y(y))}`).join(' L') + ' Z';
  };
  if (dataset === 'circle') return circle(Math.sqrt(CIRCLE_RADIUS_SQ));
  if (dataset === 'annulus') return `${circle(Math.sqrt(ANNULUS_RADII_SQ.inner))} ${circle(Math.sqrt(ANNULUS_RADII_SQ.outer))}`;
  // s_shape: 0.4 sin(-5y) - 0.3 < x < 0.4 sin(-5y) + 0.3 and |y| < 0.8, clipped to [-1, 1]^2.
  const clip = (v) => Math.max(-1, Math.min(1, v));
  const left = [];
  const right = [];
  for (let i = 0; i <= 160; ++i) {
    const y = -0.8 + (1.6 * i) / 160;
    const c = 0.4 * Math.sin(-5 * y);
    left.push([clip(c - 0.3), y]);
    right.push([clip(c + 0.3), y]);
  }
  const ring = [...left, ...right.reverse()];
  return 'M' + ring.map(([x, y]) => `${f(m.x(x))},${f(m.y(y))}`).join(' L') + ' Z';
}

/**
 * The predicted class regions on the test grid (run-length encoded rows of cells), the true
 * boundary as a dashed line, and a legend.
 * @param {{probabilities: Float32Array, side: number, dataset: string, title: string,
 *   accuracy: number}} args
 */
export function decisionRegionSvg({probabilities, side, dataset, title, accuracy}) {
  const size = 400;
  const pad = 40;
  const cell = size / side;
  const m = {x: (x) => pad + ((x + 1) / 2) * size, y: (y) => pad + ((1 - y) / 2) * size};
  let body = `<text x="${pad}" y="16" font-size="14">${esc(title)}</text>\n`;
  body += `<g shape-rendering="crispEdges">\n<rect x="${pad}" y="${pad}" width="${size}" height="${size}" fill="#dbe7f3"/>\n`;
  for (let i = 0; i < side; ++i) {          // row i holds y = centre i (bottom to top)
    let j = 0;
    while (j < side) {
      if (!(probabilities[i * side + j] > 0.5)) { ++j; continue; }
      const j0 = j;
      while (j < side && probabilities[i * side + j] > 0.5) ++j;
      const yTop = pad + (side - 1 - i) * cell;
      body += `<rect x="${f(pad + j0 * cell)}" y="${f(yTop)}" width="${f((j - j0) * cell)}" ` +
        `height="${f(cell)}" fill="#f4b183"/>\n`;
    }
  }
  body += `</g>\n<path d="${truthPath(dataset, m)}" fill="none" stroke="black" stroke-width="1.5" ` +
    `stroke-dasharray="5,3"/>\n`;
  body += `<rect x="${pad}" y="${pad}" width="${size}" height="${size}" fill="none" stroke="#444"/>\n`;
  for (const v of [-1, -0.5, 0, 0.5, 1]) {
    body += `<text x="${f(m.x(v))}" y="${pad + size + 15}" text-anchor="middle">${v}</text>\n`;
    body += `<text x="${pad - 6}" y="${f(m.y(v) + 4)}" text-anchor="end">${v}</text>\n`;
  }
  const ly = pad + size + 32;
  body += `<rect x="${pad}" y="${ly - 10}" width="12" height="12" fill="#f4b183"/>` +
    `<text x="${pad + 16}" y="${ly}">predicted 1</text>\n` +
    `<rect x="${pad + 100}" y="${ly - 10}" width="12" height="12" fill="#dbe7f3" stroke="#999"/>` +
    `<text x="${pad + 116}" y="${ly}">predicted 0</text>\n` +
    `<line x1="${pad + 200}" y1="${ly - 4}" x2="${pad + 230}" y2="${ly - 4}" stroke="black" ` +
    `stroke-width="1.5" stroke-dasharray="5,3"/><text x="${pad + 236}" y="${ly}">true boundary</text>\n`;
  if (accuracy != null) {
    body += `<text x="${pad}" y="32" font-size="11" fill="#555">test accuracy ${(100 * accuracy).toFixed(2)}%</text>\n`;
  }
  return doc(size + 2 * pad, size + 2 * pad + 10, body, title);
}

function niceTicks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * mag).find((s) => s >= raw) ?? raw;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) ticks.push(Number(v.toPrecision(6)));
  return ticks;
}

/**
 * Three stacked panels (test accuracy, exact active knots, Lipschitz bound) against lambda on
 * a log axis (ticks at the powers of ten); lambda = 0 is drawn at a separate "0" position left
 * of a break. A series with `dashed` is drawn dashed.
 * @param {{title: string, series: {label: string, dashed?: boolean, points: {lambda: number,
 *   testAccuracy: number, activeKnots: number, lipschitzBound: number}[]}[]}} args
 */
export function sweepSvg({title, series}) {
  const pw = 460;
  const ph = 150;
  const left = 80;
  const top = 56;
  const gap = 40;
  const colors = ['#1f5fa8', '#c0392b', '#27ae60', '#8e44ad'];
  const lambdas = [...new Set(series.flatMap((s) => s.points.map((p) => p.lambda)))].filter((l) => l > 0);
  const lmin = Math.log10(Math.min(...lambdas));
  const lmax = Math.log10(Math.max(...lambdas));
  const hasZero = series.some((s) => s.points.some((p) => p.lambda === 0));
  const zeroW = hasZero ? 64 : 0;
  const X = (l) => (l === 0 ? left + 22 : left + zeroW + ((Math.log10(l) - lmin) / Math.max(1e-9, lmax - lmin)) * (pw - zeroW - 10));
  const panels = [
    {key: 'testAccuracy', label: 'test accuracy'},
    {key: 'activeKnots', label: 'active knots (a_k != 0, exactly)'},
    {key: 'lipschitzBound', label: 'Lipschitz bound (certified, logit)'},
  ];
  let body = `<text x="10" y="20" font-size="14">${esc(title)}</text>\n`;
  panels.forEach((panel, r) => {
    const y0 = top + r * (ph + gap);
    const vals = series.flatMap((s) => s.points.map((p) => p[panel.key])).filter(Number.isFinite);
    let lo = Math.min(...vals);
    let hi = Math.max(...vals);
    if (!(hi - lo > 1e-9)) { lo -= 0.5 * Math.abs(lo || 1) * 0.1 + 0.01; hi += 0.5 * Math.abs(hi || 1) * 0.1 + 0.01; }
    const pad = 0.08 * (hi - lo);
    lo -= pad; hi += pad;
    const Y = (v) => y0 + ph - ((v - lo) / (hi - lo)) * ph;
    body += `<rect x="${left}" y="${y0}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>\n`;
    body += `<text x="${left - 60}" y="${y0 - 7}" font-size="12" font-weight="bold">${esc(panel.label)}</text>\n`;
    for (const t of niceTicks(lo, hi)) {
      body += `<line x1="${left}" x2="${left + pw}" y1="${f(Y(t))}" y2="${f(Y(t))}" stroke="#e4e4e4"/>` +
        `<text x="${left - 5}" y="${f(Y(t) + 4)}" text-anchor="end" font-size="10">${t}</text>\n`;
    }
    if (hasZero) {
      const xb = left + zeroW - 18;
      body += `<line x1="${xb}" x2="${xb}" y1="${y0}" y2="${y0 + ph}" stroke="#bbb" stroke-dasharray="3,3"/>\n`;
    }
    const decades = Array.from({length: Math.floor(lmax) - Math.ceil(lmin) + 1}, (_, i) => 10 ** (Math.ceil(lmin) + i));
    for (const l of [...(hasZero ? [0] : []), ...decades]) {
      const text = l === 0 ? '0' : `1e${Math.round(Math.log10(l))}`;
      body += `<text x="${f(X(l))}" y="${y0 + ph + 14}" text-anchor="middle" font-size="10">${text}</text>\n`;
    }
    series.forEach((s, i) => {
      const pts = s.points.filter((p) => Number.isFinite(p[panel.key])).sort((a, b) => a.lambda - b.lambda);
      const color = colors[i % colors.length];
      body += `<polyline fill="none" stroke="${color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="` +
        pts.map((p) => `${f(X(p.lambda))},${f(Y(p[panel.key]))}`).join(' ') + `"/>\n`;
      for (const p of pts) body += `<circle cx="${f(X(p.lambda))}" cy="${f(Y(p[panel.key]))}" r="3" fill="${color}"/>\n`;
    });
  });
  const ly = top + 2 * (ph + gap) + ph + 34;
  body += `<text x="${left + pw / 2}" y="${ly - 4}" text-anchor="middle">lambda (TV(2) weight, log scale; 0 at the left)</text>\n`;
  series.forEach((s, i) => {
    const x = left + (i % 2) * 230;
    const y = ly + 2 + Math.floor(i / 2) * 18;
    body += `<line x1="${x}" x2="${x + 22}" y1="${y + 6}" y2="${y + 6}" stroke="${colors[i % colors.length]}" ` +
      `stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>` +
      `<text x="${x + 28}" y="${y + 10}">${esc(s.label)}</text>\n`;
  });
  return doc(left + pw + 20, ly + 8 + Math.ceil(series.length / 2) * 18, body, title);
}

/**
 * Certified accuracy against the radius r: one panel per dataset, one curve per model (the
 * share of test points classified correctly with a certified l2 radius >= r).
 * @param {{title: string, note?: string, panels: {dataset: string, curves: {label: string,
 *   epsilons: number[], accuracy: number[]}[]}[]}} args
 */
export function certifiedSvg({title, note, panels}) {
  const pw = 300;
  const ph = 220;
  const left = 60;
  const top = 64;
  const gap = 50;
  const colors = ['#1f5fa8', '#c0392b', '#27ae60', '#8e44ad', '#e67e22'];
  const rmax = Math.max(...panels.flatMap((p) => p.curves.flatMap((c) => c.epsilons)));
  const X = (x0, r) => x0 + (r / rmax) * pw;
  const Y = (a) => top + ph - a * ph;
  let body = `<text x="10" y="20" font-size="14">${esc(title)}</text>\n`;
  if (note) body += `<text x="10" y="38" font-size="11" fill="#555">${esc(note)}</text>\n`;
  panels.forEach((panel, i) => {
    const x0 = left + i * (pw + gap);
    body += `<text x="${x0 + pw / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${esc(panel.dataset)}</text>\n`;
    body += `<rect x="${x0}" y="${top}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>\n`;
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      body += `<line x1="${x0}" x2="${x0 + pw}" y1="${f(Y(t))}" y2="${f(Y(t))}" stroke="#e4e4e4"/>` +
        `<text x="${x0 - 5}" y="${f(Y(t) + 4)}" text-anchor="end" font-size="10">${100 * t}</text>\n`;
    }
    for (const t of niceTicks(0, rmax, 5)) {
      body += `<line y1="${top}" y2="${top + ph}" x1="${f(X(x0, t))}" x2="${f(X(x0, t))}" stroke="#eee"/>` +
        `<text x="${f(X(x0, t))}" y="${top + ph + 14}" text-anchor="middle" font-size="10">${t}</text>\n`;
    }
    body += `<text x="${x0 + pw / 2}" y="${top + ph + 32}" text-anchor="middle">radius r (l2)</text>\n`;
    body += `<text x="${x0 - 40}" y="${top + ph / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 ${x0 - 40} ${top + ph / 2})">certified accuracy %</text>\n`;
    panel.curves.forEach((c, k) => {
      body += `<polyline fill="none" stroke="${colors[k % colors.length]}" stroke-width="1.8" points="` +
        c.epsilons.map((r, j) => `${f(X(x0, r))},${f(Y(c.accuracy[j]))}`).join(' ') + `"/>\n`;
    });
  });
  const labels = panels[0]?.curves.map((c) => c.label) ?? [];
  const ly = top + ph + 56;
  labels.forEach((label, k) => {
    const lx = left + k * 200;
    body += `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${colors[k % colors.length]}" ` +
      `stroke-width="2.5"/><text x="${lx + 30}" y="${ly}">${esc(label)}</text>\n`;
  });
  return doc(left + panels.length * (pw + gap), ly + 16, body, title);
}
