import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {modelActiveKnots, sparsify} from '@deepspline/lipschitz';
import {rng, rowsOf, useCpu} from './helpers.js';

beforeAll(useCpu);

/** |a_k| of every spline of a layer, float64. */
function reluSlopesJs(layer: SplineActivation): number[][] {
  const step = layer.step;
  return rowsOf(layer.getWeights()[0]!).map((c) =>
    c.slice(1, -1).map((v, i) => Math.abs(c[i]! - 2 * v + c[i + 2]!) / step));
}

function model(seed: number): tfl.Sequential {
  const inner = tfl.sequential({name: 'inner', layers: [splineActivation({inputShape: [3], size: 9, range: 1, name: 'deep'})]});
  const m = tfl.sequential({layers: [
    tfl.layers.dense({units: 3, inputShape: [2]}),
    splineActivation({size: 11, range: 2, name: 's1'}),
    inner,
    tfl.layers.dense({units: 1}),
  ]});
  const r = rng(seed);
  for (const layer of [m.layers[1]!, inner.layers[0]!]) {
    const w = layer.getWeights()[0]!;
    // a few big second differences among many small ones
    const c = tf.tensor(Array.from({length: w.size}, (_, i) => (i % 4 === 0 ? 1 : 0.01) * (2 * r() - 1)), w.shape);
    layer.setWeights([c]);
    c.dispose();
  }
  return m;
}

test('activeKnots counts |a_k| > threshold over every spline layer (nested included)', () => {
  const m = model(1);
  const layers = [m.layers[1] as SplineActivation, (m.layers[2] as tfl.Sequential).layers[0] as SplineActivation];
  for (const t of [0, 0.01, 0.1, 1]) {
    const expected = layers.map((l) => reluSlopesJs(l).flat().filter((a) => a > t).length);
    const got = modelActiveKnots(m, t);
    expect(got.layers.map((l) => l.name)).toEqual(['s1', 'inner/deep']);
    expect(got.layers.map((l) => l.activeKnots)).toEqual(expected);
    expect(got.total).toBe(expected[0]! + expected[1]!);
  }
  expect(modelActiveKnots(m, 0).total).toBe(3 * 9 + 3 * 7);  // random coefficients: every knot active
  m.dispose();
});

test('sparsify: threshold 0 changes nothing; a threshold removes exactly the small knots', () => {
  const m = model(2);
  const x = tf.randomUniform([50, 2], -3, 3, 'float32', 1);
  const y0 = m.predict(x) as Tensor;
  const before = tf.memory().numTensors;
  const same = sparsify(m, 0);
  expect(tf.memory().numTensors).toBe(before);
  expect(same.total).toBe(48);
  const y1 = m.predict(x) as Tensor;
  expect(tf.max(tf.abs(tf.sub(y0, y1))).dataSync()[0]).toBeLessThan(1e-5);
  const layers = [m.layers[1] as SplineActivation, (m.layers[2] as tfl.Sequential).layers[0] as SplineActivation];
  const t = 0.05;
  const expected = layers.map((l) => reluSlopesJs(l).flat().filter((a) => a > t).length);
  const kept = layers.map((l) => reluSlopesJs(l));
  const after = sparsify(m, t);
  expect(after.layers.map((l) => l.activeKnots)).toEqual(expected);
  expect(after.total).toBeLessThan(same.total);
  // the surviving slopes are unchanged
  layers.forEach((l, li) => reluSlopesJs(l).forEach((row, c) => row.forEach((a, k) => {
    const old = kept[li]![c]![k]!;
    if (old > t) expect(Math.abs(a - old)).toBeLessThan(1e-4);
    else expect(a).toBeLessThan(1e-4);
  })));
  expect(() => sparsify(m, -1)).toThrow(/sparsify: expected threshold >= 0, got -1/);
  expect(() => modelActiveKnots(m, NaN)).toThrow(/^modelActiveKnots: expected threshold to be a finite number, got NaN$/);
  tf.dispose([x, y0, y1]);
  m.dispose();
});
