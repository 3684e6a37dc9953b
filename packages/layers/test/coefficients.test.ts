/**
 * The layer's own operations on its coefficients (`getCoefficients`, `setCoefficients`,
 * `clipSlopes`, `sparsify`) and the model guards, checked against values computed here.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {isLayersModel, isSplineLayer, SplineActivation, splineActivation} from '@deepspline/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const COEFFS = [[0, 0.1, 0.5, 0, -1, 1.5, 1.6], [2, 1, 0, -1, -2, -3, -4]];

/** A built spline layer, size 7 on [-1, 1] (step 1/3), two channels, with COEFFS. */
function built(args: object = {}): SplineActivation {
  const layer = splineActivation({size: 7, range: 1, name: 'act', ...args});
  layer.apply(tfl.input({shape: [2]}));
  layer.setCoefficients(COEFFS);
  return layer;
}

function rows(t: tf.Tensor): number[][] {
  const v = t.arraySync() as number[][];
  t.dispose();
  return v;
}

function expectError(fn: () => unknown, message: string): void {
  let error: unknown;
  try { fn(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toBe(message);
}

test('getCoefficients returns a copy of the stored coefficients (not the maxSlope-clipped ones)', () => {
  const layer = built({maxSlope: 0.5});
  const got = layer.getCoefficients();
  expect(got.shape).toEqual([2, 7]);
  expect(rows(got)).toEqual(COEFFS.map((r) => r.map(Math.fround)));
  // A copy: disposing it leaves the layer intact.
  expect(rows(layer.getCoefficients())).toEqual(COEFFS.map((r) => r.map(Math.fround)));
  layer.dispose();
});

test('setCoefficients replaces the weight (tensor or array) and the layer computes with it', () => {
  const layer = built();
  const c = tf.tensor2d([[0, 0, 0, 0, 0, 0, 1], [3, 3, 3, 3, 3, 3, 3]]);
  layer.setCoefficients(c);
  c.dispose();  // the layer keeps its own reference
  const x = tf.tensor2d([[0, 5], [1, -7]]);
  // channel 0: 0 up to the last segment [2/3, 1], then 3 x - 2; channel 1: constant 3
  expect(rows(layer.apply(x) as tf.Tensor)).toEqual([[0, 3], [1, 3]]);
  const far = tf.tensor2d([[5, 0]]);
  expect(rows(layer.apply(far) as tf.Tensor)).toEqual([[13, 3]]);
  far.dispose();
  x.dispose();
  layer.dispose();
});

test('setCoefficients checks shape, dtype and finiteness, naming the layer and the value', () => {
  const layer = built();
  const narrow = tf.zeros([1, 7]) as tf.Tensor2D;
  const ints = tf.zeros([2, 7], 'int32') as tf.Tensor2D;
  const before = tf.memory().numTensors;
  expectError(() => layer.setCoefficients(narrow),
    "splineActivation 'act': setCoefficients expected float32 coefficients of shape [2,7], got a float32 tensor of shape [1,7]");
  expectError(() => layer.setCoefficients(ints),
    "splineActivation 'act': setCoefficients expected float32 coefficients of shape [2,7], got a int32 tensor of shape [2,7]");
  expectError(() => layer.setCoefficients([[0, 1, 2, 3, 4, 5, 6], [0, 1, 2, NaN, 4, 5, 6]]),
    "splineActivation 'act': setCoefficients expected finite coefficients, got NaN at [1, 3]");
  expectError(() => layer.setCoefficients('abc' as never),
    "splineActivation 'act': setCoefficients expected a float32 tensor or an array of shape [2,7], got \"abc\"");
  expect(tf.memory().numTensors).toBe(before);  // nothing leaked, arrays' tensors included
  expect(rows(layer.getCoefficients())).toEqual(COEFFS.map((r) => r.map(Math.fround)));  // unchanged
  tf.dispose([narrow, ints]);
  layer.dispose();
});

test('clipSlopes makes every stored slope <= maxSlope, keeps each mean, and leaves gentle splines', () => {
  const layer = built();
  const before = tf.memory().numTensors;
  layer.clipSlopes(2);
  expect(tf.memory().numTensors).toBe(before);
  const after = rows(layer.getCoefficients());
  const step = 1 / 3;
  for (const [n, row] of after.entries()) {
    // float64 slopes of the float32 result
    const slopes = row.slice(1).map((v, k) => (v - row[k]!) / step);
    expect(Math.max(...slopes.map(Math.abs))).toBeLessThanOrEqual(2);
    const mean = (r: number[]) => r.reduce((a, b) => a + b, 0) / r.length;
    expect(Math.abs(mean(row) - mean(COEFFS[n]!))).toBeLessThan(1e-6);
  }
  // channel 0 had a slope of 7.5 (clipped to 2), channel 1 has slopes of 3 (clipped to 2)
  expect(Math.abs((after[0]![5]! - after[0]![4]!) / step - 2)).toBeLessThan(1e-4);
  const lip = layer.lipschitz();
  expect(Math.max(...lip.dataSync())).toBeLessThanOrEqual(2);
  lip.dispose();
  // every slope already below: unchanged up to the rounding margin (1e-5) and the rounding to
  // the quantum (K q / 2 = 7 * 2^-20 here: |mean| + sum |steps| = 5 for channel 1, so q = 2^-19)
  layer.clipSlopes(100);
  const again = rows(layer.getCoefficients());
  for (const [n, row] of again.entries()) {
    for (const [k, v] of row.entries()) expect(Math.abs(v - after[n]![k]!)).toBeLessThan(1e-5 + 7 * 2 ** -20);
  }
  layer.dispose();
});

test('clipSlopes and the coefficient methods reject bad input and unbuilt layers', () => {
  const layer = built();
  expectError(() => layer.clipSlopes(-1),
    "splineActivation 'act': clipSlopes: expected maxSlope >= 0, got -1");
  expectError(() => layer.clipSlopes(NaN),
    "splineActivation 'act': clipSlopes: expected maxSlope to be a finite number, got NaN");
  expectError(() => layer.clipSlopes('1' as never),
    "splineActivation 'act': clipSlopes: expected maxSlope to be a finite number, got \"1\"");
  layer.dispose();
  const unbuilt = splineActivation({name: 'fresh'});
  const notBuilt = "splineActivation 'fresh': the layer is not built yet; call it on an input or " +
    'build its model first';
  expectError(() => unbuilt.getCoefficients(), notBuilt);
  expectError(() => unbuilt.setCoefficients([[0, 1, 2]]), notBuilt);
  expectError(() => unbuilt.clipSlopes(1), notBuilt);
});

test('isSplineLayer and isLayersModel', () => {
  const layer = splineActivation({size: 5, range: 1});
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [3]}), layer]});
  const functional = tfl.model({inputs: model.inputs, outputs: model.outputs});
  expect(isSplineLayer(layer)).toBe(true);
  expect(isSplineLayer(model.layers[0])).toBe(false);
  expect(isSplineLayer({getClassName: () => 'SplineActivation'})).toBe(false);
  // Another module copy's layer: same class name and methods, a different class.
  const copy = Object.create({getClassName: () => 'SplineActivation', clipSlopes: () => undefined});
  expect(isSplineLayer(copy)).toBe(true);
  expect([isLayersModel(model), isLayersModel(functional)]).toEqual([true, true]);
  expect([isLayersModel(layer), isLayersModel(null), isLayersModel({layers: []})]).toEqual([false, false, false]);
  expect(isLayersModel({layers: [], getClassName: () => 'Sequential', predict: () => null})).toBe(true);
  model.dispose();
});
