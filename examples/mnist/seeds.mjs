#!/usr/bin/env node
/**
 * The 1-Lipschitz nets of the table over several seeds: one index.mjs run per seed (same
 * width, schedule and settings; the seed moves the initializers, the shuffling and the
 * attack), then the mean and the sample standard deviation of the clean and certified
 * accuracies, and the per-seed differences of spline_lip1 against groupsort_lip1 (paired by
 * seed). Writes seeds.json and seeds.md into --out; every run's own folder is kept there.
 *
 * Usage: node examples/mnist/seeds.mjs [options] [-- index.mjs options]
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {commandLine, parseModelList, parseOptions} from '../../scripts/cli.mjs';
import {markdownTable, textTable} from '../shared/tables.mjs';
import {meanStd} from '../shared/stats.mjs';
import {EPSILONS} from './lib/cli.mjs';
import {MODELS} from './lib/models.mjs';
import {pool, runIndex} from './lib/runs.mjs';

const DEFAULT_MODELS = ['relu_lip1', 'groupsort_lip1', 'spline_lip1'];
const USAGE = `The 1-Lipschitz MNIST nets over several seeds (mean and standard deviation).

Usage: node examples/mnist/seeds.mjs [options] [-- index.mjs options]

Options:
  --seeds LIST   comma-separated seeds (default: 0,1,2)
  --models LIST  comma-separated subset of ${Object.keys(MODELS).join(',')}
                 (default: ${DEFAULT_MODELS.join(',')})
  --jobs N       runs at a time (default: 1)
  --reuse        keep the seeds already in --out (same data, network and schedule)
  --out DIR      output folder (default: out/mnist-seeds)
  -h, --help     this help

Options after -- go to every index.mjs run (e.g. -- --width 256 --pgd-restarts 0); the runs
always get --models, --seed, --out, --no-save, --no-plots and --quiet.
`;

const split = process.argv.indexOf('--');
const passed = split >= 0 ? process.argv.slice(split + 1) : [];
const values = commandLine((argv) => {
  const own = split >= 0 ? argv.slice(0, argv.indexOf('--')) : argv;
  const {parsed, values: numbers} = parseOptions(own, {'jobs': ['jobs', 'int', 1]}, {
    'seeds': {type: 'string'}, 'models': {type: 'string'}, 'out': {type: 'string'}, 'reuse': {type: 'boolean'},
    'help': {type: 'boolean', short: 'h'},
  });
  const seeds = (parsed.seeds ?? '0,1,2').split(',').map((s) => s.trim());
  const bad = seeds.find((s) => !/^\d+$/.test(s));
  if (bad !== undefined) throw new Error(`--seeds: expected comma-separated integers >= 0, got ${JSON.stringify(parsed.seeds)}`);
  if (new Set(seeds).size !== seeds.length) throw new Error(`--seeds: a seed is given twice in ${JSON.stringify(parsed.seeds)}`);
  const forbidden = passed.find((a) => ['--models', '--seed', '--out'].includes(a));
  if (forbidden) throw new Error(`${forbidden} after --: seeds.mjs sets it for every run`);
  return {...parsed, seeds: seeds.map(Number), models: parsed.models ? parseModelList(parsed.models, MODELS) : DEFAULT_MODELS,
    jobs: numbers.jobs ?? 1};
}, USAGE);
const out = resolve(values.out ?? 'out/mnist-seeds');
mkdirSync(out, {recursive: true});

/** What every seed's run must share with the others (index.mjs's recipe lines). */
const SHARED = ['data', 'network', 'schedule', 'lipschitz', 'splines'];
const sameRun = (a, b) => SHARED.every((k) => k === 'schedule' ?
  a[k].replace(/; seed \d+$/, '') === b[k].replace(/; seed \d+$/, '') : a[k] === b[k]);

