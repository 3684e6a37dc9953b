/**
 * Norm-2 bounds of convolutions too large to form as a matrix (the Fourier bound of
 * conv_fourier.ts, with `explicitLimit: 0` so that it runs on sizes whose exact matrix the
 * test can still form): never below ml-matrix's SVD of the explicit map (pushed basis vectors
 * through the layer), for random, clustered and orthogonal kernels, every padding, stride,
 * dilation and layer type; deterministic (async equals sync); no tensor left behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {lipschitzBound, lipschitzBoundAsync, spectralConv2d, tensorOpNorm} from '@deepspline/lipschitz';
import {explicitMatrix, orthogonalFactor, rng, rowColSums, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

const FREE = {explicitLimit: 0};

interface Case { name: string, make: () => tfl.layers.Layer, inShape: number[], kernel?: 'orthogonal' | 'clustered' }

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

/** Random layer configurations of every supported convolution type. */
function cases(count: number, seed: number): Case[] {
  const r = rng(seed);
  const out: Case[] = [];
  const pads = ['valid', 'same'] as const;
  for (let i = 0; i < count; ++i) {
    const kind = i % 6;
    const padding = pads[int(r, 0, 1)]!;
    const stride = int(r, 1, 2);
    const k = int(r, 1, 3);
    const h = int(r, 3, 7);
    const w = int(r, 3, 7);
    const cin = int(r, 1, 3);
    const filters = int(r, 1, 3);
    const name = `#${i} k${k} s${stride} ${padding} [${h}, ${w}, ${cin}]`;
    if (kind === 0) {
      out.push({name: `conv2d ${name} -> ${filters}`, inShape: [h, w, cin],
        make: () => tfl.layers.conv2d({filters, kernelSize: [k, int(r, 1, 3)], strides: [stride, int(r, 1, 2)], padding, useBias: false})});
    } else if (kind === 1) {
      out.push({name: `conv2d dilated ${name} -> ${filters}`, inShape: [h + 2, w + 2, cin],
        make: () => tfl.layers.conv2d({filters, kernelSize: Math.max(2, k), dilationRate: 2, padding, useBias: false})});
    } else if (kind === 2) {
      const depthMultiplier = int(r, 1, 2);
      out.push({name: `depthwise x${depthMultiplier} ${name}`, inShape: [h, w, cin],
        make: () => tfl.layers.depthwiseConv2d({kernelSize: k, depthMultiplier, strides: stride, padding, useBias: false})});
    } else if (kind === 3) {
      out.push({name: `separable ${name} -> ${filters}`, inShape: [h, w, cin],
        make: () => tfl.layers.separableConv2d({filters, kernelSize: k, depthMultiplier: int(r, 1, 2), strides: stride, padding, useBias: false})});
    } else if (kind === 4) {
      // (no 'causal': tfjs-layers 4.22's conv1d cannot evaluate it, so there is no explicit map)
      out.push({name: `conv1d ${name} -> ${filters}`, inShape: [h * w, cin],
        make: () => tfl.layers.conv1d({filters, kernelSize: k + 1, strides: stride, dilationRate: stride === 1 ? int(r, 1, 2) : 1, padding, useBias: false})});
    } else {
      // clustered spectra: the centre tap an orthogonal matrix (the operator is then an
      // isometry on the inner positions), the other taps small or zero
      out.push({name: `conv2d orthogonal ${name}`, inShape: [h, w, cin + 1], kernel: i % 12 === 5 ? 'orthogonal' : 'clustered',
        make: () => tfl.layers.conv2d({filters: cin + 1, kernelSize: 3, strides: stride, padding, useBias: false})});
    }
  }
  return out;
}

