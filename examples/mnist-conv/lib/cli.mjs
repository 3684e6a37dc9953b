/** Command-line options of the convolutional MNIST example (twod's parser, then checked values). */
import {parseOptions} from '../../../scripts/cli.mjs';
import {ACTIVATIONS, ARCHITECTURE} from './model.mjs';

/**
 * The full run (the committed reference): 3 epochs of the 8,000 training images, batch 64,
 * Adam 1e-2 (x0.1 for the last epoch); about 10 minutes on 2 shared cores.
 */
export const FULL = {epochs: 3, trainSize: 8000, batchSize: 64, lr: 1e-2};
/** `--quick`: 1 epoch of the first 1,000 training images, 500 test images (about a minute). */
export const QUICK = {epochs: 1, trainSize: 1000, batchSize: 64, lr: 1e-2, testSize: 500};
/**
 * tau of the cross-entropy, chosen on a holdout of the training images (README, "Choosing the
 * recipe"): 2, 8 and 32 compared, with the other settings.
 */
export const DEFAULT_TAU = 8;
/** TV(2) weight of the splines. */
export const DEFAULT_LAMBDA = 1e-5;
/** The l2 radii of the table (pixels in [0, 1]). */
export const EPSILONS = [0.25, 0.5, 1.0, 1.58];

export const HELP = `A certified 1-Lipschitz convolutional network on MNIST (tfjs-deepspline).

${ARCHITECTURE}
trained on the cpu backend (tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel, so
convolutions cannot be trained on wasm) with tau categorical cross-entropy; certifies the test
digits (l2 radius margin / (sqrt(2) L)) and writes results.json, results.md,
certified_accuracy.svg and the model (model/model.json + weights.bin) into the output folder.

Usage: node examples/mnist-conv/index.mjs [options]

Options:
  --quick               ${QUICK.epochs} epoch on ${QUICK.trainSize} images, ${QUICK.testSize} test images (about a minute)
  --activation NAME     ${ACTIVATIONS.join(' or ')} (default: spline)
  --epochs N            training epochs (default: ${FULL.epochs})
  --train-size N        train on the first N of the 8,000 training images (default: all)
  --test-size N         certify the first N of the 2,000 test images (default: all)
  --batch-size N        minibatch size (default: ${FULL.batchSize})
  --lr X                Adam learning rate (default: ${FULL.lr}; x0.1 for the last epoch when epochs >= 3)
  --tau X               tau of the cross-entropy (default: ${DEFAULT_TAU})
  --lambda X            TV(2) weight of the splines (default: ${DEFAULT_LAMBDA})
  --holdout N           tuning: train on the training images but the last N, and certify those N
                        instead of the test set
  --no-bjorck           spectral normalisation only (default: Björck-orthonormalized spectral
                        layers, 15 steps, deel-lip's default)
  --seed N              seed of the initializers and the shuffling (default: 0)
  --out DIR             output folder (default: out/mnist-conv)
  --no-save             do not save the trained model
  --quiet               no progress bar
  -h, --help            this help
`;

const NUMBER_OPTIONS = {
  'epochs': ['epochs', 'int', 1], 'train-size': ['trainSize', 'int', 1], 'test-size': ['testSize', 'int', 1],
  'batch-size': ['batchSize', 'int', 1], 'lr': ['lr', 'pos'], 'tau': ['tau', 'pos'], 'lambda': ['lambda', 'nonneg'],
  'seed': ['seed', 'int', 0], 'holdout': ['holdout', 'int', 1],
};

/** Parses argv (without node and the script); throws an Error with a clear message on bad input. */
export function parseArgs(argv) {
  const {parsed, values, given} = parseOptions(argv, NUMBER_OPTIONS, {
    'activation': {type: 'string'}, 'out': {type: 'string'}, 'quick': {type: 'boolean'},
    'no-save': {type: 'boolean'}, 'no-bjorck': {type: 'boolean'}, 'quiet': {type: 'boolean'}, 'help': {type: 'boolean', short: 'h'},
  });
  const base = parsed.quick ? QUICK : FULL;
  const activation = parsed.activation ?? 'spline';
  if (!ACTIVATIONS.includes(activation)) {
    throw new Error(`--activation: expected one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`);
  }
  const o = {
    activation, tau: DEFAULT_TAU, lambda: DEFAULT_LAMBDA, seed: 0, out: parsed.out ?? 'out/mnist-conv',
    quick: Boolean(parsed.quick), bjorck: !parsed['no-bjorck'], holdout: undefined, save: !parsed['no-save'], quiet: Boolean(parsed.quiet), help: Boolean(parsed.help),
    epochs: base.epochs, trainSize: base.trainSize, testSize: base.testSize, batchSize: base.batchSize, lr: base.lr,
  };
  Object.assign(o, values);
  o.schedule = {
    name: given.epochs || given.batchSize || given.lr || given.trainSize ? 'custom' : o.quick ? 'quick' : 'full',
    epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, gamma: 0.1,
    milestones: o.epochs >= 3 ? [o.epochs - 1] : [],
  };
  return o;
}
