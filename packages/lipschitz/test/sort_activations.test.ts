/**
 * deel-lip's FullSort and Householder activations: values against float64 references (a sort;
 * deel-lip's reflection formula with its selector), the certified factor against attacks and
 * against the factor's own float64 formula, attained where it should be; save/load; export;
 * gradients; memory; bad arguments.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {FullSort, Householder, fullSort, householder, lipschitzBound} from '../src/index.js';
import {rng, useCpu} from './helpers.js';
import {alone, attack, exportStandard, maxDifference, predictFn, roundTrip} from './toolkit_helpers.js';

beforeAll(useCpu);

/** A Householder model with random angles in [-pi, pi]. */
function householderModel(channels: number, seed: number, name?: string): {model: tfl.LayersModel, theta: Float32Array} {
  const layer = householder(name != null ? {name} : {});
  const model = alone(layer, [channels]);
  const r = rng(seed);
  const theta = Float32Array.from({length: channels / 2}, () => Math.PI * (2 * r() - 1));
  const t = tf.tensor1d(theta);
  layer.setWeights([t]);
  t.dispose();
  return {model, theta};
}

describe('fullSort', () => {
  test('sorts the whole last axis (float64 reference), any rank; factor 1, attained', () => {
    const r = rng(1);
    const x = Float32Array.from({length: 4 * 3 * 6}, () => r() * 4 - 2);
    const input = tf.tensor3d(x, [4, 3, 6]);
    const y = fullSort().apply(input) as Tensor;
    const out = y.dataSync();
    for (let row = 0; row < 12; ++row) {
      const ref = Array.from(x.subarray(row * 6, row * 6 + 6)).sort((a, b) => a - b);
      expect(Array.from(out.subarray(row * 6, row * 6 + 6))).toEqual(ref);
    }
    tf.dispose([input, y]);
    const model = alone(fullSort(), [5]);
    for (const p of [1, 2, Infinity] as const) {
      expect(lipschitzBound(model, {norm: p}).bound).toBe(1);
      const found = attack(predictFn(model), [5], p, 2);
      expect(found).toBeLessThanOrEqual(1 + 1e-6);
      expect(found).toBeGreaterThan(0.999);  // a permutation wherever the order is fixed
    }
    model.dispose();
  });

  test('save/load; export (sorting network of Minimum/Maximum) gives the same outputs; no leaks', async () => {
    const model = alone(fullSort({name: 'sort'}), [4]);
    const loaded = await roundTrip(model, 'FullSort');
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 3);
    expect(maxDifference(model, loaded, x)).toBe(0);
    const exported = exportStandard(model);
    expect(maxDifference(model, exported, x)).toBe(0);
    const before = tf.memory().numTensors;
    tf.dispose(model.predict(x) as Tensor);
    tf.dispose(tf.grad((v: Tensor) => tf.sum(model.apply(v) as Tensor))(x));
    lipschitzBound(model);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    [model, loaded, exported].forEach((m) => m.dispose());
  });

  test('the gradient is the permutation the sort applied', () => {
    const x = tf.tensor2d([[3, 1, 2]]);
    const dy = tf.tensor2d([[10, 20, 30]]);
    const g = tf.grad((v: Tensor) => tf.sum(tf.mul(fullSort().apply(v) as Tensor, dy)))(x);
    // sorted = (x1, x2, x0): dx0 = dy2, dx1 = dy0, dx2 = dy1
    expect(Array.from(g.dataSync())).toEqual([30, 10, 20]);
    tf.dispose([x, dy, g]);
  });

  test('errors name the layer', () => {
    expect(() => fullSort([] as never)).toThrow('fullSort: expected an arguments object, got []');
    expect(() => alone(fullSort({name: 'f'}), [null as never])).toThrow("fullSort 'f': the last axis of the input (channels) must have a known size");
    expect(() => fullSort({name: 'g'}).groupSize).toThrow("fullSort 'g': the layer is not built yet");
    expect(fullSort()).toBeInstanceOf(FullSort);
  });
});

