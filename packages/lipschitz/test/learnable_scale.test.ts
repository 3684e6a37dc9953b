/**
 * The SplineActivation rule with `learnableScale` (`f(x) = sigma(s x) / s`): the certified
 * bound is >= the exact Lipschitz constant, computed in float64 from the formula (dense
 * finite differences), and equal to the largest slope for a single layer; the constrain
 * callback keeps working.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import type {SplineActivation} from '@deepspline/layers';
import {lipschitzBound, lipschitzCallback} from '@deepspline/lipschitz';
import {rng, rowsOf, useCpu} from './helpers.js';

beforeAll(useCpu);

const SIZE = 11;
const RANGE = 1;
const STEP = 2 * RANGE / (SIZE - 1);

/** `sigma(s x) / s` in float64, sigma the spline of core's Semantics with coefficients `c`. */
function f(c: number[], s: number, x: number): number {
  const u = (s * x + RANGE) / STEP;
  const k = Math.min(Math.max(Math.floor(u), 0), SIZE - 2);
  return (c[k]! + (u - k) * (c[k + 1]! - c[k]!)) / s;
}

/** Random coefficients in [-2, 2] and the scale weight `scales` for `layer`. */
function setSpline(layer: SplineActivation, scales: number[], seed: number): void {
  const shape = layer.getWeights()[0]!.shape;
  const w = [tf.randomUniform(shape, -2, 2, 'float32', seed), tf.tensor1d(scales)];
  layer.setWeights(w);
  tf.dispose(w);
}

/** The float32 coefficients and effective scales of `layer`, as float64 arrays. */
function splineOf(layer: SplineActivation): {c: number[][], s: number[]} {
  const c = layer.effectiveCoefficients();
  const s = layer.effectiveScale();
  const out = {c: rowsOf(c), s: Array.from(s.dataSync())};
  tf.dispose([c, s]);
  return out;
}

/**
 * The largest |f'| of one channel by central differences on a dense grid over its widened knots
 * (float64; the differences' rounding is about 1e-10 relative, hence the tests' 1e-8 slack).
 */
function slopeOf(c: number[], s: number): number {
  let best = 0;
  const lo = -3 * RANGE / s;
  const hi = 3 * RANGE / s;
  const h = 1e-7 / s;
  for (let i = 0; i <= 20000; ++i) {
    const x = lo + (hi - lo) * i / 20000 + h / 3;  // off the knots
    best = Math.max(best, Math.abs(f(c, s, x + h) - f(c, s, x - h)) / (2 * h));
  }
  return best;
}

test('a single scaled layer (scales 0.3 and 3, one clamped to MIN_SCALE): the bound is the largest slope, the exact constant', () => {
  const layer = splineActivation({inputShape: [3], size: SIZE, range: RANGE, learnableScale: true});
  const model = tfl.sequential({layers: [layer]});
  setSpline(layer, [0.3, 3, -1], 1);
  const {c, s} = splineOf(layer);
  // a diagonal map: its Lipschitz constant in every p-norm is the largest channel's
  const exact = Math.max(...c.map((row, n) => slopeOf(row, s[n]!)));
  for (const norm of [2, 1, Infinity] as const) {
    const {bound} = lipschitzBound(model, {norm});
    expect(bound).toBeGreaterThanOrEqual(exact * (1 - 1e-8));
    expect(Math.abs(bound - exact)).toBeLessThanOrEqual(1e-6 * exact);
  }
  model.dispose();
});

test('dense -> scaled spline -> dense: the certified norm-2 bound is >= the largest gradient norm in float64', () => {
  const layer = splineActivation({size: SIZE, range: RANGE, learnableScale: true});
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 3, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    layer,
    tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}),
  ]});
  setSpline(layer, [0.3, 3, 1.5], 4);
  const [w1, b1, , , w2, b2] = model.getWeights().map((t) => Array.from(t.dataSync()));
  const {c, s} = splineOf(layer);
  const net = (x: number[]) => {
    let y = b2![0]!;
    for (let n = 0; n < 3; ++n) {
      const z = x[0]! * w1![n]! + x[1]! * w1![3 + n]! + b1![n]!;
      y += w2![n]! * f(c[n]!, s[n]!, z);
    }
    return y;
  };
  const r = rng(5);
  let largest = 0;
  const h = 1e-8;
  for (let i = 0; i < 20000; ++i) {
    const x = [8 * r() - 4, 8 * r() - 4];
    const gx = (net([x[0]! + h, x[1]!]) - net([x[0]! - h, x[1]!])) / (2 * h);
    const gy = (net([x[0]!, x[1]! + h]) - net([x[0]!, x[1]! - h])) / (2 * h);
    largest = Math.max(largest, Math.hypot(gx, gy));
  }
  const {bound} = lipschitzBound(model, {norm: 2});
  expect(largest).toBeGreaterThan(0);
  expect(bound).toBeGreaterThanOrEqual(largest * (1 - 1e-6));
  model.dispose();
});

test('the constrain callback clips a scaled layer to its target; the scale is left alone', async () => {
  const layer = splineActivation({size: SIZE, range: RANGE, learnableScale: true, name: 'act'});
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 3, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({seed: 6})}),
    layer,
    tfl.layers.dense({units: 1}),
  ]});
  setSpline(layer, [0.3, 3, 1.5], 7);
  model.compile({optimizer: tf.train.sgd(1e-3), loss: 'meanSquaredError'});
  const x = tf.randomUniform([32, 2], -1, 1, 'float32', 8);
  const y = tf.randomUniform([32, 1], -1, 1, 'float32', 9);
  await model.fit(x, y, {epochs: 2, batchSize: 16, verbose: 0, callbacks: [lipschitzCallback({target: 1, mode: 'constrain'})]});
  expect(lipschitzBound(model, {norm: 2}).bound).toBeLessThanOrEqual(1 + 1e-6);
  const {c, s} = splineOf(layer);
  expect(s.every((v) => v > 0)).toBe(true);
  expect(Math.max(...c.map((row, n) => slopeOf(row, s[n]!)))).toBeLessThanOrEqual(
    lipschitzBound(model, {norm: 2}).layers.find((l) => l.name === 'act')!.factor * (1 + 1e-8));
  tf.dispose([x, y]);
  model.dispose();
});
