/** `splineActivation({maxSlope})`: the activation is maxSlope-Lipschitz while it trains. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Largest finite-difference slope of the layer's function over [-3, 3] (beyond its grid). */
function measuredSlope(layer: SplineActivation, channels: number): number {
  const n = 601;
  const xs = Array.from({length: n}, (_, i) => -3 + 6 * i / (n - 1));
  const out = tf.tidy(() => layer.apply(tf.tile(tf.tensor2d(xs, [n, 1]), [1, channels])) as Tensor);
  const y = out.arraySync() as number[][];
  out.dispose();
  let best = 0;
  for (let i = 1; i < n; ++i) {
    for (let c = 0; c < channels; ++c) best = Math.max(best, Math.abs(y[i]![c]! - y[i - 1]![c]!) / (xs[i]! - xs[i - 1]!));
  }
  return best;
}

test('the activation is maxSlope-Lipschitz at every training step, and gradients flow', async () => {
  const s = 0.5;
  const steep = splineActivation({size: 9, range: 1, init: (x: number) => 3 * x + Math.sin(4 * x)});
  const clipped = splineActivation({size: 9, range: 1, init: (x: number) => 3 * x + Math.sin(4 * x), maxSlope: s});
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [2]}), clipped, tfl.layers.dense({units: 1})]});
  tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [2]}), steep]});
  expect(measuredSlope(steep, 4)).toBeGreaterThan(3);  // without maxSlope the slopes are steep
  model.compile({optimizer: tf.train.adam(0.05), loss: 'meanSquaredError'});
  const xs = tf.randomUniform([64, 2], -1, 1, 'float32', 4);
  const ys = tf.randomUniform([64, 1], -2, 2, 'float32', 5);
  const slopes: number[] = [];
  const before = Array.from(clipped.getWeights()[0]!.dataSync());
  // gradients reach the stored coefficients through the clipping
  const grads = tf.variableGrads(() => tf.losses.meanSquaredError(ys, model.apply(xs) as Tensor) as tf.Scalar,
    clipped.trainableWeights.map((w) => (w as unknown as {val: tf.Variable}).val));
  const g = Object.values(grads.grads)[0]!;
  expect(tf.max(tf.abs(g)).dataSync()[0]).toBeGreaterThan(1e-4);
  tf.dispose([grads.value, ...Object.values(grads.grads)]);
  const probe = new tfl.CustomCallback({onBatchEnd: async () => { slopes.push(measuredSlope(clipped, 4)); }});
  await model.fit(xs, ys, {epochs: 3, batchSize: 8, verbose: 0, callbacks: [probe]});
  expect(slopes).toHaveLength(24);
  expect(Math.max(...slopes)).toBeLessThanOrEqual(s * (1 + 1e-4));
  expect(Math.max(...slopes)).toBeGreaterThan(0.9 * s);  // the clip is active
  const after = Array.from(clipped.getWeights()[0]!.dataSync());
  expect(after.some((v, i) => Math.abs(v - before[i]!) > 1e-3)).toBe(true);  // it trained
  // the layer's exact Lipschitz constant is that of the clipped coefficients
  const lip = clipped.lipschitz();
  expect(Math.max(...lip.dataSync())).toBeLessThanOrEqual(s);
  lip.dispose();
  tf.dispose([xs, ys]);
  model.dispose();
});
