/** `splineActivation({maxSlope})` (implemented in @deepspline/layers): tested here. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {lipschitzBound} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

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
  const r = rng(4);
  const xs = tf.tensor2d(Array.from({length: 64}, () => [2 * r() - 1, 2 * r() - 1]));
  const ys = tf.tensor2d(Array.from({length: 64}, () => [4 * r() - 2]));
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
  // the operator bound sees the clipped slopes
  const factor = lipschitzBound(model).layers.find((l) => l.className === 'SplineActivation')!.factor;
  expect(factor).toBeLessThanOrEqual(s * (1 + 1e-5));
  tf.dispose([xs, ys]);
  model.dispose();
});
