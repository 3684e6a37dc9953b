/**
 * Training and evaluation of one benchmark network: Adam, binary cross-entropy on a sigmoid
 * output (the reference's) or, for a linear logit output, deel-lip's tau cross-entropy; step
 * learning-rate decay at milestones, seeded shuffling (tfjs's own `shuffle` uses Math.random,
 * so each epoch is a `fit` call on data permuted by our seeded generator).
 */
import * as tf from '@tensorflow/tfjs-core';
import {losses} from '@deepspline/lipschitz';
import {mulberry32, permutation} from '../../shared/prng.mjs';

/** PyTorch's Adam epsilon (tfjs's default is 1e-7). */
const ADAM_EPSILON = 1e-8;

/**
 * Trains `model` in place.
 * @param {import('@tensorflow/tfjs-layers').LayersModel} model
 * @param {{x: Float32Array, y: Float32Array, n: number}} train
 * @param {{epochs: number, batchSize: number, lr: number, milestones: number[], gamma: number,
 *   seed: number, tau?: number, callbacks?: import('@tensorflow/tfjs-layers').Callback[],
 *   wrapOptimizer?: (adam: import('@tensorflow/tfjs-core').Optimizer) => import('@tensorflow/tfjs-core').Optimizer,
 *   onEpoch?: (epoch: number, loss: number) => void}} schedule
 *   `tau` given: the model outputs a logit f, trained with the cross-entropy of sigmoid(tau f)
 *   divided by tau (`losses.tauBinaryCrossentropy`); else it outputs a probability (BCE).
 *   `callbacks` go to every epoch's `fit`; `wrapOptimizer` wraps the Adam optimizer (e.g. in the
 *   proximal TV(2) solver `tv2ProximalOptimizer`), whose `learningRate` the schedule then sets.
 * @returns {Promise<{loss: number}>} the last epoch's training loss
 */
export async function trainModel(model, train, schedule) {
  const {epochs, batchSize, lr, milestones, gamma, seed, tau, callbacks, wrapOptimizer} = schedule;
  const adam = tf.train.adam(lr, 0.9, 0.999, ADAM_EPSILON);
  const optimizer = wrapOptimizer ? wrapOptimizer(adam) : adam;
  model.compile({optimizer, loss: tau != null ? losses.tauBinaryCrossentropy({tau}) : 'binaryCrossentropy'});
  const xs = tf.tensor2d(train.x, [train.n, 2]);
  const ys = tf.tensor2d(train.y, [train.n, 1]);
  const rand = mulberry32(seed);
  let loss = NaN;
  try {
    for (let epoch = 0; epoch < epochs; ++epoch) {
      const decays = milestones.filter((m) => epoch >= m).length;
      optimizer.learningRate = lr * Math.pow(gamma, decays);
      const order = tf.tensor1d(permutation(train.n, rand), 'int32');
      const ex = tf.gather(xs, order);
      const ey = tf.gather(ys, order);
      order.dispose();
      const history = await model.fit(ex, ey, {
        batchSize, epochs: epoch + 1, initialEpoch: epoch, shuffle: false, verbose: 0, callbacks,
      });
      ex.dispose();
      ey.dispose();
      loss = history.history.loss[0];
      schedule.onEpoch?.(epoch + 1, loss);
    }
  } finally {
    xs.dispose();
    ys.dispose();
    optimizer.dispose();
  }
  return {loss};
}

/**
 * Class-1 probabilities of `model` on a point set, as a Float32Array: the sigmoid output, or
 * for a logit model (`tau` given) sigmoid(tau f), the probability its loss fits.
 * @param {import('@tensorflow/tfjs-layers').LayersModel} model
 * @param {{x: Float32Array, n: number}} set
 * @param {number} [tau]
 */
export function predict(model, set, tau) {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(set.x, [set.n, 2]), {batchSize: 4096});
    return (tau != null ? tf.sigmoid(tf.mul(out, tau)) : out).dataSync().slice();
  });
}

/**
 * Fraction of points whose thresholded prediction (p > 0.5) equals the label.
 * @param {Float32Array} probabilities
 * @param {Float32Array} labels
 */
export function accuracy(probabilities, labels) {
  let right = 0;
  for (let i = 0; i < labels.length; ++i) if ((probabilities[i] > 0.5 ? 1 : 0) === labels[i]) ++right;
  return right / labels.length;
}
