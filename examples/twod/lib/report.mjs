/**
 * The results table's columns and their mean +- std cells (the summaries come from
 * `examples/shared/stats.mjs`; rendered as console text and Markdown by `examples/shared/tables.mjs`).
 */

const fmtNumber = (v, digits, precision = 4) => (v >= 1e4 ? v.toExponential(2) : digits == null ?
  v.toPrecision(precision) : v.toFixed(digits));
const fmtSpread = (v, digits) => (digits != null ? v.toFixed(digits) : v !== 0 && (v < 1e-3 || v >= 1e4) ?
  v.toExponential(1) : v.toPrecision(3));

/** `mean ± std` of a summary (scaled), `-` when absent; the std is left out for one seed. */
function fmtStat(s, {scale = 1, digits, precision} = {}) {
  if (s == null) return '-';
  const mean = fmtNumber(scale * s.mean, digits, precision);
  return s.std == null ? mean : `${mean} ± ${fmtSpread(scale * s.std, digits)}`;
}

const pct = (s) => fmtStat(s, {scale: 100, digits: 2});

/** Column definitions shared by the console table and the Markdown table (summary rows). */
export const COLUMNS = [
  {head: 'dataset', get: (r) => r.dataset},
  {head: 'model', get: (r) => r.model},
  {head: 'test acc %', get: (r) => pct(r.testAccuracy), right: true},
  {head: 'certified % (r = 0.05)', get: (r) => pct(r.certifiedAccuracy['0.05']), right: true},
  {head: 'certified % (r = 0.1)', get: (r) => pct(r.certifiedAccuracy['0.1']), right: true},
  // Five digits: a 1-Lipschitz net's bound (1 - 5e-5, the splines' slope margin) is not 1.000.
  {head: 'Lip. bound (certified)', get: (r) => fmtStat(r.lipschitzBound, {precision: 5}), right: true},
  {head: 'Lip. bound (paper)', get: (r) => fmtStat(r.paperBound), right: true},
  {head: 'active knots', get: (r) => fmtStat(r.activeKnots, {digits: 1}), right: true},
  {head: 'params', get: (r) => String(r.params), right: true},
  {head: 'seconds', get: (r) => fmtStat(r.seconds, {digits: 1}), right: true},
];
