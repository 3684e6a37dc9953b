/**
 * Training of one MNIST network: Adam, a step learning-rate decay at
 * milestones, seeded shuffling (each epoch is one `fit` call on data permuted by our seeded
 * generator; tfjs's own shuffle uses Math.random), a progress bar advanced after every batch.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {losses} from '@deepspline/lipschitz';
import {mulberry32, permutation} from '../../shared/prng.mjs';
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
 *   seed: number, tau: number | null, wrapOptimizer?: (adam: tf.Optimizer) => tf.Optimizer,
 *   onStep?: (step: number, epoch: number, loss: number) => void}} schedule
 *   `tau` null: softmax cross-entropy; `wrapOptimizer` wraps the Adam optimizer (e.g. in the
 *   proximal TV(2) solver `tv2ProximalOptimizer`), whose `learningRate` the schedule then sets
 * @returns {Promise<{loss: number[]}>} the training loss of every epoch
 */
export async function trainModel(model, train, schedule) {
  const {epochs, batchSize, lr, milestones, gamma, seed, tau, wrapOptimizer} = schedule;
  const adam = tf.train.adam(lr);
  const optimizer = wrapOptimizer ? wrapOptimizer(adam) : adam;
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
    optimizer.dispose();  // a wrapper disposes the Adam it wraps
  }
  return {loss};
}