describe('householder', () => {
  test("values: deel-lip's formula (selector, reflection by [[cos, sin], [sin, -cos]]) in float64", () => {
    const {model, theta} = householderModel(6, 4);
    const r = rng(5);
    const x = Float32Array.from({length: 8 * 6}, () => 4 * r() - 2);
    const y = tf.tidy(() => (model.predict(tf.tensor2d(x, [8, 6])) as Tensor).dataSync());
    for (let b = 0; b < 8; ++b) {
      for (let i = 0; i < 3; ++i) {
        const [z1, z2] = [x[b * 6 + i]!, x[b * 6 + 3 + i]!];
        const t = theta[i]!;
        const keep = z1 * Math.sin(t / 2) - z2 * Math.cos(t / 2) <= 0;
        const e1 = keep ? z1 : z1 * Math.cos(t) + z2 * Math.sin(t);
        const e2 = keep ? z2 : z1 * Math.sin(t) - z2 * Math.cos(t);
        expect(y[b * 6 + i]).toBeCloseTo(e1, 5);
        expect(y[b * 6 + 3 + i]).toBeCloseTo(e2, 5);
      }
    }
    model.dispose();
  });

  test('the default angle pi/2 is MaxMin of the pairs (z1_i, z2_i)', () => {
    const y = householder().apply(tf.tensor2d([[1, 5, 3, 2]])) as Tensor;
    expect(Array.from(y.dataSync()).map((v) => Number(v.toFixed(5)))).toEqual([1, 2, 3, 5]);
    y.dispose();
  });

  test('factor: 1 in l2 (attained), max(1, |cos| + |sin|) in l1 and l-inf; never below an attack', () => {
    for (const seed of [1, 2, 3]) {
      const {model, theta} = householderModel(4, seed);
      const two = lipschitzBound(model, {norm: 2}).bound;
      expect(two).toBeGreaterThanOrEqual(1);
      expect(two).toBeLessThan(1 + 1e-6);
      const found = attack(predictFn(model), [4], 2, seed);
      // (the quotients of float32 outputs at pair distances 0.01 carry ~2e-5 of rounding)
      expect(found).toBeLessThanOrEqual(two * (1 + 1e-4));
      expect(found).toBeGreaterThan(0.999);
      const sums = Math.max(1, ...Array.from(theta, (t) => Math.abs(Math.cos(t)) + Math.abs(Math.sin(t))));
      for (const p of [1, Infinity] as const) {
        const bound = lipschitzBound(model, {norm: p}).bound;
        expect(bound).toBeGreaterThanOrEqual(sums * (1 - 1e-6));
        expect(bound).toBeLessThanOrEqual(sums * (1 + 1e-5));
        expect(attack(predictFn(model), [4], p, seed + 10)).toBeLessThanOrEqual(bound * (1 + 1e-4));
      }
      model.dispose();
    }
  });

  test('theta trains: its gradient is finite and non-zero where a pair is reflected', () => {
    const layer = householder();
    const model = alone(layer, [2]);
    const x = tf.tensor2d([[2, 1], [-1, 3]]);
    const {grads} = tf.variableGrads(() => tf.sum(tf.square(model.apply(x) as Tensor)) as tf.Scalar, layer.trainableWeights.map((w) => (w as unknown as {val: tf.Variable}).val));
    const g = Object.values(grads)[0]!.dataSync();
    expect(Number.isFinite(g[0]!)).toBe(true);
    tf.dispose([x, ...Object.values(grads)]);
    model.dispose();
  });

  test('save/load (angles and initializer); export (Dense, ReLU, Dense, Add) gives the same outputs; no leaks', async () => {
    const {model} = householderModel(6, 7, 'hh');
    const loaded = await roundTrip(model, 'Householder');
    const x = tf.randomNormal([16, 6], 0, 1, 'float32', 3);
    expect(maxDifference(model, loaded, x)).toBe(0);
    expect(loaded.layers[1]!.getConfig()).toEqual(model.layers[1]!.getConfig());
    const exported = exportStandard(model);
    expect(maxDifference(model, exported, x)).toBeLessThanOrEqual(1e-6);
    const before = tf.memory().numTensors;
    tf.dispose(model.predict(x) as Tensor);
    for (const p of [1, 2, Infinity] as const) lipschitzBound(model, {norm: p});
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    [model, loaded, exported].forEach((m) => m.dispose());
    const named = alone(householder({thetaInitializer: 'zeros'}), [2]);
    const reloaded = await roundTrip(named, 'Householder');
    expect(reloaded.layers[1]!.getConfig().thetaInitializer).toEqual({className: 'Zeros', config: {}});
    named.dispose();
    reloaded.dispose();
  });

  test('errors: odd channels, unknown initializer, channelsFirst', () => {
    expect(() => alone(householder({name: 'h'}), [3])).toThrow(
      "householder 'h': expected an even, known number of channels (the last axis of the input), got input shape [null,3]");
    expect(() => householder({thetaInitializer: 'nope'})).toThrow('householder: expected thetaInitializer to be an initializer');
    expect(() => householder({dataFormat: 'channelsFirst' as never})).toThrow('householder: expected dataFormat');
    expect(householder()).toBeInstanceOf(Householder);
  });
});
