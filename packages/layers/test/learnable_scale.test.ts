/**
 * `learnableScale`: channel n computes `f_n(x) = sigma_n(s_n x) / s_n`. Every check compares
 * with the float64 formula of core's Semantics evaluated at the float32 scale, or with finite
 * differences of it.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {roundTrip} from '@deepspline/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SIZE = 9;
const RANGE = 1;
const STEP = 2 * RANGE / (SIZE - 1);

/** The spline of core's Semantics in float64: coefficients `c` on the grid `{SIZE, RANGE}`. */
function sigma(c: number[], x: number): number {
  const u = (x + RANGE) / STEP;
  const k = Math.min(Math.max(Math.floor(u), 0), SIZE - 2);
  return c[k]! + (u - k) * (c[k + 1]! - c[k]!);
}

/** `sigma(s x) / s` in float64. */
const f = (c: number[], s: number, x: number) => sigma(c, s * x) / s;

/** Deterministic rough coefficients `[C, SIZE]` in [-1, 1]. */
function coefficients(channels: number, seed: number): number[][] {
  let state = seed;
  const next = () => (state = (state * 16807) % 2147483647) / 2147483647 * 2 - 1;
  return Array.from({length: channels}, () => Array.from({length: SIZE}, () => Math.fround(next())));
}

/** A built layer (per channel or shared) with the given coefficients and scale weight. */
function layerWith(c: number[][], scale: number[], args: {shared?: boolean, maxSlope?: number} = {}): SplineActivation {
  const layer = splineActivation({size: SIZE, range: RANGE, learnableScale: true, ...args});
  layer.apply(tfl.input({shape: [args.shared ? 3 : c.length]}));  // builds it (and lets dispose free it)
  const w = [tf.tensor2d(c), tf.tensor1d(scale)];
  layer.setWeights(w);
  tf.dispose(w);
  return layer;
}

/** Values of a tensor that the caller hands over (disposed here). */
function take(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

const relClose = (got: number, want: number, tol: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(want)));

describe('SplineActivation learnableScale: the function', () => {
  it('computes sigma(s x) / s per channel for rank-3 inputs, inside, at the moved knots and far outside', () => {
    const c = coefficients(3, 7);
    const scales = [0.3, 1, 3];
    const layer = layerWith(c, scales);
    const xs: number[] = [];
    for (let i = 0; i < 40; ++i) xs.push(Math.fround(Math.sin(i * 12.9898) * 6));
    for (const s of scales) for (let k = 0; k < SIZE; ++k) xs.push(Math.fround((-RANGE + k * STEP) / s));
    xs.push(1e4, -1e4, 3e6);
    const n = Math.floor(xs.length / 3) * 3;
    const input = tf.tensor3d(xs.slice(0, n), [n / 3, 1, 3]);
    const before = tf.memory().numTensors;
    const y = take(layer.apply(input) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
    for (let i = 0; i < n; ++i) {
      const ch = i % 3;
      relClose(y[i]!, f(c[ch]!, Math.fround(scales[ch]!), xs[i]!), 2e-6);
    }
    input.dispose();
    layer.dispose();
  });

  it('a shared scale on rank-4 inputs, and maxSlope clips the coefficients of sigma', () => {
    const c = coefficients(1, 3).map((row) => row.map((v) => 4 * v));
    const layer = layerWith(c, [2.5], {shared: true, maxSlope: 1});
    expect(layer.getWeights()[1]!.shape).toEqual([1]);
    const eff = layer.effectiveCoefficients();
    const ce = (eff.arraySync() as number[][])[0]!;
    eff.dispose();
    // slope-clipped: every segment's slope is within 1 (and the raw ones were not)
    for (let k = 0; k + 1 < SIZE; ++k) expect(Math.abs(ce[k + 1]! - ce[k]!) / STEP).toBeLessThanOrEqual(1 + 1e-6);
    const input = tf.randomUniform([2, 3, 3, 4], -3, 3, 'float32', 5);
    const x = Array.from(input.dataSync());
    const y = take(layer.apply(input) as tf.Tensor);
    x.forEach((v, i) => relClose(y[i]!, f(ce, 2.5, v), 2e-6));
    input.dispose();
    layer.dispose();
  });

  it('the effective scale is max(scale, MIN_SCALE): zero and negative scales stay defined', () => {
    const c = coefficients(2, 11);
    const layer = layerWith(c, [0, -2]);
    expect(take(layer.effectiveScale())).toEqual([Math.fround(SplineActivation.MIN_SCALE),
      Math.fround(SplineActivation.MIN_SCALE)]);
    const input = tf.tensor2d([[5, -5], [2000, -700]]);
    const y = take(layer.apply(input) as tf.Tensor);
    const s = Math.fround(SplineActivation.MIN_SCALE);
    [[5, -5], [2000, -700]].flat().forEach((v, i) => relClose(y[i]!, f(c[i % 2]!, s, v), 1e-5));
    input.dispose();
    layer.dispose();
  });

  it('gradients: dx = sigma\'(s x) and dscale match finite differences of the float64 formula', () => {
    const c = coefficients(2, 5);
    const scales = [0.7, 2];
    const layer = layerWith(c, scales);
    const xs = [[0.13, -0.41], [1.7, 0.05], [-3.2, 0.61], [0.9, -0.3]];
    const weights = [[1, -2], [0.5, 1.5], [-1, 0.25], [2, 1]];
    const input = tf.tensor2d(xs);
    const w = tf.tensor2d(weights);
    const before = tf.memory().numTensors;
    const {grads, value} = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, w)) as tf.Scalar);
    const dx = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, w)))(input);
    const scaleVar = layer.weights[1]!.read() as tf.Variable;
    const dscale = take(grads[scaleVar.name]!);
    const dxv = take(dx);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const h = 1e-6;
    for (let ch = 0; ch < 2; ++ch) {
      const loss = (s: number) => xs.reduce((sum, row, i) => sum + weights[i]![ch]! * f(c[ch]!, s, row[ch]!), 0);
      const s = Math.fround(scales[ch]!);
      relClose(dscale[ch]!, (loss(s + h) - loss(s - h)) / (2 * h), 1e-4);
      xs.forEach((row, i) => relClose(dxv[i * 2 + ch]!,
        weights[i]![ch]! * (f(c[ch]!, s, row[ch]! + h) - f(c[ch]!, s, row[ch]! - h)) / (2 * h), 1e-4));
    }
    tf.dispose([input, w]);
    layer.dispose();
  });
});

