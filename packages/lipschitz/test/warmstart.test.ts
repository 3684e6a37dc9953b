// The bound must never be below the truth, warm or cold: power iterations warm-started from
// a stored vector used to converge to the wrong eigenvalue on operators with invariant
// subspaces (block-diagonal kernels, depthwise convolutions).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfd from '@tensorflow/tfjs-data';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {lipschitzBound, lipschitzCallback, matrixNorm, PowerIterationState, spectralDense} from '@deepspline/lipschitz';
import {linearPartMatrix, orthogonalFactor, rng, rowsOf, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

describe('warm-started power iterations', () => {
  test('Dense [[3,0],[0,1]] -> [[1,0],[0,3]]: the warm bound follows the larger block', () => {
    const state = new PowerIterationState();
    for (let step = 0; step <= 40; ++step) {
      const t = step / 40;
      const a = 3 - 2 * t;
      const b = 1 + 2 * t;
      const w = [a, 0, 0, b];
      const warm = matrixNorm(w, 2, 2, 2, {state});
      const cold = matrixNorm(w, 2, 2, 2);
      const truth = Math.max(a, b);
      expect(warm).toBeGreaterThanOrEqual(cold * (1 - 1e-6));
      expect(warm).toBeGreaterThanOrEqual(truth);
      expect(warm).toBeLessThanOrEqual(truth * (1 + 1e-9));
    }
  });

  test('block-diagonal 12 x 12 kernels whose blocks trade places', () => {
    const state = new PowerIterationState();
    const r = rng(3);
    const base = Array.from({length: 3}, () => Array.from({length: 16}, () => 2 * r() - 1));
    for (let step = 0; step <= 20; ++step) {
      const scales = [3 - 2 * step / 20, 1, 1 + 2 * step / 20];
      const w = new Float64Array(144);
      base.forEach((blk, bi) => {
        for (let i = 0; i < 4; ++i) for (let j = 0; j < 4; ++j) w[(4 * bi + i) * 12 + 4 * bi + j] = scales[bi]! * blk[4 * i + j]!;
      });
      const warm = matrixNorm(w, 12, 12, 2, {state, maxIterations: 20});
      expect(warm).toBeGreaterThanOrEqual(spectralNormSvd(w, 12, 12) * (1 - 1e-9));
    }
  });

  const depthwiseCase = (explicitLimit: number | undefined) => () => {
    const model = tfl.sequential({layers: [tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same',
      useBias: false, inputShape: [8, 8, 2]})]});
    const layer = model.layers[0]!;
    const r = rng(7);
    const base = Array.from({length: 18}, () => 2 * r() - 1);  // [3, 3, 2, 1], channel last
    const state = new PowerIterationState();
    for (let step = 0; step <= 40; ++step) {
      const s0 = 3 - 2 * step / 40;
      const s1 = 1 + 2 * step / 40;
      const k = tf.tensor4d(base.map((v, i) => v * (i % 2 === 0 ? s0 : s1)), [3, 3, 2, 1]);
      layer.setWeights([k]);
      k.dispose();
      const powerIteration = explicitLimit === undefined ? {} : {explicitLimit};
      const warm = lipschitzBound(model, {powerIteration: {...powerIteration, state}}).bound;
      const cold = lipschitzBound(model, {powerIteration}).bound;
      const {m, rows, cols} = linearPartMatrix((x) => model.predict(x) as Tensor, [8, 8, 2]);
      const truth = spectralNormSvd(m, rows, cols);
      expect(warm).toBeGreaterThanOrEqual(cold * (1 - 1e-6));
      expect(warm).toBeGreaterThanOrEqual(truth * (1 - 1e-7));
      // the matrix-free path (the kernel's Fourier symbol) is a proven bound, not the norm
      expect(warm).toBeLessThanOrEqual(truth * (explicitLimit === 0 ? 1.1 : 1 + 1e-5));
    }
    model.dispose();
  };
  test('DepthwiseConv2D whose channels trade places (explicit float64 path)', depthwiseCase(undefined));
  test('DepthwiseConv2D whose channels trade places (matrix-free Fourier path)', depthwiseCase(0));
});

/** Independent operator bound of the conv model below: SVD of every layer's explicit matrix. */
function independentBound(model: tfl.LayersModel): number {
  let bound = 1;
  let shape = model.inputs[0]!.shape.slice(1) as number[];
  for (const layer of model.layers) {
    if (layer instanceof SplineActivation) {
      const step = layer.step;
      const c = layer.getWeights()[0]!;
      bound *= Math.max(...rowsOf(c).map((row) =>
        Math.max(...row.slice(1).map((v, k) => Math.abs(v - row[k]!) / step))));
    } else if (layer.getClassName() !== 'Flatten') {
      const f = (x: Tensor) => layer.apply(x) as Tensor;
      const {m, rows, cols} = linearPartMatrix(f, shape);
      bound *= spectralNormSvd(m, rows, cols);
    }
    shape = (layer.outputShape as number[]).slice(1);
  }
  return bound;
}

function convModel(seed: number): tfl.Sequential {
  const init = (s: number) => tfl.initializers.randomUniform({minval: -1.5, maxval: 1.5, seed: seed + s});
  const model = tfl.sequential({layers: [
    tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same', inputShape: [6, 6, 2], depthwiseInitializer: init(0)}),
    splineActivation({size: 9, range: 1, init: 'leaky_relu'}),
    tfl.layers.separableConv2d({filters: 3, kernelSize: 3, padding: 'same', depthwiseInitializer: init(1),
      pointwiseInitializer: init(2)}),
    splineActivation({size: 9, range: 1, init: 'tanh'}),
    tfl.layers.flatten(),
    tfl.layers.dense({units: 1, kernelInitializer: init(3)}),
  ]});
  model.compile({optimizer: tf.train.adam(0.05), loss: 'meanSquaredError'});
  return model;
}

