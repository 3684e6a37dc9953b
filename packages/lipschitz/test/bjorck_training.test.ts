/**
 * Björck training of the spectral layers (issue 27): each training step writes the
 * orthonormalized kernel back into the weight and differentiates the polar factor at it.
 * Checked against independent references: the float64 polar factor `U V^T` of ml-matrix's
 * SVD (finite differences of the loss through it), ml-matrix's singular values of the trained
 * weights, and the layer's own inference path (certified norm, `bjorckSteps` iterations).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {Matrix, SingularValueDecomposition} from 'ml-matrix';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';
import {SpectralDense, spectralDense} from '@deepspline/lipschitz';
import {orthogonalFactor, rng, useCpu} from './helpers.js';

beforeAll(useCpu);

/** The polar factor `U V^T` of a `[rows, cols]` matrix, in float64. */
function polar(w: number[][]): Matrix {
  const svd = new SingularValueDecomposition(new Matrix(w), {autoTranspose: true});
  return svd.leftSingularVectors.mmul(svd.rightSingularVectors.transpose());
}

function singularValues(w: number[][]): number[] {
  return new SingularValueDecomposition(new Matrix(w), {autoTranspose: true}).diagonal;
}

const kernelOf = (layer: tfl.layers.Layer) => (layer as unknown as {kernel: tfl.LayerVariable}).kernel;

