/**
 * exportToStandardLayers for spline layers with `learnableScale` (`sigma(s x) / s` per
 * channel): the export computes the same function inside the moved grids, on and next to the
 * moved knots `t_k / s_n`, and far outside, per channel and shared, dense and rank 4.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {exportToStandardLayers, splineActivation, SplineActivation} from '../src/index.js';
import {predictionRelError} from '@deepspline/testing';
import {KERAS_LAYERS} from './keras_layers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Random coefficients in [-1, 1] and the given scale weight for the spline layer `l`. */
function setSpline(l: SplineActivation, scales: number[], seed: number): void {
  const c = l.getWeights()[0]!;
  const w = [tf.randomUniform(c.shape, -1, 1, 'float32', seed), tf.tensor1d(scales)];
  l.setWeights(w);
  tf.dispose(w);
}

const uniform = (shape: number[], scale: number, seed: number) => tf.randomUniform(shape, -scale, scale, 'float32', seed);

/**
 * Inputs `[rows, C]` on and within `1e-4` relative of the moved knots of `layer` (column n holds
 * channel n's knots `t_k / s_n`, or the shared ones).
 */
function nearKnots(layer: SplineActivation, channels: number): tf.Tensor2D {
  const k = layer.channelKnots();
  const knots = k.arraySync() as number[][];
  k.dispose();
  const rows: number[][] = [];
  for (let j = 0; j < layer.size; ++j) {
    for (const d of [0, 1e-4, -1e-4]) {
      rows.push(Array.from({length: channels}, (_, n) => knots[knots.length === 1 ? 0 : n]![j]! * (1 + d) + d));
    }
  }
  return tf.tensor2d(rows);
}

function expectSame(original: tfl.LayersModel, exported: tfl.LayersModel, x: tf.Tensor, tol = 1e-5): void {
  expect(predictionRelError(original, exported, x)).toBeLessThanOrEqual(tol);
}

const classNames = (m: tfl.LayersModel) => m.layers.map((l) => l.getClassName());

describe('exportToStandardLayers: SplineActivation with learnableScale', () => {
  for (const splineForm of ['hats', 'ramps'] as const) {
    it(`${splineForm}: dense, per channel (one scale clamped to MIN_SCALE) and shared, with maxSlope`, () => {
      const before = tf.memory().numTensors;
      const perChannel = splineActivation({inputShape: [5], size: 11, range: 1, learnableScale: true, name: 'per'});
      const shared = splineActivation({size: 7, range: 2, shared: true, learnableScale: true, maxSlope: 0.7, name: 'sh'});
      const m = tfl.sequential({layers: [perChannel, tfl.layers.dense({units: 4}), shared]});
      setSpline(perChannel, [0.3, 3, 1, 0.05, -1], 1);
      setSpline(shared, [2.5], 2);
      const e = exportToStandardLayers(m, {splineForm});
      for (const cls of classNames(e)) expect(KERAS_LAYERS.has(cls)).toBe(true);
      for (const x of [uniform([64, 5], 2, 3), uniform([64, 5], 30, 4), nearKnots(perChannel, 5),
        uniform([64, 5], 1e5, 5), tf.fill([2, 5], -1e5), tf.fill([2, 5], 1e5)]) {
        expectSame(m, e, x, splineForm === 'hats' ? 1e-5 : 1e-4);
        x.dispose();
      }
      // the shared layer alone, near its own moved knots
      const alone = tfl.sequential({layers: [splineActivation({inputShape: [3], size: 7, range: 2, shared: true,
        learnableScale: true})]});
      setSpline(alone.layers[0] as SplineActivation, [0.4], 6);
      const e2 = exportToStandardLayers(alone, {splineForm});
      const near = nearKnots(alone.layers[0] as SplineActivation, 3);
      expectSame(alone, e2, near);
      near.dispose();
      [m, e, alone, e2].forEach((l) => l.dispose());
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('rank 4 after Conv2D: per channel and shared scales', () => {
    const before = tf.memory().numTensors;
    const input = tfl.input({shape: [6, 6, 2]});
    const a = splineActivation({size: 9, range: 1, learnableScale: true});
    const b = splineActivation({size: 5, range: 1, shared: true, learnableScale: true});
    let h = tfl.layers.conv2d({filters: 3, kernelSize: 3, padding: 'same'}).apply(input) as tfl.SymbolicTensor;
    h = a.apply(h) as tfl.SymbolicTensor;
    h = b.apply(h) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: tfl.layers.flatten().apply(h) as tfl.SymbolicTensor});
    setSpline(a, [0.3, 3, 1.5], 10);
    setSpline(b, [0.6], 11);
    const e = exportToStandardLayers(m);
    for (const cls of classNames(e)) expect(KERAS_LAYERS.has(cls)).toBe(true);
    for (const [scale, seed] of [[1, 12], [20, 13], [1e4, 14]]) {
      const x = uniform([3, 6, 6, 2], scale!, seed!);
      expectSame(m, e, x);
      x.dispose();
    }
    [m, e].forEach((l) => l.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('affine splines (no units): the bias is divided by the scale', () => {
    const line = (x: number) => 2 * x + 1;
    const m = tfl.sequential({layers: [
      splineActivation({inputShape: [3], size: 5, range: 1, init: line, learnableScale: true, name: 'per'}),
      splineActivation({size: 5, range: 1, init: line, shared: true, learnableScale: true, name: 'sh'}),
    ]});
    const setScale = (l: tfl.layers.Layer, s: number[]) => {
      const t = tf.tensor1d(s);
      l.setWeights([l.getWeights()[0]!, t]);
      t.dispose();
    };
    setScale(m.getLayer('per'), [0.3, 3, 1]);
    setScale(m.getLayer('sh'), [0.5]);
    const e = exportToStandardLayers(m);
    const x = uniform([16, 3], 50, 20);
    // f(x) = 2 x + 1 / s per layer: 2 (2 x + 1 / s_n) + 1 / 0.5 in float64
    const want = tf.tensor2d((x.arraySync() as number[][]).map((row) => row.map((v, n) =>
      2 * (2 * v + 1 / Math.fround([0.3, 3, 1][n]!)) + 2)));
    const got = e.predict(x) as tf.Tensor;
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-4);
    expectSame(m, e, x);
    tf.dispose([x, want, got]);
    [m, e].forEach((l) => l.dispose());
  });
});
