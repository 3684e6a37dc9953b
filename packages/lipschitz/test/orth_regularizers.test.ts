/**
 * lorthRegularizer and orthDenseRegularizer (deel-lip's LorthRegularizer / Lorth2D and
 * OrthDenseRegularizer) against float64 loops written from their definitions, deel-lip's own
 * test cases (deel-ai/deel-lip, tests/test_regularizers.py at commit 0d1cdae: the identity
 * kernel gives 0, the delta of its kernel shapes, the impossible configurations), and
 * serialization round trips.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {lorthRegularizer, orthDenseRegularizer} from '@deepspline/lipschitz';
import {roundTrip, saveToMemory} from '@deepspline/testing';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

function randomArray(n: number, seed: number, scale = 1): number[] {
  const r = rng(seed);
  return Array.from({length: n}, () => scale * (2 * r() - 1));
}

/** ||G - I||_F^2 with G the smaller Gram matrix of the row-major [rows, cols] matrix, in float64. */
function orthDistJs(w: number[], rows: number, cols: number): number {
  const n = Math.min(rows, cols);
  let total = 0;
  for (let i = 0; i < n; ++i) {
    for (let j = 0; j < n; ++j) {
      let g = 0;
      if (rows <= cols) for (let k = 0; k < cols; ++k) g += w[i * cols + k]! * w[j * cols + k]!;
      else for (let k = 0; k < rows; ++k) g += w[k * cols + i]! * w[k * cols + j]!;
      total += (g - (i === j ? 1 : 0)) ** 2;
    }
  }
  return total;
}

/**
 * Lorth in float64 from its definition: for filters i, j and shifts (y, x) of the zero-padded
 * filter i, out = sum_{u,v,c} pad(K[:,:,:,i])[y s + u, x s + v, c] K[u, v, c, j]; the penalty is
 * sum (out - [i == j at the centre shift])^2 - max(0, m - s^2 c).
 */
function lorthJs(w: number[], k: number, c: number, m: number, s: number): number {
  const p = Math.floor((k - 1) / s) * s;
  const size = k + 2 * p;
  const o = Math.floor((size - k) / s) + 1;
  const at = (u: number, v: number, ch: number, f: number) => w[((u * k + v) * c + ch) * m + f]!;
  const padded = (f: number, y: number, x: number, ch: number) =>
    (y < p || x < p || y >= p + k || x >= p + k ? 0 : at(y - p, x - p, ch, f));
  const centre = Math.floor(o / 2);
  let total = 0;
  for (let i = 0; i < m; ++i) {
    for (let y = 0; y < o; ++y) {
      for (let x = 0; x < o; ++x) {
        for (let j = 0; j < m; ++j) {
          let out = 0;
          for (let u = 0; u < k; ++u) for (let v = 0; v < k; ++v) for (let ch = 0; ch < c; ++ch) {
            out += padded(i, y * s + u, x * s + v, ch) * at(u, v, ch, j);
          }
          total += (out - (i === j && y === centre && x === centre ? 1 : 0)) ** 2;
        }
      }
    }
  }
  return total - Math.max(0, m - s * s * c);
}

function scalarOf(make: () => Tensor): number {
  const before = tf.memory().numTensors;
  const t = make();
  expect(tf.memory().numTensors).toBe(before + 1);
  expect(t.shape).toEqual([]);
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
}

describe('orthDenseRegularizer', () => {
  test.each([[3, 5], [6, 2], [4, 4]])('[%i, %i]: lambdaOrth * ||G - I||^2 on the smaller Gram matrix (float64)', (rows, cols) => {
    const data = randomArray(rows * cols, rows * 10 + cols);
    const w = tf.tensor2d(data, [rows, cols]);
    for (const lambdaOrth of [1, 0.25]) {
      const value = scalarOf(() => orthDenseRegularizer({lambdaOrth}).apply(w));
      expect(value).toBeCloseTo(lambdaOrth * orthDistJs(data, rows, cols), 4);
    }
    w.dispose();
  });

  test('zero for orthonormal columns, and its gradient drives a kernel there', () => {
    const q = tf.tensor2d([[0.6, 0], [0.8, 0], [0, 1]]);
    expect(scalarOf(() => orthDenseRegularizer().apply(q))).toBeCloseTo(0, 6);
    q.dispose();
    const v = tf.variable(tf.tensor2d(randomArray(8, 3, 0.5), [4, 2]));
    const reg = orthDenseRegularizer();
    const opt = tf.train.adam(0.05);
    const start = scalarOf(() => reg.apply(v));
    for (let i = 0; i < 200; ++i) opt.minimize(() => reg.apply(v));
    expect(scalarOf(() => reg.apply(v))).toBeLessThan(1e-3 * start);
    v.dispose();
    opt.dispose();
  });
});

