#!/usr/bin/env node
/**
 * The recipe study of the 1-Lipschitz spline net on the VALIDATION split (55,000 training /
 * 5,000 validation digits; the test set is not read): one row per change from the recipe
 * (Björck or spectral normalisation only; the splines' init, size and range; a learnable
 * scale per activation; the spline coefficients' learning rate; tau; with the proximal solver:
 * lambda and the spline learning rate), each a run of index.mjs with --validation, beside the
 * 1-Lipschitz ReLU and GroupSort nets at the same schedule. Writes ablation.json and
 * ablation.md into --out.
 *
 * Usage: node examples/mnist/ablation.mjs [--epochs N] [--jobs N] [--out DIR]
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {commandLine, parseOptions} from '../../scripts/cli.mjs';
import {markdownTable} from '../shared/tables.mjs';
import {DEFAULT_BJORCK_STEPS, DEFAULT_TAU, EPSILONS, LIP_SPLINE, STUDY_WIDTH} from './lib/cli.mjs';
import {pool, runIndex} from './lib/runs.mjs';

const USAGE = `The recipe study of the 1-Lipschitz spline net on the MNIST validation split.

Usage: node examples/mnist/ablation.mjs [options]

Options:
  --epochs N   epochs of every run (default: 3)
  --jobs N     runs at a time (default: 1)
  --rows LIST  comma-separated subset of the rows' names (default: all)
  --reuse      keep the rows already in --out (same epochs) instead of running them again
  --out DIR    output folder (default: out/mnist-ablation)
  -h, --help   this help
`;

/** The rows: a name, the model, what changes from the recipe (index.mjs options). */
export const ROWS = [
  {name: 'relu_lip1', model: 'relu_lip1', change: 'the 1-Lipschitz ReLU net', args: []},
  {name: 'groupsort_lip1', model: 'groupsort_lip1', change: 'the 1-Lipschitz GroupSort net', args: []},
  {name: 'recipe', model: 'spline_lip1', change: 'the recipe', args: []},
  {name: 'spectral', model: 'spline_lip1', change: 'spectral normalisation only (no Björck)', args: ['--bjorck-steps', '0']},
  {name: 'init_identity', model: 'spline_lip1', change: 'init identity', args: ['--lip-init', 'identity']},
  {name: 'init_leaky', model: 'spline_lip1', change: 'init leaky_relu', args: ['--lip-init', 'leaky_relu']},
  {name: 'init_even_odd', model: 'spline_lip1', change: 'init even_odd (the reference\'s: half abs, half soft threshold)', args: ['--lip-init', 'even_odd']},
  {name: 'range_0.5', model: 'spline_lip1', change: 'range 0.5', args: ['--lip-range', '0.5']},
  {name: 'range_2', model: 'spline_lip1', change: 'range 2', args: ['--lip-range', '2']},
  {name: 'size_41', model: 'spline_lip1', change: 'size 41', args: ['--lip-size', '41']},
  {name: 'sparse_3e-6', model: 'spline_lip1_sparse', change: 'proximal TV(2), lambda 3e-6', args: ['--prox-lambda', '3e-6', '--spline-lr', '1']},
  {name: 'sparse_1e-5', model: 'spline_lip1_sparse', change: 'proximal TV(2), lambda 1e-5', args: ['--prox-lambda', '1e-5', '--spline-lr', '1']},
  {name: 'sparse_3e-5', model: 'spline_lip1_sparse', change: 'proximal TV(2), lambda 3e-5', args: ['--prox-lambda', '3e-5', '--spline-lr', '1']},
  {name: 'sparse_1e-4', model: 'spline_lip1_sparse', change: 'proximal TV(2), lambda 1e-4', args: ['--prox-lambda', '1e-4', '--spline-lr', '1']},
  {name: 'tau_1', model: 'spline_lip1', change: 'tau 1', args: ['--tau', '1']},
  {name: 'tau_4', model: 'spline_lip1', change: 'tau 4', args: ['--tau', '4']},
  {name: 'prox_1e-5_lr_0.1', model: 'spline_lip1_sparse', change: 'proximal TV(2), lambda 1e-5, spline learning rate x0.1', args: ['--prox-lambda', '1e-5', '--spline-lr', '0.1']},
  {name: 'prox_1e-5_lr_0.025', model: 'spline_lip1_sparse', change: 'proximal TV(2), lambda 1e-5, spline learning rate x0.025 (Ducotterd et al.\'s 5e-5 / 2e-3)', args: ['--prox-lambda', '1e-5', '--spline-lr', '0.025']},
  {name: 'lr_0.1', model: 'spline_lip1', change: 'spline learning rate x0.1 (TV(2) in the loss)', args: ['--lip-spline-lr', '0.1']},
  {name: 'lr_0.025', model: 'spline_lip1', change: 'spline learning rate x0.025 (TV(2) in the loss)', args: ['--lip-spline-lr', '0.025']},
  {name: 'scale', model: 'spline_lip1', change: 'a learnable scale per activation, spline(alpha x) / alpha', args: ['--lip-scale']},
  {name: 'scale_lr_0.025', model: 'spline_lip1', change: 'a learnable scale, spline learning rate x0.025 (Ducotterd et al.\'s recipe)', args: ['--lip-scale', '--lip-spline-lr', '0.025']},
];

