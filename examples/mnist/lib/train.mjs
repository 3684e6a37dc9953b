/**
 * Training and certification of one MNIST network: Adam, a step learning-rate decay at
 * milestones, seeded shuffling (each epoch is one `fit` call on data permuted by our seeded
 * generator; tfjs's own shuffle uses Math.random), a progress bar advanced after every batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {certifiedAccuracy, losses} from '@deepspline/lipschitz';
import {mulberry32, permutation} from '../../twod/lib/prng.mjs';
import {CLASSES, PIXELS} from './data.mjs';

/** Advances a progress bar after every batch (a `tf.Callback` subclass, as fit requires). */
class BatchProgress extends tfl.Callback {
  constructor(onBatch) {
    super();
    this.onBatch = onBatch;
  }

  async onBatchEnd(batch, logs) {
    this.onBatch(logs?.loss);
  }
}

/** A split as tensors: `x` `[n, 784]`, one-hot `y` `[n, 10]`. The caller disposes them. */
export function toTensors(split) {
  return tf.tidy(() => ({
    x: tf.tensor2d(split.x, [split.n, PIXELS]),
    y: tf.oneHot(tf.tensor1d(split.labels, 'int32'), CLASSES),
  }));
}

/**
 * Trains `model` in place. Lipschitz models (linear logits) minimise tau categorical
 * cross-entropy, the others (softmax outputs) plain categorical cross-entropy.
 * @param {tfl.LayersModel} model
 * @param {{x: tf.Tensor, y: tf.Tensor}} train
 * @param {{epochs: number, batchSize: number, lr: number, milestones: number[], gamma: number,
 *   seed: number, tau: number | null, onStep?: (step: number, epoch: number, loss: number) => void}} schedule
 *   `tau` null: softmax cross-entropy
 * @returns {Promise<{loss: number[]}>} the training loss of every epoch
 */
export async function trainModel(model, train, schedule) {
  const {epochs, batchSize, lr, milestones, gamma, seed, tau} = schedule;
  const optimizer = tf.train.adam(lr);
  model.compile({optimizer, loss: tau == null ? 'categoricalCrossentropy' : losses.tauCategoricalCrossentropy({tau})});
  const n = train.x.shape[0];
  const rand = mulberry32(seed);
  const loss = [];
  let step = 0;
  let epoch = 0;
  let last = NaN;
  const progress = new BatchProgress((l) => {
    if (typeof l === 'number') last = l;
    schedule.onStep?.(++step, epoch, last);
  });
  try {
    for (; epoch < epochs; ++epoch) {
      const decays = milestones.filter((m) => epoch >= m).length;
      optimizer.learningRate = lr * Math.pow(gamma, decays);
      const order = tf.tensor1d(permutation(n, rand), 'int32');
      const ex = tf.gather(train.x, order);
      const ey = tf.gather(train.y, order);
      order.dispose();
      const history = await model.fit(ex, ey, {
        batchSize, epochs: epoch + 1, initialEpoch: epoch, shuffle: false, verbose: 0, callbacks: [progress],
      });
      ex.dispose();
      ey.dispose();
      loss.push(history.history.loss[0]);
    }
  } finally {
    optimizer.dispose();
  }
  return {loss};
}

/** The epsilons of the curve in the plot and results.json: 0 to 2 in steps of 0.02. */
export const CURVE_EPSILONS = Array.from({length: 101}, (_, i) => Math.round(i * 2) / 100);

/**
 * Clean accuracy, the certified Lipschitz bound of the logits, certified accuracy (l2) at
 * `epsilons` and on the curve's finer grid, and the median certified radius (0 for a
 * misclassified point). `certifiedAccuracy` certifies a softmax model on
 * its logits, so `bound` is always the logit map's.
 */
export function certify(model, test, epsilons) {
  const result = certifiedAccuracy(model, test.x, test.y, {epsilons, norm: 2});
  const {radius} = result.radii;
  const n = radius.length;
  const curve = CURVE_EPSILONS.map((e) => result.correct.reduce((c, ok, i) => c + (ok && radius[i] >= e ? 1 : 0), 0) / n);
  // Misclassified points count as radius 0, as in the certified-accuracy curve.
  const certifiedRadii = radius.map((r, i) => (result.correct[i] ? r : 0)).sort((a, b) => a - b);
  return {
    cleanAccuracy: result.cleanAccuracy,
    bound: result.radii.bound,
    certified: Object.fromEntries(epsilons.map((e, i) => [String(e), result.accuracy[i]])),
    curve,
    medianRadius: certifiedRadii[Math.floor(n / 2)],
  };
}
