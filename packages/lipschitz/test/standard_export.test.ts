import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {exportToStandardLayers, splineActivation, standardExportNames} from '@deepspline/layers';
import {groupSort, spectralConv2d, spectralDense} from '../src/index.js';
import {predictionRelError, randomizeSplines} from '@deepspline/testing';
import {useCpu} from './helpers.js';

beforeAll(useCpu);

const STANDARD = new Set(['InputLayer', 'Dense', 'Conv2D', 'Reshape', 'Permute', 'ReLU', 'DepthwiseConv2D',
  'Cropping2D', 'Minimum', 'Maximum', 'Concatenate', 'Flatten']);

function expectStandard(exported: tfl.LayersModel): void {
  for (const l of exported.layers) expect([l.getClassName(), STANDARD.has(l.getClassName())]).toEqual([l.getClassName(), true]);
  const json = JSON.stringify(exported.toJSON(null, false));
  // Every class in the saved config (layers, initializers) is a tfjs-layers one.
  const classes = [...json.matchAll(/"class_name":"(\w+)"/g)].map((m) => m[1]);
  expect(classes.filter((c) => /Spectral|GroupSort|Spline|TV2|BV2/.test(c!))).toEqual([]);
}

test('lipschitz registers its layers with exportToStandardLayers', () => {
  expect(standardExportNames()).toEqual(expect.arrayContaining(['GroupSort', 'SpectralConv2D', 'SpectralDense']));
});

/**
 * The exported model predicts as the original (relative error < 1e-5) on inputs of `shape`
 * uniform in [-1, 1] (seed `seed`) and in [-1e4, 1e4] (seed `seed + 1`); disposes both models.
 */
function expectSamePredictions(m: tfl.LayersModel, e: tfl.LayersModel, shape: number[], seed: number): void {
  for (const [scale, s] of [[1, seed], [1e4, seed + 1]] as const) {
    const x = tf.randomUniform(shape, -scale, scale, 'float32', s);
    expect(predictionRelError(m, e, x)).toBeLessThan(1e-5);
    x.dispose();
  }
  m.dispose();
  e.dispose();
}

test('a 1-Lipschitz dense model (spectral layers, GroupSort, maxSlope splines) exports exactly', () => {
  const before = tf.memory().numTensors;
  const m = tfl.sequential({layers: [
    spectralDense({units: 8, inputShape: [4], orthonormalize: 'bjorck', name: 'sd1'}),
    groupSort({groupSize: 2, name: 'maxmin'}),
    spectralDense({units: 6, name: 'sd2'}),
    splineActivation({size: 21, range: 1, maxSlope: 1, name: 'spline'}),
    spectralDense({units: 6, useBias: false, name: 'sd3'}),
    groupSort({groupSize: 3, name: 'sort3'}),
    spectralDense({units: 2, name: 'logits'}),
  ]});
  randomizeSplines(m, 1);
  m.layers.forEach((l, i) => {  // non-zero biases
    const ws = l.getWeights();
    if (ws.length < 2) return;
    const b = tf.randomUniform(ws[1]!.shape, -0.5, 0.5, 'float32', 10 + i);
    l.setWeights([ws[0]!, b, ...ws.slice(2)]);
    b.dispose();
  });
  const e = exportToStandardLayers(m);
  expectStandard(e);
  expect(e.getLayer('sd1').getClassName()).toBe('Dense');
  expect(e.getLayer('sd1').getWeights().length).toBe(2);  // kernel and bias, no power-iteration vector
  expectSamePredictions(m, e, [64, 4], 2);
  expect(tf.memory().numTensors).toBe(before);
});

test('a spectral conv model exports to Conv2D with the normalised kernel', () => {
  const before = tf.memory().numTensors;
  const m = tfl.sequential({layers: [
    spectralConv2d({inputShape: [8, 8, 1], filters: 4, kernelSize: 3, strides: 2, padding: 'same', name: 'sc'}),
    splineActivation({size: 11, range: 1, maxSlope: 1}),
    groupSort({groupSize: 2}),
    tfl.layers.flatten(),
    spectralDense({units: 3}),
  ]});
  randomizeSplines(m, 20);
  const e = exportToStandardLayers(m);
  expectStandard(e);
  expect(e.getLayer('sc').getClassName()).toBe('Conv2D');
  expectSamePredictions(m, e, [3, 8, 8, 1], 21);
  expect(tf.memory().numTensors).toBe(before);
});

test('GroupSort export: a NaN anywhere in a group makes the whole group NaN, as the layer (cpu)', () => {
  for (const g of [2, 3, 4, 5, 6, 12]) {
    const m = tfl.sequential({layers: [groupSort({inputShape: [60], groupSize: g})]});
    const e = exportToStandardLayers(m);
    for (let j = 0; j < g; ++j) {
      const values = Array.from({length: 120}, (_, i) => ((i * 7) % 11) - 5);
      values[60 + j] = NaN;  // the first group of the second row
      const x = tf.tensor2d(values, [2, 60]);
      const a = m.predict(x) as tf.Tensor;
      const b = e.predict(x) as tf.Tensor;
      const out = Array.from(a.dataSync());
      expect(out.slice(60, 60 + g).every(Number.isNaN)).toBe(true);
      expect(out.filter(Number.isNaN)).toHaveLength(g);
      expect([g, j, Array.from(b.dataSync(), (v) => v + 0)]).toEqual([g, j, out.map((v) => v + 0)]);
      tf.dispose([x, a, b]);
    }
    m.dispose();
    e.dispose();
  }
});

test('GroupSort with ties and every group size up to the full sort', () => {
  for (const g of [2, 3, 4, 6]) {
    const m = tfl.sequential({layers: [groupSort({inputShape: [3, 12], groupSize: g})]});
    const e = exportToStandardLayers(m);
    const x = tf.tidy(() => tf.round(tf.randomUniform([5, 3, 12], -3, 3, 'float32', g)));  // many ties
    const a = m.predict(x) as tf.Tensor;
    const b = e.predict(x) as tf.Tensor;
    // The same values (a tie may swap 0 and -0, which are equal).
    const plain = (t: tf.Tensor) => Array.from(t.dataSync(), (v) => v + 0);
    expect(plain(b)).toEqual(plain(a));
    tf.dispose([x, a, b]);
    m.dispose();
    e.dispose();
  }
});

test('a failing export (NaN spectral kernel) leaves no tensor behind, over repeated calls', () => {
  const m = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [3]}), splineActivation({size: 5}),
    spectralDense({units: 2, name: 'nan_spectral'})]});
  const spectral = m.layers[2]!;
  const poisoned = spectral.getWeights().map((w, i) => (i === 0 ? tf.fill(w.shape, NaN) : tf.clone(w)));
  spectral.setWeights(poisoned);
  tf.dispose(poisoned);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; ++i) expect(() => exportToStandardLayers(m)).toThrow(/spectral norm is NaN/);
  expect(tf.memory().numTensors).toBe(before);
  m.dispose();
});
