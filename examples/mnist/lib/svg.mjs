/**
 * The certified-accuracy plot: certified accuracy (l2) against the radius epsilon, one curve
 * per model, labelled axes, a legend, and dotted lines at the table's epsilons. A standalone
 * SVG 1.1 document with no dependencies (the activation grid is `examples/shared/svg.mjs`'s
 * `activationsSvg`).
 */

import {doc, esc, f} from '../../shared/svg.mjs';

const COLORS = ['#7f7f7f', '#bcbd22', '#1f77b4', '#2ca02c', '#d62728', '#9467bd', '#ff7f0e'];
const DASHES = ['6,4', '2,3', '', '', '', '', ''];

/**
 * @param {{title: string, epsilons: number[], marks: number[], series: {label: string,
 *   accuracy: number[], pgd?: number[]}[], note?: string}} args `accuracy[i]` is the share at
 *   `epsilons[i]`; `pgd[j]` (optional) the PGD accuracy at `marks[j]`, drawn as circles joined
 *   by a thin dotted line in the series' colour
 */
export function certifiedCurveSvg({title, epsilons, marks, series, note}) {
  const pw = 520;
  const ph = 320;
  const left = 64;
  const top = note ? 52 : 40;
  const legendW = 150;
  const xmax = Math.max(...epsilons);
  const X = (e) => left + (e / xmax) * pw;
  const Y = (a) => top + ph - a * ph;
  let body = `<text x="10" y="20" font-size="14">${esc(title)}</text>\n`;
  if (note) body += `<text x="10" y="38" font-size="11" fill="#555">${esc(note)}</text>\n`;
  body += `<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>\n`;
  for (let a = 0; a <= 1.0001; a += 0.1) {
    body += `<line x1="${left}" x2="${left + pw}" y1="${f(Y(a))}" y2="${f(Y(a))}" stroke="#e4e4e4"/>` +
      `<text x="${left - 6}" y="${f(Y(a) + 4)}" text-anchor="end" font-size="10">${Math.round(a * 100)}%</text>\n`;
  }
  for (let e = 0; e <= xmax + 1e-9; e += 0.25) {
    body += `<text x="${f(X(e))}" y="${top + ph + 15}" text-anchor="middle" font-size="10">${Number(e.toFixed(2))}</text>\n`;
  }
  for (const m of marks) {
    body += `<line x1="${f(X(m))}" x2="${f(X(m))}" y1="${top}" y2="${top + ph}" stroke="#bbb" stroke-dasharray="2,3"/>\n`;
  }
  series.forEach((s, i) => {
    const dash = DASHES[i % DASHES.length];
    body += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"` +
      (dash ? ` stroke-dasharray="${dash}"` : '') + ` points="` +
      s.accuracy.map((a, k) => `${f(X(epsilons[k]))},${f(Y(a))}`).join(' ') + `"/>\n`;
    if (s.pgd) {
      const pts = [[0, s.accuracy[0]], ...s.pgd.map((a, j) => [marks[j], a])];
      body += `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1" stroke-dasharray="1,3" points="` +
        pts.map(([e, a]) => `${f(X(e))},${f(Y(a))}`).join(' ') + `"/>\n` +
        s.pgd.map((a, j) => `<circle cx="${f(X(marks[j]))}" cy="${f(Y(a))}" r="3.5" fill="white" ` +
          `stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"/>`).join('') + '\n';
    }
  });
  body += `<text x="${left + pw / 2}" y="${top + ph + 34}" text-anchor="middle">l2 radius epsilon (pixels in [0, 1])</text>\n`;
  body += `<text transform="translate(16 ${top + ph / 2}) rotate(-90)" text-anchor="middle">${series.some((x) => x.pgd) ? 'accuracy (lines: certified; circles: PGD)' : 'certified accuracy'}</text>\n`;
  const lx = left + pw + 20;
  body += `<text x="${lx}" y="${top + 4}" font-weight="bold">model</text>\n`;
  series.forEach((s, i) => {
    const y = top + 22 + i * 20;
    const dash = DASHES[i % DASHES.length];
    body += `<line x1="${lx}" x2="${lx + 28}" y1="${y - 4}" y2="${y - 4}" stroke="${COLORS[i % COLORS.length]}" ` +
      `stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/><text x="${lx + 34}" y="${y}">${esc(s.label)}</text>\n`;
  });
  const width = lx + legendW;
  const height = top + ph + 48;
  return doc(width, height, body, title);
}
