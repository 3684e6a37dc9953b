// The MNIST example's l2 PGD attack against the exact answer of a linear classifier: the
// smallest l2 perturbation that changes the class of x is min_j (z_y - z_j) / ||w_y - w_j||.
// No iterate may leave the ball (then no image is broken at a radius below its distance), and
// 50 steps must find the closest boundary (every image is broken at 1.2 times its distance).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {pgdAccuracy} from '../lib/attack.mjs';
import {mulberry32} from '../../shared/prng.mjs';

const D = 12;
const CLASSES = 4;
const N = 40;

beforeAll(() => tf.setBackend('cpu'));

test('PGD breaks exactly the images within reach of a linear classifier, and leaks nothing', () => {
  const r = mulberry32(1);
  const W = Array.from({length: CLASSES}, () => Array.from({length: D}, () => r() * 2 - 1));
  const b = Array.from({length: CLASSES}, () => (r() - 0.5) * 0.2);
  // Images in [0.4, 0.6]^D: every radius below is < 0.4, so the pixel box [0, 1] never binds.
  const xs = Array.from({length: N}, () => Array.from({length: D}, () => 0.4 + 0.2 * r()));
  const z = xs.map((x) => W.map((w, j) => w.reduce((s, wi, i) => s + wi * x[i]!, b[j]!)));
  const labels = Uint8Array.from(z, (zi) => zi.indexOf(Math.max(...zi)));  // all correct
  const distance = xs.map((_, n) => {
    const y = labels[n]!;
    let best = Infinity;
    for (let j = 0; j < CLASSES; ++j) {
      if (j === y) continue;
      const dw = W[y]!.map((v, i) => v - W[j]![i]!);
      best = Math.min(best, (z[n]![y]! - z[n]![j]!) / Math.hypot(...dw));
    }
    return best;
  });
  const epsilons = [0.01, 0.03, 0.1, 0.3];
  const Wt = tf.transpose(tf.tensor2d(W));
  const bt = tf.tensor1d(b);
  const logits = (x: tf.Tensor2D) => tf.add(tf.matMul(x, Wt), bt) as tf.Tensor2D;
  const x = tf.tensor2d(xs);
  const before = tf.memory().numTensors;
  const result = pgdAccuracy(logits, {x, labels}, epsilons, {steps: 50, restarts: 2, seed: 3, batchSize: 16});
  expect(tf.memory().numTensors).toBe(before);
  let checked = 0;
  epsilons.forEach((eps, e) => {
    for (let n = 0; n < N; ++n) {
      if (distance[n]! > eps) expect({n, eps, robust: result.robust[e]![n]}).toEqual({n, eps, robust: true});
      if (distance[n]! * 1.2 < eps) {
        expect({n, eps, robust: result.robust[e]![n]}).toEqual({n, eps, robust: false});
        ++checked;
      }
    }
    expect(result.accuracy[e]).toBeCloseTo(result.robust[e]!.filter(Boolean).length / N, 12);
  });
  expect(checked).toBeGreaterThan(20);  // the test exercises the attack, not only the ball
  tf.dispose([Wt, bt, x]);
});

test('skipped (certified) images count as robust and are not attacked; radii must ascend', () => {
  const W = tf.tensor2d([[1, -1], [-1, 1]]);
  const logits = (x: tf.Tensor2D) => tf.matMul(x, W) as tf.Tensor2D;
  const x = tf.tensor2d([[0.6, 0.4], [0.55, 0.45], [0.2, 0.8]]);
  const labels = Uint8Array.from([0, 0, 1]);
  // Distances: |x0 - x1| / sqrt(2) = 0.1414, 0.0707, 0.4243.
  const r = pgdAccuracy(logits, {x, labels}, [0.1, 0.2], {skip: (eps) => [false, eps < 0.15, true]});
  // At 0.1 only image 0 is attacked (it survives: 0.1414 > 0.1); at 0.2 images 0 and 1 (both broken).
  expect(r.attacked).toEqual([1, 2]);
  expect(r.robust).toEqual([[true, true, true], [false, false, true]]);
  expect(() => pgdAccuracy(logits, {x, labels}, [0.2, 0.1])).toThrow('pgdAccuracy: expected ascending radii, got 0.2, 0.1');
  tf.dispose([W, x]);
});
