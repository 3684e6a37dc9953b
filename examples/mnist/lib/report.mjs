/** The columns of the MNIST example's results table (rendered by `examples/shared/tables.mjs`) and the published anchors. */
import {EPSILONS} from './cli.mjs';

const pct = (v) => (v == null || !Number.isFinite(v) ? '-' : (100 * v).toFixed(2));
const bound = (v) => (v == null || !Number.isFinite(v) ? '-' : v >= 1e3 ? v.toExponential(2) : v.toPrecision(7));

/** Column definitions shared by the console table and the Markdown table. */
export const COLUMNS = [
  {head: 'model', get: (r) => r.model},
  {head: 'clean %', get: (r) => pct(r.cleanAccuracy), right: true},
  {head: 'certified L', get: (r) => bound(r.lipschitzBound), right: true},
  ...EPSILONS.flatMap((e) => [
    {head: `cert. ${e} %`, get: (r) => pct(r.certified?.[String(e)]), right: true},
    {head: `PGD ${e} %`, get: (r) => pct(r.pgd?.[String(e)]), right: true},
  ]),
  {head: 'knots (a_k != 0)', get: (r) => (r.knots == null ? '-' : `${r.knots.active} / ${r.knots.total}`), right: true},
  {head: 'train s', get: (r) => (r.seconds == null ? '-' : r.seconds.toFixed(0)), right: true},
];

/**
 * Published certified (l2) results on the full MNIST (60,000 / 10,000), NOT run here: the
 * anchors our table is measured against, with their architecture and source.
 */
export const ANCHORS = [
  {
    model: 'BCOP paper, FC Björck + GroupSort (not run here)',
    architecture: '784-1024-1024-1024-10, Björck layers, GroupSort(2), multiclass hinge, 200 epochs, batch 128',
    cleanAccuracy: 0.9871, certified: {'1.58': 0.5446}, pgd: {'1.58': 0.8196},
    source: 'ColinQiyangLi/LConvNet, runs/adv-rob-mnist/fc (the BCOP authors\' released runs, mean of 5 trials)',
  },
  {
    model: 'BCOP-Large conv (not run here)',
    architecture: 'BCOP orthogonal convolutions + GroupSort, large conv net',
    cleanAccuracy: 0.9877, certified: {'1.58': 0.5666},
    source: 'Li et al., NeurIPS 2019 (BCOP), Table 2',
  },
  {
    model: 'GloRo 4C3F (not run here)',
    architecture: '4 conv + 3 dense, MinMax, TRADES-style GloRo loss',
    certified: {'1.58': 0.628},
    source: 'Leino, Wang, Fredrikson, ICML 2021 (GloRo nets)',
  },
];