describe('SplineActivation learnableScale: derived quantities', () => {
  const c = coefficients(3, 13);
  const scales = [0.3, 1, 3];
  const f32 = scales.map(Math.fround);

  it('Lipschitz constant, ReLU slopes, TV(2) and active knots are those of f (finite differences at t_k / s)', () => {
    const layer = layerWith(c, scales);
    const lip = take(layer.lipschitz());
    const a = take(layer.reluSlopes());
    const tv = take(layer.tv2());
    const active = take(layer.activeKnots(0.5));
    for (let ch = 0; ch < 3; ++ch) {
      const s = f32[ch]!;
      const slope = (x: number) => (f(c[ch]!, s, x + 1e-7) - f(c[ch]!, s, x - 1e-7)) / 2e-7;
      // f's slope changes sit at t_k / s: the slope right of the knot minus the slope left of it
      const knotSlopes = Array.from({length: SIZE - 2}, (_, j) => {
        const t = (-RANGE + (j + 1) * STEP) / s;
        const d = STEP / s / 4;
        return slope(t + d) - slope(t - d);
      });
      // dense sampling of the slope over the widened grid (the end segments extend to infinity)
      let maxSlope = 0;
      for (let i = 0; i <= 4000; ++i) maxSlope = Math.max(maxSlope, Math.abs(slope((-2 + i / 1000) * RANGE / s)));
      relClose(lip[ch]!, maxSlope, 1e-5);
      knotSlopes.forEach((want, j) => relClose(a[ch * (SIZE - 2) + j]!, want, 1e-5));
      relClose(tv[ch]!, knotSlopes.reduce((sum, v) => sum + Math.abs(v), 0), 1e-5);
      expect(active[ch]).toBe(knotSlopes.filter((v) => Math.abs(v) > 0.5).length);
    }
    layer.dispose();
  });

  it('channelKnots are t_k / s, knots the grid\'s; BV(2) is TV(2) + |f(0)| + |f(1)|; curves sample f', () => {
    const layer = layerWith(c, scales);
    const before = tf.memory().numTensors;
    const knots = take(layer.knots());
    const perChannel = take(layer.channelKnots());
    const tv = take(layer.tv2());
    const bv = take(layer.bv2());
    const {x, y} = layer.curves(50, 1);
    const xv = take(x);
    const yv = take(y);
    expect(tf.memory().numTensors).toBe(before);
    for (let k = 0; k < SIZE; ++k) relClose(knots[k]!, -RANGE + k * STEP, 1e-7);
    for (let ch = 0; ch < 3; ++ch) {
      const s = f32[ch]!;
      for (let k = 0; k < SIZE; ++k) relClose(perChannel[ch * SIZE + k]!, (-RANGE + k * STEP) / s, 1e-6);
      relClose(bv[ch]!, tv[ch]! + Math.abs(f(c[ch]!, s, 0)) + Math.abs(f(c[ch]!, s, 1)), 1e-5);
      xv.forEach((v, i) => relClose(yv[ch * 50 + i]!, f(c[ch]!, s, v), 1e-5));
    }
    // the sampled interval spans every channel's grid widened by one spacing
    relClose(xv[0]!, (-RANGE - STEP) / f32[0]!, 1e-6);
    relClose(xv[49]!, (RANGE + STEP) / f32[0]!, 1e-6);
    layer.dispose();
  });

  it('without learnableScale: one weight, no config key, ones as the scale', () => {
    const layer = splineActivation({size: SIZE, range: RANGE});
    layer.apply(tfl.input({shape: [4]}));
    expect(layer.weights.length).toBe(1);
    expect(layer.learnableScale).toBe(false);
    expect('learnableScale' in layer.getConfig()).toBe(false);
    expect(take(layer.effectiveScale())).toEqual([1, 1, 1, 1]);
    layer.dispose();
  });
});