function setKernels(layer: tfl.layers.Layer, r: () => number, kind: Case['kernel']): void {
  const ws = layer.getWeights();
  const next = ws.map((w) => {
    if (kind == null) return tf.tensor(Array.from({length: w.size}, () => 2 * r() - 1), w.shape);
    const [kh, kw, c] = w.shape as number[];
    const q = orthogonalFactor(Float64Array.from({length: c! * c!}, () => 2 * r() - 1), c!);
    const values = new Float32Array(w.size);
    const centre = (Math.floor(kh! / 2) * kw! + Math.floor(kw! / 2)) * c! * c!;
    for (let t = 0; t < kh! * kw! * c! * c!; ++t) values[t] = kind === 'clustered' ? 1e-3 * (2 * r() - 1) : 0;
    for (let e = 0; e < c! * c!; ++e) values[centre + e] += q[e]!;
    return tf.tensor(values, w.shape);
  });
  layer.setWeights(next);
  tf.dispose(next);
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

describe('matrix-free norm 2 of convolutions: a proven bound', () => {
  test('>= the SVD of the explicit map over 120 random layers, and its tightness', () => {
    const r = rng(26);
    const below: string[] = [];
    const ratios: number[] = [];
    const byType = new Map<string, number[]>();
    for (const c of cases(120, 4)) {
      const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: c.inShape}), c.make()]});
      setKernels(model.layers[0]!, r, c.kernel);
      const {m, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, c.inShape);
      const truth = spectralNormSvd(m, rows, cols);
      const {one, inf} = rowColSums(m, rows, cols);
      const before = tf.memory().numTensors;
      const free = lipschitzBound(model, {norm: 2, powerIteration: FREE}).bound;
      expect(tf.memory().numTensors).toBe(before);
      // tfjs evaluates a separable layer as two float32 convolutions, so its explicit map is
      // rounded once more than the layer's exact operator (by ~6e-8 relative)
      const slack = c.name.startsWith('separable') ? 1 - 1e-6 : 1;
      if (!(free >= truth * slack)) below.push(`${c.name}: ${free} < ${truth}`);
      // never worse than the Schur bound of the exact sums (rounded up)
      expect(free).toBeLessThanOrEqual(Math.sqrt(one * inf) * (1 + 1e-5) + 1e-12);
      if (truth > 0) {
        ratios.push(free / truth);
        const type = c.name.split(' ')[0]! + (c.kernel != null ? ' orthogonal' : '');
        byType.set(type, [...(byType.get(type) ?? []), free / truth]);
      }
      model.dispose();
    }
    console.log(`bound / exact norm over ${ratios.length} layers: median ${quantile(ratios, 0.5).toFixed(4)}, ` +
      `90 % ${quantile(ratios, 0.9).toFixed(4)}, max ${quantile(ratios, 1).toFixed(4)}; ` +
      [...byType].map(([t, xs]) => `${t} median ${quantile(xs, 0.5).toFixed(4)} max ${quantile(xs, 1).toFixed(4)}`).join('; '));
    expect(below).toEqual([]);
  });

  test('an orthogonal 1x1 convolution: its kernel norm, to the proof\'s slack', () => {
    const r = rng(5);
    for (const c of [3, 8, 16]) {
      const layer = tfl.layers.conv2d({filters: c, kernelSize: 1, useBias: false});
      const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [20, 20, c]}), layer]});
      const q = orthogonalFactor(Float64Array.from({length: c * c}, () => 2 * r() - 1), c);
      const k = tf.tensor4d(Float32Array.from(q), [1, 1, c, c]);
      layer.setWeights([k]);
      const truth = spectralNormSvd(k.dataSync(), c, c);  // the operator is I (x) W
      k.dispose();
      const b = lipschitzBound(model, {norm: 2, powerIteration: FREE}).bound;
      expect(b).toBeGreaterThanOrEqual(truth);
      expect(b / truth - 1).toBeLessThan(1e-7);
      model.dispose();
    }
  });

  test('a spectral (Björck) convolution on a large input: >= its explicit map, within a few %', () => {
    const layer = spectralConv2d({filters: 4, kernelSize: 3, padding: 'same', useBias: false});
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [9, 9, 3]}), layer]});
    const {m, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, [9, 9, 3]);
    const truth = spectralNormSvd(m, rows, cols);
    const b = lipschitzBound(model, {norm: 2, powerIteration: FREE}).bound;
    expect(b).toBeGreaterThanOrEqual(truth);
    expect(b / truth).toBeLessThan(1.1);
    model.dispose();
  });

  // every proof starts its Lanczos from a fresh random vector: equal to the proof's slack
  test('async equals sync, without a leak', async () => {
    const r = rng(8);
    for (const c of cases(12, 9)) {
      const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: c.inShape}), c.make()]});
      setKernels(model.layers[0]!, r, c.kernel);
      const before = tf.memory().numTensors;
      const sync = lipschitzBound(model, {norm: 2, powerIteration: FREE}).bound;
      const async = (await lipschitzBoundAsync(model, {norm: 2, powerIteration: FREE})).bound;
      expect(Math.abs(async / sync - 1)).toBeLessThan(1e-7);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    }
  });

  test('NaN kernels: the clear error of a non-finite factor', () => {
    const layer = tfl.layers.conv2d({filters: 2, kernelSize: 3, useBias: false});
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [6, 6, 2]}), layer]});
    const k = tf.fill([3, 3, 2, 2], NaN);
    layer.setWeights([k]);
    k.dispose();
    expect(() => lipschitzBound(model, {norm: 2, powerIteration: FREE})).toThrow(/factor NaN/);
    model.dispose();
  });
});

describe('tensorOpNorm of a generic operator above explicitLimit', () => {
  test('sqrt(||A||_1 ||A||_Inf): >= the SVD of the explicit map', () => {
    const w = tf.tensor2d(Float32Array.from({length: 30}, (_, i) => Math.sin(i + 1)), [5, 6]);
    const apply = (x: Tensor) => tf.matMul(x as tf.Tensor2D, w);
    const op = {inShape: [5], apply, applyAbs: (x: Tensor) => tf.matMul(x as tf.Tensor2D, tf.abs(w))};
    const {m, rows, cols} = explicitMatrix(apply, [5]);
    const truth = spectralNormSvd(m, rows, cols);
    const {one, inf} = rowColSums(m, rows, cols);
    const before = tf.memory().numTensors;
    const b = tensorOpNorm(op, 2, {explicitLimit: 0});
    expect(tf.memory().numTensors).toBe(before);
    expect(b).toBeGreaterThanOrEqual(truth);
    expect(b).toBeGreaterThanOrEqual(Math.sqrt(one * inf));
    expect(b / Math.sqrt(one * inf) - 1).toBeLessThan(1e-5);
    w.dispose();
  });
});
