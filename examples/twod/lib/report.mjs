/** The results table: console text and Markdown. */

const fmt = (v, digits) => (v == null || !Number.isFinite(v) ? '-' : v.toFixed(digits));
const fmtBound = (v) => (v == null || !Number.isFinite(v) ? '-' : v >= 1e4 ? v.toExponential(2) : v.toPrecision(4));

/** Column definitions shared by the console table and the Markdown table. */
export const COLUMNS = [
  {head: 'dataset', get: (r) => r.dataset},
  {head: 'model', get: (r) => r.model},
  {head: 'test acc %', get: (r) => fmt(100 * r.testAccuracy, 2), right: true},
  {head: 'Lip. bound (operator)', get: (r) => fmtBound(r.lipschitzBound), right: true},
  {head: 'Lip. bound (paper)', get: (r) => fmtBound(r.paperBound), right: true},
  {head: 'active knots', get: (r) => (r.activeKnots == null ? '-' : String(r.activeKnots)), right: true},
  {head: 'params', get: (r) => String(r.params), right: true},
  {head: 'seconds', get: (r) => fmt(r.seconds, 1), right: true},
];

/** A plain-text table with aligned columns. */
export function textTable(rows, columns = COLUMNS) {
  const cells = rows.map((r) => columns.map((c) => c.get(r)));
  const widths = columns.map((c, i) => Math.max(c.head.length, ...cells.map((row) => row[i].length)));
  const line = (vals) => vals.map((v, i) => (columns[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [line(columns.map((c) => c.head)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable(rows, columns = COLUMNS) {
  const head = `| ${columns.map((c) => c.head).join(' | ')} |`;
  const sep = `|${columns.map((c) => (c.right ? '---:' : ':---')).join('|')}|`;
  return [head, sep, ...rows.map((r) => `| ${columns.map((c) => c.get(r)).join(' | ')} |`)].join('\n');
}
