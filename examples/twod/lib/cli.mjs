/** Command-line options of the 2-D benchmark (node:util's parseArgs, then checked values). */
import {DATASETS, PAPER_DATASETS} from './data.mjs';
import {MODELS} from './models.mjs';
import {parseModelList, parseOptions} from '../../../scripts/cli.mjs';

/** The reference schedule of the paper's scripts (`--full`). */
export const FULL_SCHEDULE = {epochs: 500, batchSize: 10, lr: 1e-3, milestones: [440, 480], gamma: 0.1};

/**
 * The default, shorter schedule: the whole default run (2 datasets x 7 models x 3 seeds, 480
 * steps per model) within about 3 minutes on a 2-core machine; larger batches and a larger
 * learning rate than the reference's. Milestones at the reference's fractions of the schedule
 * (0.88, 0.96).
 */
export const SHORT_SCHEDULE = {epochs: 32, batchSize: 100, lr: 1e-2, milestones: [28, 31], gamma: 0.1};

/** The lambdas of `--sweep` (the paper's trade-off) for the subgradient solver (TV(2) in the loss). */
export const SWEEP_LAMBDAS = [0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2];

/**
 * The lambdas of `--sweep` for the proximal solver (`tv2ProximalOptimizer`: the same objective
 * as the subgradient's lambda, minimized by proximal Adam).
 */
export const PROX_LAMBDAS = [0, 3e-5, 1e-4, 1.5e-4, 2e-4, 3e-4, 5e-4, 1e-3, 3e-3, 1e-2];

/**
 * The proximal solver's warm-up, in epochs: no penalty for the first PROX_WARMUP.warmup epochs,
 * then lambda rising linearly over PROX_WARMUP.ramp epochs (`warmupSteps`, `rampSteps` of
 * tv2ProximalOptimizer). Chosen on the validation split against no warm-up (see README).
 */
export const PROX_WARMUP = {warmup: 4, ramp: 4};

/**
 * Where the proximal solver's refit begins, as a share of the epochs (`refitAfterSteps` of
 * tv2ProximalOptimizer): from epoch 20 of the short schedule's 32 on, the zero pattern is frozen
 * and the kept knots are trained without the penalty. Chosen on the validation split among no
 * refit and epochs 16, 20, 24, 28 (see README).
 */
export const PROX_REFIT = 0.625;

/**
 * The lambdas `spline_sparse` chooses from on the validation split: the largest whose mean
 * validation accuracy is within {@link SPARSE_TOLERANCE} of the `spline` net's.
 */
export const SPARSE_LAMBDAS = [1e-4, 1.5e-4, 2e-4, 3e-4, 5e-4];

/** Validation-accuracy loss that `spline_sparse`'s choice of lambda accepts (0.5 point). */
export const SPARSE_TOLERANCE = 0.005;

/** Defaults of the options that take a value. */
export const DEFAULTS = {
  seeds: 3, seed: 0, lambda: 1e-5, weightDecay: 1e-5, tau: 32, splineInit: 'abs', knotThreshold: 0,
};

