import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {splineActivation} from '@deepspline/layers';
import {certifiedRadius, lipschitzBound} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

function classifier(): tfl.Sequential {
  const m = tfl.sequential({layers: [
    tfl.layers.dense({units: 8, inputShape: [2], kernelInitializer: tfl.initializers.randomNormal({seed: 1})}),
    splineActivation({size: 9, range: 1, init: 'leaky_relu'}),
    tfl.layers.dense({units: 3, kernelInitializer: tfl.initializers.randomNormal({seed: 2})}),
  ]});
  return m;
}

/** Predicted classes of a batch. */
function classes(model: tfl.LayersModel, x: Tensor): number[] {
  return tf.tidy(() => Array.from(tf.argMax(model.predict(x) as Tensor, 1).dataSync()));
}

test('no perturbation inside the certified radius changes the class (1000 random directions + PGD)', () => {
  const model = classifier();
  const r = rng(11);
  const points = Array.from({length: 6}, () => [2 * r() - 1, 2 * r() - 1]);
  const x = tf.tensor2d(points);
  const L = lipschitzBound(model, {norm: 2}).bound;
  const {radius, predicted, margin, bound} = certifiedRadius(model, x);
  expect(Math.abs(bound - L) / L).toBeLessThan(1e-9);  // a fresh random start each call
  expect(predicted).toEqual(classes(model, x));
  // independent margin: top minus runner-up from predict
  const scores = (model.predict(x) as Tensor);
  const s = scores.arraySync() as number[][];
  scores.dispose();
  s.forEach((row, i) => {
    const sorted = [...row].sort((a, b) => b - a);
    expect(Math.abs(margin[i]! - (sorted[0]! - sorted[1]!))).toBeLessThan(1e-6);
    expect(Math.abs(radius[i]! - margin[i]! / (Math.SQRT2 * L))).toBeLessThan(1e-9);
  });
  let attackGain = 0;
  points.forEach((p, i) => {
    const rad = radius[i]! * (1 - 1e-6);
    // 1000 random directions on the sphere of radius rad
    const dirs = Array.from({length: 1000}, () => {
      const a = 2 * Math.PI * r();
      return [p[0]! + rad * Math.cos(a), p[1]! + rad * Math.sin(a)];
    });
    const xd = tf.tensor2d(dirs);
    expect(classes(model, xd).every((c) => c === predicted[i])).toBe(true);
    xd.dispose();
    // projected gradient attack on (best other score - predicted score) inside the l2 ball
    let z: Tensor = tf.tensor2d([p]);
    const obj = (v: Tensor) => tf.tidy(() => {
      const sc = model.apply(v) as Tensor;
      const mask = tf.oneHot([predicted[i]!], 3);
      const own = tf.sum(tf.mul(sc, mask));
      const others = tf.max(tf.sub(sc, tf.mul(mask, 1e9)));
      return tf.sub(others, own) as tf.Scalar;
    });
    const start = obj(z).dataSync()[0]!;
    for (let step = 0; step < 15; ++step) {
      const next = tf.tidy(() => {
        const g = tf.grad(obj)(z);
        const moved = tf.add(z, tf.mul(tf.div(g, tf.add(tf.norm(g), 1e-12)), rad / 5));
        const d = tf.sub(moved, tf.tensor2d([p]));
        const n = tf.norm(d).dataSync()[0]!;
        return n > rad ? tf.add(tf.tensor2d([p]), tf.mul(d, rad / n)) : moved;
      });
      z.dispose();
      z = next;
    }
    const end = obj(z).dataSync()[0]!;
    attackGain = Math.max(attackGain, end - start);
    expect(end).toBeLessThan(0);  // still the predicted class
    expect(classes(model, z)[0]).toBe(predicted[i]);
    z.dispose();
  });
  expect(attackGain).toBeGreaterThan(0);  // the attack does move towards the boundary
  x.dispose();
  model.dispose();
});

test('binary (one output) models use |s - threshold| / L; bad input is a clear error', () => {
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [3]})]});
  const x = tf.tensor2d([[1, 0, 0], [0, 1, -1]]);
  const s = (model.predict(x) as Tensor);
  const scores = Array.from(s.dataSync());
  s.dispose();
  const {radius, predicted} = certifiedRadius(model, x, {bound: 2, threshold: 0.1});
  scores.forEach((v, i) => {
    expect(radius[i]).toBeCloseTo(Math.abs(v - 0.1) / 2, 6);
    expect(predicted[i]).toBe(v > 0.1 ? 1 : 0);
  });
  expect(() => certifiedRadius(model, x, {bound: -1})).toThrow(/expected bound >= 0, got -1/);
  expect(() => certifiedRadius(model, tf.tensor1d([1]))).toThrow(/expected points x as a tensor of shape \[batch, \.\.\.inputShape\], got a tensor of shape \[1\]/);
  x.dispose();
  model.dispose();
});
