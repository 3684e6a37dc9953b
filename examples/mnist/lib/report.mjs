/** The columns of the MNIST example's results table (rendered by `examples/shared/tables.mjs`). */
import {EPSILONS} from './cli.mjs';

const pct = (v) => (v == null || !Number.isFinite(v) ? '-' : (100 * v).toFixed(1));
const bound = (v) => (v == null || !Number.isFinite(v) ? '-' : v >= 1e3 ? v.toExponential(2) : v.toPrecision(7));

/** Column definitions shared by the console table and the Markdown table. */
export const COLUMNS = [
  {head: 'model', get: (r) => r.model},
  {head: 'clean %', get: (r) => pct(r.cleanAccuracy), right: true},
  {head: 'certified L', get: (r) => bound(r.lipschitzBound), right: true},
  ...EPSILONS.map((e) => ({head: `cert. ${e} %`, get: (r) => pct(r.certified[String(e)]), right: true})),
  {head: 'median radius', get: (r) => (Number.isFinite(r.medianRadius) ? r.medianRadius.toFixed(3) : '-'), right: true},
  {head: 'train s', get: (r) => r.seconds.toFixed(1), right: true},
];