const values = commandLine((argv) => {
  const {parsed, values: numbers} = parseOptions(argv, {'epochs': ['epochs', 'int', 1], 'jobs': ['jobs', 'int', 1]},
    {'rows': {type: 'string'}, 'out': {type: 'string'}, 'reuse': {type: 'boolean'}, 'help': {type: 'boolean', short: 'h'}});
  return {...parsed, epochs: numbers.epochs ?? 3, jobs: numbers.jobs ?? 1};
}, USAGE);
const {epochs, jobs} = values;
const out = resolve(values.out ?? 'out/mnist-ablation');
let rows = ROWS;
if (values.rows !== undefined) {
  const names = values.rows.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !ROWS.some((r) => r.name === n));
  if (bad.length) {
    console.error(`error: --rows: unknown ${JSON.stringify(bad.join(','))}; expected a subset of ${ROWS.map((r) => r.name).join(',')}`);
    process.exit(2);
  }
  rows = ROWS.filter((r) => names.includes(r.name));
}
mkdirSync(out, {recursive: true});

/** A row's entry from its run's results.json. */
function rowResult(row, dir, seconds) {
  const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).models[0];
  console.log(`${row.name.padEnd(16)} clean ${(100 * r.cleanAccuracy).toFixed(2)}%  ` +
    EPSILONS.map((e) => `cert@${e} ${(100 * r.certified[String(e)]).toFixed(2)}%`).join('  ') +
    (seconds == null ? '  (reused)' : `  (${seconds.toFixed(0)} s)`));
  return {...row, cleanAccuracy: r.cleanAccuracy, certified: r.certified, knots: r.knots, seconds: r.seconds};
}

async function run(row) {
  const dir = join(out, row.name);
  if (values.reuse && existsSync(join(dir, 'results.json'))) {
    const previous = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    if (previous.schedule.epochs === epochs && previous.evalSet === 'validation' && previous.width === STUDY_WIDTH) {
      return rowResult(row, dir, null);
    }
  }
  const seconds = await runIndex(`row ${row.name}`, ['--validation', '--width', String(STUDY_WIDTH), '--models', row.model,
    '--epochs', String(epochs),
    '--pgd-restarts', '0', '--no-save', '--no-plots', '--quiet', '--out', dir, ...row.args]);
  return rowResult(row, dir, seconds);
}

console.log(`${rows.length} runs of ${epochs} epochs on the validation split, ${jobs} at a time\n`);
const results = await pool(rows, jobs, run);

const pct = (v) => (100 * v).toFixed(2);
const COLUMNS = [
  {head: 'row', get: (r) => r.name},
  {head: 'model', get: (r) => r.model},
  {head: 'change from the recipe', get: (r) => r.change},
  {head: 'clean %', get: (r) => pct(r.cleanAccuracy), right: true},
  ...EPSILONS.map((e) => ({head: `cert. ${e} %`, get: (r) => pct(r.certified[String(e)]), right: true})),
  {head: 'knots (a_k != 0)', get: (r) => (r.knots ? `${r.knots.active} / ${r.knots.total}` : '-'), right: true},
];
const recipe = `Björck ${DEFAULT_BJORCK_STEPS} steps, splines init ${LIP_SPLINE.init}, size ${LIP_SPLINE.size}, ` +
  `range ${LIP_SPLINE.range}, tau ${DEFAULT_TAU}; the proximal rows at the spline learning rate they name (x1 unless said)`;
writeFileSync(join(out, 'ablation.json'), JSON.stringify({epochs, recipe, rows: results}, null, 2) + '\n');
writeFileSync(join(out, 'ablation.md'), `# The 1-Lipschitz spline net's recipe, on the validation split\n\n` +
  `- ${epochs} epochs of 55,000 training digits, evaluated on the 5,000 validation digits (not the test set); ` +
  `784-${STUDY_WIDTH}-${STUDY_WIDTH}-10, seed 0\n- Recipe: ${recipe}\n\n` + markdownTable(results, COLUMNS) + '\n');
console.log(`\nWrote ablation.json and ablation.md to ${out}`);