describe('lorthRegularizer', () => {
  test.each([[3, 2, 3, 1], [3, 4, 2, 1], [3, 2, 5, 2], [5, 1, 2, 2]])(
    'kernel %i x %i, %i -> %i filters, stride: the float64 definition', (k, c, m, s) => {
      const data = randomArray(k * k * c * m, k + 7 * c + 13 * m + s, 0.5);
      const w = tf.tensor4d(data, [k, k, c, m]);
      const value = scalarOf(() => lorthRegularizer({stride: s, lambdaLorth: 0.5}).apply(w));
      const expected = 0.5 * lorthJs(data, k, c, m, s);
      expect(Math.abs(value - expected)).toBeLessThan(1e-5 * Math.max(1, Math.abs(expected)));
      w.dispose();
    });

  test('deel-lip\'s cases: the identity kernel gives 0; a zero kernel gives m - delta (delta 32 for [5,5,32,64], 0 for [5,5,8,70] at stride 3)', () => {
    const k = 5;
    const channels = 6;
    const identity = tf.buffer([k, k, channels, channels]);
    for (let i = 0; i < channels; ++i) identity.set(1, 2, 2, i, i);
    const id = identity.toTensor();
    expect(scalarOf(() => lorthRegularizer({kernelShape: [k, k, channels, channels]}).apply(id))).toBeCloseTo(0, 6);
    id.dispose();
    const z1 = tf.zeros([5, 5, 32, 64]);
    expect(scalarOf(() => lorthRegularizer().apply(z1))).toBeCloseTo(64 - 32, 4);
    const z2 = tf.zeros([5, 5, 8, 70]);
    expect(scalarOf(() => lorthRegularizer({stride: 3}).apply(z2))).toBeCloseTo(70, 4);
    tf.dispose([z1, z2]);
  });

  test.each([
    ['lorthRegularizer: no orthogonal convolution exists for kernel [3,3,32,289] at stride 4 (row-orthogonal case',
      () => lorthRegularizer({kernelShape: [3, 3, 32, 289], stride: 4})],
    ['lorthRegularizer: no orthogonal convolution exists for kernel [3,3,8,129] at stride 4 (column-orthogonal case',
      () => lorthRegularizer({kernelShape: [3, 3, 8, 129], stride: 4})],
    ['lorthRegularizer: expected an odd kernel size, got 4', () => lorthRegularizer({kernelShape: [4, 4, 32, 32]})],
    ['lorthRegularizer: only 2-D convolutions are supported (dim 2), got dim 1', () => lorthRegularizer({dim: 1})],
    ['lorthRegularizer: expected stride to be an integer >= 1, got 0', () => lorthRegularizer({stride: 0})],
    ['lorthRegularizer: expected a square 2-D convolution kernel shape [k, k, inChannels, outChannels], got [3,3,2]',
      () => lorthRegularizer({kernelShape: [3, 3, 2]})],
    ['orthDenseRegularizer: expected lambdaOrth >= 0, got -1', () => orthDenseRegularizer({lambdaOrth: -1})],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  test('a kernel of another shape than the one given, or not a 2-D kernel, is refused without leaking', () => {
    const w = tf.zeros([3, 3, 2, 4]);
    const d = tf.zeros([3, 4]);
    const before = tf.memory().numTensors;
    expect(() => lorthRegularizer({kernelShape: [3, 3, 2, 2]}).apply(w)).toThrow(
      'lorthRegularizer: the regularizer was made for kernel shape [3,3,2,2], got a kernel of shape [3,3,2,4]');
    expect(() => lorthRegularizer().apply(d)).toThrow('lorthRegularizer: expected a square 2-D convolution kernel shape');
    expect(() => orthDenseRegularizer().apply(w)).toThrow(
      'orthDenseRegularizer: expected a dense kernel of shape [in, out], got a tensor of shape [3,3,2,4]');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, d]);
  });
});

describe('orthogonality regularizers: in a model', () => {
  test('fit adds the penalties to the loss; save / load keeps them (snake_case configs)', async () => {
    const m = tfl.sequential({layers: [
      tfl.layers.conv2d({inputShape: [6, 6, 2], filters: 3, kernelSize: 3, padding: 'same',
        kernelRegularizer: lorthRegularizer({lambdaLorth: 0.5, stride: 1}) as never,
        kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      tfl.layers.flatten(),
      tfl.layers.dense({units: 2, kernelRegularizer: orthDenseRegularizer({lambdaOrth: 0.1}) as never,
        kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ]});
    m.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
    const x = tf.zeros([4, 6, 6, 2]);
    const y = tf.zeros([4, 2]);
    const history = await m.fit(x, y, {epochs: 1, verbose: 0});
    const [conv, , dense] = m.getWeights();  // kernel, bias, kernel, bias
    const penalty = 0.5 * lorthJs(Array.from(conv!.dataSync()), 3, 2, 3, 1) +
      0.1 * orthDistJs(Array.from(dense!.dataSync()), 108, 2);
    // zero inputs and targets: the data loss is 0, the loss is the penalties
    expect(history.history.loss![0]).toBeCloseTo(penalty, 3);
    const artifacts = JSON.stringify((await saveToMemory(m)).modelTopology);
    for (const key of ['"class_name":"LorthRegularizer"', '"lambda_lorth":0.5', '"conv_transpose":false',
      '"class_name":"OrthDenseRegularizer"', '"lambda_orth":0.1']) {
      expect(artifacts).toContain(key);
    }
    const loaded = await roundTrip(m);
    expect(loaded.layers.map((l) => l.getConfig().kernelRegularizer ?? null)).toEqual(
      m.layers.map((l) => l.getConfig().kernelRegularizer ?? null));
    tf.dispose([x, y]);
    m.dispose();
    loaded.dispose();
  });
});