describe('SplineActivation learnableScale: weights, config, saving', () => {
  it('the scale weight follows the coefficients: [C] ones, trainable; config says learnableScale: true', () => {
    const layer = splineActivation({size: SIZE, range: RANGE, learnableScale: true});
    layer.apply(tfl.input({shape: [4]}));
    expect(layer.weights.map((w) => w.shape)).toEqual([[4, SIZE], [4]]);
    expect(layer.trainableWeights.length).toBe(2);
    expect(take(tf.clone(layer.getWeights()[1]!))).toEqual([1, 1, 1, 1]);
    expect(layer.getConfig().learnableScale).toBe(true);
    layer.dispose();
  });

  it('save/load and fromConfig: the scale values come back exactly, so do the predictions', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 3, inputShape: [2]}),
      splineActivation({size: SIZE, range: RANGE, learnableScale: true, name: 'scaled'}),
    ]});
    const spline = model.getLayer('scaled');
    const scale = tf.tensor1d([0.3, 1.7, 3]);
    spline.setWeights([spline.getWeights()[0]!, scale]);
    scale.dispose();
    const loaded = await roundTrip(model);
    expect(take(tf.clone(loaded.getLayer('scaled').getWeights()[1]!)))
      .toEqual([0.3, 1.7, 3].map(Math.fround));
    const x = tf.randomUniform([16, 2], -3, 3, 'float32', 2);
    expect(take(loaded.predict(x) as tf.Tensor)).toEqual(take(model.predict(x) as tf.Tensor));
    const clone = SplineActivation.fromConfig(SplineActivation, spline.getConfig()) as SplineActivation;
    expect(clone.learnableScale).toBe(true);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  it('trains: fit moves the scale', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 4, inputShape: [2]}),
      splineActivation({size: SIZE, range: RANGE, learnableScale: true, name: 'scaled'}),
      tfl.layers.dense({units: 1}),
    ]});
    model.compile({optimizer: tf.train.adam(1e-2), loss: 'meanSquaredError'});
    const x = tf.randomUniform([64, 2], -2, 2, 'float32', 1);
    const y = tf.sin(tf.sum(tf.square(x), 1, true));
    await model.fit(x, y, {epochs: 5, batchSize: 16, verbose: 0});
    const scale = Array.from(model.getLayer('scaled').getWeights()[1]!.dataSync());
    expect(scale.some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('a non-boolean learnableScale is a clear error', () => {
    expect(() => splineActivation({learnableScale: 1 as unknown as boolean})).toThrow(
      'splineActivation: expected learnableScale to be a boolean, got 1');
    expect(() => splineActivation({learnableScale: 'true' as unknown as boolean})).toThrow(
      /expected learnableScale to be a boolean, got 'true'|expected learnableScale to be a boolean, got "true"/);
  });
});
