/**
 * What the examples' hand-written SVG pictures share: escaping, number formatting, the
 * document wrapper, and the grid of learned activations with their knots (twod and mnist).
 * No dependencies; every file is a standalone SVG 1.1 document.
 */

/** `s` escaped for SVG text and attribute values. */
export const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  .replace(/"/g, '&quot;');
/** `v` rounded to 2 decimals, as SVG coordinates are written. */
export const f = (v) => (Math.round(v * 100) / 100).toString();

/** A standalone SVG 1.1 document of `width` x `height` with `body`, titled `title`, on white. */
export function doc(width, height, body, title) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">\n` +
    `<title>${esc(title)}</title>\n<rect width="${width}" height="${height}" fill="white"/>\n` +
    body + `</svg>\n`;
}

/**
 * A grid of small panels, one per activation: the curve, every knot as a dot (filled red
 * when active, i.e. |a_k| > threshold; hollow grey otherwise) and the grid range shaded.
 * @param {{title: string, rows: {label: string, panels: {label: string, x: number[],
 *   y: number[], knots: {x: number, y: number, active: boolean}[], range?: number}[]}[]}} args
 */
export function activationsSvg({title, rows, note}) {
  const pw = 170;
  const ph = 140;
  const gap = 18;
  const left = 80;
  const top = 46;
  const cols = Math.max(1, ...rows.map((r) => r.panels.length));
  const width = left + cols * (pw + gap) + 10;
  const height = top + rows.length * (ph + gap + 14) + 20;
  let body = `<text x="10" y="20" font-size="14">${esc(title)}</text>\n`;
  if (note) body += `<text x="10" y="36" font-size="11" fill="#555">${esc(note)}</text>\n`;
  rows.forEach((row, r) => {
    const y0 = top + r * (ph + gap + 14);
    body += `<text x="10" y="${y0 + ph / 2}" font-size="12">${esc(row.label)}</text>\n`;
    row.panels.forEach((p, c) => {
      const x0 = left + c * (pw + gap);
      const xmin = Math.min(...p.x);
      const xmax = Math.max(...p.x);
      let ymin = Math.min(...p.y, ...p.knots.map((k) => k.y));
      let ymax = Math.max(...p.y, ...p.knots.map((k) => k.y));
      if (!(ymax - ymin > 1e-6)) { ymin -= 0.5; ymax += 0.5; }
      const py = 0.08 * (ymax - ymin);
      ymin -= py; ymax += py;
      const X = (v) => x0 + ((v - xmin) / (xmax - xmin)) * pw;
      const Y = (v) => y0 + ph - ((v - ymin) / (ymax - ymin)) * ph;
      body += `<g>\n<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="#fafafa" stroke="#999"/>\n`;
      if (p.range != null) {
        body += `<rect x="${f(X(-p.range))}" y="${y0}" width="${f(X(p.range) - X(-p.range))}" ` +
          `height="${ph}" fill="#eef3fa"/>\n`;
      }
      if (ymin < 0 && ymax > 0) body += `<line x1="${x0}" x2="${x0 + pw}" y1="${f(Y(0))}" y2="${f(Y(0))}" stroke="#ccc"/>\n`;
      if (xmin < 0 && xmax > 0) body += `<line y1="${y0}" y2="${y0 + ph}" x1="${f(X(0))}" x2="${f(X(0))}" stroke="#ccc"/>\n`;
      body += `<polyline fill="none" stroke="#1f5fa8" stroke-width="1.6" points="` +
        p.x.map((v, i) => `${f(X(v))},${f(Y(p.y[i]))}`).join(' ') + `"/>\n`;
      for (const k of p.knots) {
        body += k.active ?
          `<circle cx="${f(X(k.x))}" cy="${f(Y(k.y))}" r="2.6" fill="#c0392b"/>\n` :
          `<circle cx="${f(X(k.x))}" cy="${f(Y(k.y))}" r="2" fill="none" stroke="#999"/>\n`;
      }
      body += `<text x="${x0 + pw / 2}" y="${y0 + ph + 13}" text-anchor="middle" font-size="11">${esc(p.label)}</text>\n`;
      body += `<text x="${x0 + 2}" y="${y0 + 11}" font-size="9" fill="#666">y ${f(ymax - py)}</text>` +
        `<text x="${x0 + 2}" y="${y0 + ph - 3}" font-size="9" fill="#666">y ${f(ymin + py)}</text>` +
        `<text x="${x0 + pw - 2}" y="${y0 + ph - 3}" font-size="9" fill="#666" text-anchor="end">x ${f(xmin)}..${f(xmax)}</text>\n</g>\n`;
    });
  });
  return doc(width, height, body, title);
}
