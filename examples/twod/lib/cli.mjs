/** Command-line options of the 2-D benchmark. */
import {DATASETS} from './data.mjs';
import {MODELS} from './models.mjs';

/** The reference schedule of the paper's scripts (`--full`). */
export const FULL_SCHEDULE = {epochs: 500, batchSize: 10, lr: 1e-3, milestones: [440, 480], gamma: 0.1};

/**
 * The default, shorter schedule: finishes the whole default run (2 datasets x 5 models) in
 * under 3 minutes on a 2-core machine. Milestones at the same fractions (0.88, 0.96) as the
 * reference.
 */
export const SHORT_SCHEDULE = {epochs: 30, batchSize: 25, lr: 3e-3, milestones: [26, 29], gamma: 0.1};

/** The lambdas of `--sweep` (the paper's trade-off). */
export const SWEEP_LAMBDAS = [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2];

export const HELP = `Deep spline networks on the paper's 2-D benchmark (Aziznejad et al., IEEE TSP 2020).

Trains 2 -> 4 -> 4 -> 1 networks (sigmoid output) with ReLU, LeakyReLU, PReLU and learnable
spline activations (TV(2)-regularized; and under a Lipschitz constraint), then prints a table
and writes results.json, results.md and SVG pictures into the output folder.

Usage: node examples/twod/index.mjs [options]       (or: npm start -- [options])

Options:
  --dataset NAME        ${DATASETS.join(' | ')} | all            (default: all)
  --models LIST         comma-separated subset of ${Object.keys(MODELS).join(',')}
                        (default: all)
  --epochs N            training epochs (default: ${SHORT_SCHEDULE.epochs}; --full: ${FULL_SCHEDULE.epochs})
  --batch-size N        minibatch size (default: ${SHORT_SCHEDULE.batchSize}; --full: ${FULL_SCHEDULE.batchSize})
  --lr X                Adam learning rate (default: ${SHORT_SCHEDULE.lr}; --full: ${FULL_SCHEDULE.lr})
  --lambda X            TV(2) weight of the spline networks (default: 1e-5)
  --weight-decay X      weight decay of the linear layers (default: 1e-5)
  --target X            Lipschitz target of the constrained spline net (default: 1)
  --knot-threshold X    |ReLU slope change| above which a knot counts as active (default: 1e-3)
  --train-size N        use only the first N of the 1500 training points (smoke tests)
  --seed N              seed of the data, the shuffling and every initializer (default: 0)
  --backend NAME        cpu | wasm (default: cpu)
  --out DIR             output folder (default: out)
  --full                the reference schedule: ${FULL_SCHEDULE.epochs} epochs, batch ${FULL_SCHEDULE.batchSize}, Adam ${FULL_SCHEDULE.lr},
                        milestones ${FULL_SCHEDULE.milestones.join('/')} gamma ${FULL_SCHEDULE.gamma} (about an hour on 2 cores)
  --sweep               the lambda trade-off: the spline net for lambda in
                        {${SWEEP_LAMBDAS.join(', ')}}; writes sweep.json, sweep.md, sweep.svg
  --no-plots            skip the SVG pictures
  --quiet               no progress bars
  -h, --help            this help
`;

const NUMBER_OPTIONS = {
  '--epochs': ['epochs', 'int', 1], '--batch-size': ['batchSize', 'int', 1], '--lr': ['lr', 'pos'],
  '--lambda': ['lambda', 'nonneg'], '--weight-decay': ['weightDecay', 'nonneg'], '--target': ['target', 'pos'],
  '--knot-threshold': ['knotThreshold', 'nonneg'], '--train-size': ['trainSize', 'int', 1],
  '--seed': ['seed', 'int', 0],
};

/**
 * Parses argv (without node and the script). Throws an Error with a clear message on bad input.
 * @param {string[]} argv
 */
export function parseArgs(argv) {
  const o = {
    dataset: 'all', models: Object.keys(MODELS), lambda: 1e-5, weightDecay: 1e-5, target: 1,
    knotThreshold: 1e-3, seed: 0, backend: 'cpu', out: 'out', full: false, sweep: false,
    plots: true, quiet: false, help: false, trainSize: undefined,
  };
  const given = {};
  for (let i = 0; i < argv.length; ++i) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { value = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new Error(`option ${arg} expects a value`);
      return argv[++i];
    };
    if (arg === '-h' || arg === '--help') o.help = true;
    else if (arg === '--full') o.full = true;
    else if (arg === '--sweep') o.sweep = true;
    else if (arg === '--no-plots') o.plots = false;
    else if (arg === '--quiet') o.quiet = true;
    else if (arg === '--out') o.out = next();
    else if (arg === '--dataset') {
      const v = next();
      if (v !== 'all' && !DATASETS.includes(v)) {
        throw new Error(`--dataset: expected ${DATASETS.join(', ')} or all, got ${JSON.stringify(v)}`);
      }
      o.dataset = v;
    } else if (arg === '--models') {
      const list = next().split(',').map((s) => s.trim()).filter(Boolean);
      const bad = list.filter((m) => !(m in MODELS));
      if (list.length === 0 || bad.length > 0) {
        throw new Error(`--models: unknown ${JSON.stringify(bad.join(','))}; expected a comma-separated ` +
          `subset of ${Object.keys(MODELS).join(',')}`);
      }
      o.models = Object.keys(MODELS).filter((m) => list.includes(m));
    } else if (arg === '--backend') {
      const v = next();
      if (v !== 'cpu' && v !== 'wasm') throw new Error(`--backend: expected cpu or wasm, got ${JSON.stringify(v)}`);
      o.backend = v;
    } else if (arg in NUMBER_OPTIONS) {
      const [key, kind, min] = NUMBER_OPTIONS[arg];
      const raw = next();
      const v = Number(raw);
      const ok = raw.trim() !== '' && Number.isFinite(v) &&
        (kind === 'int' ? Number.isInteger(v) && v >= min : kind === 'pos' ? v > 0 : v >= 0);
      if (!ok) {
        const want = kind === 'int' ? `an integer >= ${min}` : kind === 'pos' ? 'a number > 0' : 'a number >= 0';
        throw new Error(`${arg}: expected ${want}, got ${JSON.stringify(raw)}`);
      }
      o[key] = v;
      given[key] = true;
    } else {
      throw new Error(`unknown option ${JSON.stringify(arg)} (see --help)`);
    }
  }
  const base = o.full ? FULL_SCHEDULE : SHORT_SCHEDULE;
  o.schedule = {
    name: o.full ? 'full (reference)' : 'short (default; the reference schedule is --full)',
    epochs: given.epochs ? o.epochs : base.epochs,
    batchSize: given.batchSize ? o.batchSize : base.batchSize,
    lr: given.lr ? o.lr : base.lr,
    gamma: base.gamma,
  };
  // Milestones at the reference's fractions of the schedule (440/500, 480/500).
  o.schedule.milestones = given.epochs || !o.full ?
    base.milestones.map((m) => Math.round((m / base.epochs) * o.schedule.epochs)) : base.milestones;
  if (given.epochs || given.batchSize || given.lr) o.schedule.name = 'custom';
  o.datasets = o.dataset === 'all' ? DATASETS.slice() : [o.dataset];
  return o;
}