function convData(n: number, seed: number): {xs: Tensor, ys: Tensor} {
  const r = rng(seed);
  const xs = tf.tensor4d(Array.from({length: n * 72}, () => 2 * r() - 1), [n, 6, 6, 2]);
  const ys = tf.tidy(() => tf.reshape(tf.sin(tf.mul(tf.sum(xs, [1, 2, 3]), 0.8)), [n, 1]));
  return {xs, ys};
}

describe("constrain holds an independent cold bound after every batch", () => {
  const target = 2;
  test('fit: DepthwiseConv2D, SeparableConv2D, Dense and splines', async () => {
    const model = convModel(10);
    expect(independentBound(model)).toBeGreaterThan(4 * target);  // the constraint has work to do
    const {xs, ys} = convData(48, 1);
    const seen: number[] = [];
    const probe = new tfl.CustomCallback({onBatchEnd: async () => { seen.push(independentBound(model)); }});
    const cb = lipschitzCallback({mode: 'constrain', target});
    const h = await model.fit(xs, ys, {epochs: 3, batchSize: 8, verbose: 0, callbacks: [cb, probe]});
    expect(seen).toHaveLength(18);
    for (const b of seen) expect(b).toBeLessThanOrEqual(target * (1 + 1e-6));
    // history reports a bound that is not below the truth either
    const last = (h.history.lipschitz as number[]).at(-1)!;
    expect(last).toBeGreaterThanOrEqual(independentBound(model) * (1 - 1e-6));
    expect(last).toBeLessThanOrEqual(target * (1 + 1e-6));
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('fitDataset: the same model', async () => {
    const model = convModel(20);
    const {xs, ys} = convData(32, 2);
    const ds = tfd.zip({xs: tfd.array(tf.unstack(xs)), ys: tfd.array(tf.unstack(ys))}).batch(8);
    const seen: number[] = [];
    const probe = new tfl.CustomCallback({onBatchEnd: async () => { seen.push(independentBound(model)); }});
    await model.fitDataset(ds as never, {epochs: 2, verbose: 0,
      callbacks: [lipschitzCallback({mode: 'constrain', target}), probe]});
    expect(seen).toHaveLength(8);
    for (const b of seen) expect(b).toBeLessThanOrEqual(target * (1 + 1e-6));
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe('clustered spectra (orthonormalized kernels)', () => {
  test('a 256 x 256 kernel with singular values in [1 - 1e-4, 1]: the bound converges, no crude fallback', () => {
    const r = rng(17);
    const n = 256;
    // W = Q diag(s) with Q orthogonal (from ml-matrix's QR) and s spread over 1e-4
    const g = new Float64Array(n * n).map(() => 2 * r() - 1);
    const q = orthogonalFactor(g, n);
    const w = new Float64Array(n * n);
    for (let i = 0; i < n; ++i) for (let j = 0; j < n; ++j) w[i * n + j] = Math.fround(q[i * n + j]! * (1 - 1e-4 * j / n));
    const truth = spectralNormSvd(w, n, n);
    const bound = matrixNorm(w, n, n, 2);
    expect(bound).toBeGreaterThanOrEqual(truth);
    expect(bound).toBeLessThanOrEqual(truth * (1 + 1e-6));  // was the Frobenius bound, 16x
  });
});

describe('clustered spectra that Lanczos does not resolve in its budget', () => {
  // A Glorot 784 x 256 kernel after 5 Björck steps: 256 singular values packed just below 1.
  // The bound was the Frobenius norm, 14.7, and spectralDense's deployed kernel shrank 14x.
  const bjorckKernel = () => tf.tidy(() => {
    let w = tfl.initializers.glorotUniform({seed: 1}).apply([784, 256]) as tf.Tensor2D;
    w = tf.div(w, spectralNormSvd(w.dataSync(), 784, 256) * 1.001);
    for (let i = 0; i < 5; ++i) w = tf.sub(tf.mul(w, 1.5), tf.mul(tf.matMul(w, tf.matMul(w, w, true, false)), 0.5));
    return w;
  });

  test('matrixNorm stays an upper bound within 2 % of the truth', () => {
    const w = bjorckKernel();
    const data = w.dataSync();
    const truth = spectralNormSvd(data, 784, 256);
    const bound = matrixNorm(data, 784, 256, 2);
    expect(bound).toBeGreaterThanOrEqual(truth);
    expect(bound).toBeLessThanOrEqual(truth * 1.02);
    w.dispose();
  });

  test("spectralDense with orthonormalize 'bjorck' predicts what it trains with (within 2 %)", () => {
    const layer = spectralDense({units: 256, inputShape: [784], orthonormalize: 'bjorck', bjorckSteps: 5, useBias: false});
    const model = tfl.sequential({layers: [layer]});
    const w = bjorckKernel();
    layer.setWeights([w, layer.getWeights()[1]!]);
    const x = tf.randomUniform([8, 784], 0, 1, 'float32', 3);
    const deployed = tf.norm(model.predict(x) as Tensor).dataSync()[0]!;
    const training = tf.norm(model.apply(x, {training: true}) as Tensor).dataSync()[0]!;
    expect(Math.abs(deployed - training) / training).toBeLessThan(0.02);
    expect(lipschitzBound(model).bound).toBeLessThanOrEqual(1 + 1e-6);
    tf.dispose([w, x]);
    model.dispose();
  });
});