describe('Björck training', () => {
  test.each([[12, 5, 1], [5, 12, 2.5], [7, 7, 0.4]])(
    'the gradient at an orthonormal [%i, %i] kernel times %f is that of the float64 polar factor', (rows, cols, scale) => {
      const r = rng(rows * 31 + cols);
      const n = Math.max(rows, cols);
      const q = orthogonalFactor(Float64Array.from({length: n * n}, () => 2 * r() - 1), n);
      const w0 = Array.from({length: rows}, (_, a) => Array.from({length: cols}, (_, b) => scale * q[a * n + b]!));
      const x = Array.from({length: 3}, () => Array.from({length: rows}, () => 2 * r() - 1));
      const c = Array.from({length: 3}, () => Array.from({length: cols}, () => 2 * r() - 1));
      // the loss sum(c * (x polar(W))) in float64
      const loss64 = (w: number[][]) => new Matrix(x).mmul(polar(w)).mul(new Matrix(c)).sum();

      const layer = spectralDense({units: cols, inputShape: [rows], useBias: false, orthonormalize: 'bjorck',
        bjorckSteps: 30, trainingBjorckSteps: 3});
      const model = tfl.sequential({layers: [layer]});
      const kernel = kernelOf(layer);
      kernel.write(tf.tensor2d(w0));
      const xt = tf.tensor2d(x);
      const ct = tf.tensor2d(c);
      const {grads} = tf.variableGrads(() =>
        tf.sum(tf.mul(layer.apply(xt, {training: true}) as Tensor, ct)) as tf.Scalar, [kernel.read() as tf.Variable]);
      const g = (Object.values(grads)[0] as Tensor2D).arraySync();
      for (let trial = 0; trial < 4; ++trial) {
        const d = Array.from({length: rows}, () => Array.from({length: cols}, () => 2 * r() - 1));
        const h = 1e-5;
        const shifted = (s: number) => w0.map((row, a) => row.map((v, b) => v + s * h * d[a]![b]!));
        const fd = (loss64(shifted(1)) - loss64(shifted(-1))) / (2 * h);
        const analytic = g.flat().reduce((acc, v, i) => acc + v * d.flat()[i]!, 0);
        expect(Math.abs(analytic - fd)).toBeLessThan(2e-4 * (1 + Math.abs(fd)));
      }
      tf.dispose([xt, ct, ...Object.values(grads)]);
      model.dispose();
    });

  test('training keeps the weights orthonormal and the training map equal to the deployed one', async () => {
    const model = tfl.sequential({layers: [
      spectralDense({units: 24, inputShape: [40], orthonormalize: 'bjorck',
        kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      tfl.layers.activation({activation: 'relu'}),
      spectralDense({units: 30, orthonormalize: 'bjorck', kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
      tfl.layers.activation({activation: 'relu'}),
      spectralDense({units: 3, orthonormalize: 'bjorck', kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}),
    ]});
    model.compile({optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError'});
    const xs = tf.randomNormal([640, 40], 0, 1, 'float32', 4);
    const ys = tf.randomNormal([640, 3], 0, 1, 'float32', 5);
    await model.fit(xs, ys, {batchSize: 32, epochs: 2, verbose: 0, shuffle: false});
    for (const layer of model.layers.filter((l) => l instanceof SpectralDense)) {
      // the weight after the last optimizer step: one Adam step off a multiple of an
      // orthonormal matrix (all singular values equal)
      const s = singularValues(kernelOf(layer).read().arraySync() as number[][]);
      expect(Math.max(...s.map((v) => Math.abs(v / s[0]! - 1)))).toBeLessThan(0.05);
    }
    const x = tf.slice(xs, [0, 0], [64, 40]);
    const trained = model.apply(x, {training: true}) as Tensor;  // one more retraction step
    const deployed = model.predict(x) as Tensor;
    const diff = tf.max(tf.abs(tf.sub(trained, deployed))).dataSync()[0]!;
    const scale = tf.max(tf.abs(deployed)).dataSync()[0]!;
    expect(diff).toBeLessThan(2e-3 * scale);
    tf.dispose([xs, ys, x, trained, deployed]);
    model.dispose();
  });

  test('the written-back weight represents the same function (a step at learning rate 0)', async () => {
    const layer = spectralDense({units: 9, inputShape: [20], orthonormalize: 'bjorck', bjorckSteps: 40,
      kernelInitializer: tfl.initializers.randomNormal({seed: 6})});
    const model = tfl.sequential({layers: [layer]});
    model.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
    const xs = tf.randomNormal([16, 20], 0, 1, 'float32', 7);
    const before = (model.predict(xs) as Tensor).arraySync() as number[][];
    const w0 = kernelOf(layer).read().arraySync() as number[][];
    const zeros = tf.zeros([16, 9]);
    await model.fit(xs, zeros, {batchSize: 16, epochs: 1, verbose: 0});
    zeros.dispose();
    const w1 = kernelOf(layer).read().arraySync() as number[][];
    // the weight moved (to a multiple of its polar factor) ...
    const s1 = singularValues(w1);
    const s0 = singularValues(w0);
    expect(Math.max(...s1.map((v) => Math.abs(v / s1[0]! - 1)))).toBeLessThan(1e-4);
    expect(Math.max(...s0.map((v) => Math.abs(v / s0[0]! - 1)))).toBeGreaterThan(0.3);
    // ... of the float64 polar factor of the old one, at the old one's scale (the largest
    // singular value, estimated by power iteration), so the deployed map did not change
    const p = polar(w0).to2DArray();
    expect(Math.max(...w1.flat().map((v, i) => Math.abs(v / s1[0]! - p.flat()[i]!)))).toBeLessThan(1e-4);
    expect(Math.abs(s1[0]! / s0[0]! - 1)).toBeLessThan(0.05);
    const after = (model.predict(xs) as Tensor).arraySync() as number[][];
    expect(Math.max(...after.flat().map((v, i) => Math.abs(v - before.flat()[i]!)))).toBeLessThan(1e-4);
    xs.dispose();
    model.dispose();
  });

  test('no tensor leaks over 120 batches', async () => {
    const model = tfl.sequential({layers: [
      spectralDense({units: 6, inputShape: [5], orthonormalize: 'bjorck'}),
      spectralDense({units: 4, orthonormalize: 'bjorck'}),
    ]});
    model.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const xs = tf.randomNormal([240, 5], 0, 1, 'float32', 8);
    const ys = tf.randomNormal([240, 4], 0, 1, 'float32', 9);
    await model.fit(xs, ys, {batchSize: 2, epochs: 1, verbose: 0});
    const before = tf.memory().numTensors;
    await model.fit(xs, ys, {batchSize: 2, epochs: 1, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});