export const HELP = `Deep spline networks on the paper's 2-D benchmark (Aziznejad et al., IEEE TSP 2020).

Trains 2 -> 4 -> 4 -> 1 networks with ReLU, LeakyReLU, PReLU and learnable spline
activations (TV(2)-regularized; sigmoid output, binary cross-entropy, as the reference; the
spline_sparse net by the proximal TV(2) solver tv2ProximalOptimizer, its lambda chosen among
{${SPARSE_LAMBDAS.join(', ')}} on the validation split), and
1-Lipschitz ReLU, GroupSort and spline networks (spectral dense layers, linear logit, tau
cross-entropy), each on several seeds; prints a table (mean +- std over the seeds) and writes
results.json, results.md and SVG pictures into the output folder.

Usage: node examples/twod/index.mjs [options]       (or: npm start -- [options])

Options:
  --dataset NAME        ${DATASETS.join(' | ')} | all   (default: all, the paper's
                        ${PAPER_DATASETS.join(' and ')}; annulus, the recipe's transfer task, only by name)
  --models LIST         comma-separated subset of
                        ${Object.keys(MODELS).join(',')} (default: all)
  --seeds N             train every model on N seeds: --seed, --seed + 1, ... (default: ${DEFAULTS.seeds})
  --seed N              the first seed; also the seed of the data (default: ${DEFAULTS.seed})
  --epochs N            training epochs (default: ${SHORT_SCHEDULE.epochs}; --full: ${FULL_SCHEDULE.epochs})
  --batch-size N        minibatch size (default: ${SHORT_SCHEDULE.batchSize}; --full: ${FULL_SCHEDULE.batchSize})
  --lr X                Adam learning rate (default: ${SHORT_SCHEDULE.lr}; --full: ${FULL_SCHEDULE.lr})
  --lambda X            TV(2) weight of the spline networks (default: ${DEFAULTS.lambda})
  --weight-decay X      weight decay of the linear layers (default: ${DEFAULTS.weightDecay})
  --tau X               temperature of the 1-Lipschitz nets' loss (default: ${DEFAULTS.tau})
  --spline-init NAME    initial activation of spline_lip1's splines (default: ${DEFAULTS.splineInit})
  --knot-threshold X    |ReLU slope change| above which a knot counts as active (default: ${DEFAULTS.knotThreshold},
                        exact non-zeros)
  --train-size N        use only the first N of the 1500 training points (smoke tests)
  --backend NAME        cpu | wasm (default: cpu)
  --out DIR             output folder (default: out)
  --full                the reference schedule: ${FULL_SCHEDULE.epochs} epochs, batch ${FULL_SCHEDULE.batchSize}, Adam ${FULL_SCHEDULE.lr},
                        milestones ${FULL_SCHEDULE.milestones.join('/')} gamma ${FULL_SCHEDULE.gamma} (hours on 2 cores)
  --sweep               the lambda trade-off, both solvers: the spline net with TV(2) in the loss
                        (subgradient) for lambda in {${SWEEP_LAMBDAS.join(', ')}} and
                        with tv2ProximalOptimizer (proximal) for lambda in {${PROX_LAMBDAS.join(', ')}};
                        writes sweep.json, sweep.md, sweep.svg
  --no-plots            skip the SVG pictures
  --quiet               no progress bars
  -h, --help            this help
`;

/** Options that take a number: [key, kind, minimum for integers]. */
const NUMBER_OPTIONS = {
  'seeds': ['seeds', 'int', 1], 'seed': ['seed', 'int', 0], 'epochs': ['epochs', 'int', 1],
  'batch-size': ['batchSize', 'int', 1], 'lr': ['lr', 'pos'], 'lambda': ['lambda', 'nonneg'],
  'weight-decay': ['weightDecay', 'nonneg'], 'tau': ['tau', 'pos'], 'knot-threshold': ['knotThreshold', 'nonneg'],
  'train-size': ['trainSize', 'int', 1],
};

const SPLINE_INITS = ['leaky_relu', 'relu', 'abs', 'identity'];

/**
 * Parses argv (without node and the script). Throws an Error with a clear message on bad input.
 * @param {string[]} argv
 */
export function parseArgs(argv) {
  const {parsed, values, given} = parseOptions(argv, NUMBER_OPTIONS, {
    'dataset': {type: 'string'}, 'models': {type: 'string'}, 'backend': {type: 'string'},
    'spline-init': {type: 'string'}, 'out': {type: 'string'},
    'full': {type: 'boolean'}, 'sweep': {type: 'boolean'}, 'no-plots': {type: 'boolean'},
    'quiet': {type: 'boolean'}, 'help': {type: 'boolean', short: 'h'},
  });
  const o = {
    ...DEFAULTS, dataset: parsed.dataset ?? 'all', backend: parsed.backend ?? 'cpu', out: parsed.out ?? 'out',
    full: Boolean(parsed.full), sweep: Boolean(parsed.sweep), plots: !parsed['no-plots'],
    quiet: Boolean(parsed.quiet), help: Boolean(parsed.help), trainSize: undefined, models: Object.keys(MODELS),
  };
  Object.assign(o, values);
  if (o.dataset !== 'all' && !DATASETS.includes(o.dataset)) {
    throw new Error(`--dataset: expected ${DATASETS.join(', ')} or all, got ${JSON.stringify(o.dataset)}`);
  }
  if (parsed.models !== undefined) o.models = parseModelList(parsed.models, MODELS);
  if (o.backend !== 'cpu' && o.backend !== 'wasm') {
    throw new Error(`--backend: expected cpu or wasm, got ${JSON.stringify(o.backend)}`);
  }
  if (parsed['spline-init'] !== undefined) {
    if (!SPLINE_INITS.includes(parsed['spline-init'])) {
      throw new Error(`--spline-init: expected ${SPLINE_INITS.join(', ')}, got ${JSON.stringify(parsed['spline-init'])}`);
    }
    o.splineInit = parsed['spline-init'];
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
  o.datasets = o.dataset === 'all' ? PAPER_DATASETS.slice() : [o.dataset];
  o.seedList = Array.from({length: o.seeds}, (_, i) => o.seed + i);
  return o;
}