async function run(seed) {
  const dir = join(out, `seed_${seed}`);
  const file = join(dir, 'results.json');
  const has = (r) => values.models.every((m) => r.models.some((row) => row.model === m));
  if (values.reuse && existsSync(file) && has(JSON.parse(readFileSync(file, 'utf8')))) {
    console.log(`seed ${seed}: reused ${file}`);
    return JSON.parse(readFileSync(file, 'utf8'));
  }
  const seconds = await runIndex(`seed ${seed}`, [...passed, '--models', values.models.join(','), '--seed', String(seed),
    '--out', dir, '--no-save', '--no-plots', '--quiet']);
  console.log(`seed ${seed}: ${seconds.toFixed(0)} s`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

const runs = await pool(values.seeds, values.jobs, run);
const first = runs[0].recipe;
const odd = runs.findIndex((r) => !sameRun(r.recipe, first));
if (odd >= 0) {
  console.error(`error: seed ${values.seeds[odd]}'s run differs from seed ${values.seeds[0]}'s in its data, network, ` +
    `schedule or settings (${join(out, `seed_${values.seeds[odd]}`, 'results.json')}); run it again without --reuse`);
  process.exit(2);
}

const metrics = [['clean', (r) => r.cleanAccuracy], ...EPSILONS.map((e) => [`cert. ${e}`, (r) => r.certified[String(e)]])];
/** Mean and sample standard deviation (n - 1) of `xs` (sd 0 for one seed). */
function stats(xs) {
  const {mean, std} = meanStd(xs);
  return {mean, sd: std ?? 0};
}
const rowOf = (run, model) => run.models.find((r) => r.model === model);
const rows = values.models.map((model) => ({
  model,
  ...Object.fromEntries(metrics.map(([name, get]) => [name, {
    ...stats(runs.map((r) => get(rowOf(r, model)))), perSeed: runs.map((r) => get(rowOf(r, model))),
  }])),
}));
const pct = (v) => (100 * v).toFixed(2);
const cell = (s) => `${pct(s.mean)} ± ${pct(s.sd)}`;
const columns = [{head: 'model', get: (r) => r.model},
  ...metrics.map(([name]) => ({head: `${name} %`, get: (r) => cell(r[name]), right: true}))];
const perSeed = [{head: 'model', get: (r) => r.model},
  ...metrics.map(([name]) => ({head: `${name} % (seeds ${values.seeds.join(' / ')})`,
    get: (r) => r[name].perSeed.map(pct).join(' / '), right: true}))];
// spline_lip1 minus groupsort_lip1, seed by seed, when both ran.
const paired = ['spline_lip1', 'groupsort_lip1'].every((m) => values.models.includes(m)) ?
  metrics.map(([name, get]) => ({metric: name,
    ...stats(runs.map((r) => get(rowOf(r, 'spline_lip1')) - get(rowOf(r, 'groupsort_lip1')))),
    perSeed: runs.map((r) => get(rowOf(r, 'spline_lip1')) - get(rowOf(r, 'groupsort_lip1')))})) : null;
const pairedColumns = [{head: 'spline_lip1 - groupsort_lip1', get: (d) => d.metric},
  {head: 'mean ± sd (points)', get: (d) => cell(d), right: true},
  {head: `per seed (${values.seeds.join(' / ')})`, get: (d) => d.perSeed.map(pct).join(' / '), right: true}];

console.log('\n' + textTable(rows, columns) + (paired ? '\n\n' + textTable(paired, pairedColumns) : ''));
writeFileSync(join(out, 'seeds.json'), JSON.stringify({seeds: values.seeds, recipe: first, evalSet: runs[0].evalSet,
  evalSize: runs[0].evalSize, rows, paired}, null, 2) + '\n');
writeFileSync(join(out, 'seeds.md'), `# The 1-Lipschitz nets over ${values.seeds.length} seeds\n\n` +
  Object.entries(first).filter(([k]) => k !== 'attack').map(([k, v]) => `- ${k}: ${v.replace(/; seed \d+$/, '')}`).join('\n') +
  `\n- seeds: ${values.seeds.join(', ')} (initializers, shuffling); evaluated on ${runs[0].evalSize} ${runs[0].evalSet} digits\n\n` +
  `Mean ± sample standard deviation over the seeds:\n\n${markdownTable(rows, columns)}\n\n` +
  `Per seed:\n\n${markdownTable(rows, perSeed)}\n` +
  (paired ? `\nspline_lip1 minus groupsort_lip1, paired by seed (points):\n\n${markdownTable(paired, pairedColumns)}\n` : ''));
console.log(`\nWrote seeds.json and seeds.md to ${out}`);
