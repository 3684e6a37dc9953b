/**
 * Training and evaluation of one benchmark network: Adam, binary cross-entropy, step
 * learning-rate decay at milestones, seeded shuffling (tfjs's own `shuffle` uses Math.random,
 * so each epoch is a `fit` call on data permuted by our seeded generator).
 */
import * as tf from '@tensorflow/tfjs-core';
import {mulberry32, permutation} from './prng.mjs';

/**
 * Trains `model` in place.
 * @param {import('@tensorflow/tfjs-layers').LayersModel} model
 * @param {{x: Float32Array, y: Float32Array, n: number}} train
 * @param {{epochs: number, batchSize: number, lr: number, milestones: number[], gamma: number,
 *   seed: number, callbacks?: object[], onEpoch?: (epoch: number, loss: number) => void}} schedule
 * @returns {Promise<{loss: number}>} the last epoch's training loss
 */
export async function trainModel(model, train, schedule) {
  const {epochs, batchSize, lr, milestones, gamma, seed} = schedule;
  const optimizer = tf.train.adam(lr);
  model.compile({optimizer, loss: 'binaryCrossentropy'});
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
        batchSize, epochs: epoch + 1, initialEpoch: epoch, shuffle: false, verbose: 0,
        callbacks: schedule.callbacks ?? [],
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
 * Sigmoid outputs of `model` on a point set, as a Float32Array.
 * @param {import('@tensorflow/tfjs-layers').LayersModel} model
 * @param {{x: Float32Array, n: number}} set
 */
export function predict(model, set) {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(set.x, [set.n, 2]), {batchSize: 4096});
    return out.dataSync().slice();
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
