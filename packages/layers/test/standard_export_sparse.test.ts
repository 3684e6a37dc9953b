/**
 * exportToStandardLayers of sparse spline models: one unit per kept knot, so the exported
 * model's parameter count follows the knot count. Every expectation is computed here in float64
 * from the float32 coefficients (the ReLU slopes a_k and the layer sizes of the standard form),
 * never from the exporter.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation, exportToStandardLayers, splineActivation} from '../src/index.js';
import {predictionRelError} from '@deepspline/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every SplineActivation of `model`, nested models included. */
function splines(model: tfl.LayersModel): SplineActivation[] {
  return model.layers.flatMap((l) => (l instanceof tfl.LayersModel ? splines(l) : l instanceof SplineActivation ? [l] : []));
}

/** The float32 coefficients of a spline layer as float64 numbers, [C][K]. */
const coefficientsOf = (s: SplineActivation) => s.getWeights()[0]!.arraySync() as number[][];

/** a_k = (c[k-1] - 2 c[k] + c[k+1]) / T in float64, k = 1 .. K-2, per channel. */
function reluSlopes64(c: number[][], step: number): number[][] {
  return c.map((row) => row.slice(1, -1).map((ck, i) => (row[i]! - 2 * ck + row[i + 2]!) / step));
}

/**
 * How many knots the export keeps: those with |a_k| > threshold in some channel; when none is
 * kept but a channel's end slopes differ, the one knot that keeps the extrapolation exact.
 */
function keptKnots(s: SplineActivation, threshold: number): number {
  const c = coefficientsOf(s);
  const a = reluSlopes64(c, s.grid.step);
  const kept = a[0]!.filter((_, k) => a.some((row) => Math.abs(row[k]!) > threshold)).length;
  const K = c[0]!.length;
  const bent = c.some((row) => row[1]! - row[0]! !== row[K - 1]! - row[K - 2]!);
  return kept === 0 && bent ? 1 : kept;
}

/**
 * Parameters of the standard form of one spline layer with `n` kept knots and `C` channels:
 * hats: `U = n + 2` units (two Dense of U kernels and U biases each), `U = 2` ramps (one Dense)
 * for n = 1; ramps: `U = n + 1` units (one Dense); then a depthwise [1, U] kernel with C biases
 * (shared: Dense(1)). No knot: a per-channel affine map (2C, shared: 2).
 */
function splineParams(n: number, channels: number, shared: boolean, form: 'hats' | 'ramps'): number {
  if (n === 0) return shared ? 2 : 2 * channels;
  const units = form === 'ramps' ? n + 1 : n === 1 ? 2 : n + 2;
  const dense = (form === 'hats' && n >= 2 ? 4 : 2) * units;
  return dense + (shared ? units + 1 : units * channels + channels);
}

/** The exported model's expected parameter count: the original's other layers, plus each spline's form. */
function expectedParams(model: tfl.LayersModel, form: 'hats' | 'ramps', threshold: number): number {
  const all = splines(model);
  const others = model.countParams() - all.reduce((n, s) => n + s.countParams(), 0);
  return others + all.reduce((n, s) => {
    const channels = s.shared ? 1 : coefficientsOf(s).length;
    return n + splineParams(keptKnots(s, threshold), channels, s.shared, form);
  }, 0);
}

/** Inside the grid, on its knots (for splines on [-1, 1] with 21 knots) and up to 1e4 away. */
function inputs(shape: number[], seed: number): tf.Tensor[] {
  return [tf.randomUniform(shape, -1.5, 1.5, 'float32', seed),
    tf.tidy(() => tf.sub(tf.div(tf.cast(tf.randomUniform(shape, 0, 21, 'int32', seed + 1), 'float32'), 10), 1)),
    tf.randomUniform(shape, -1e4, 1e4, 'float32', seed + 2), tf.fill(shape, 1e4), tf.fill(shape, -1e4)];
}

/** The README's tolerance for the hat form (max relative error 2.1e-6 measured; 1e-5 asked). */
const TOLERANCE = 1e-5;

function expectSamePredictions(original: tfl.LayersModel, exported: tfl.LayersModel, shape: number[], seed: number,
    tolerance = TOLERANCE): void {
  for (const x of inputs(shape, seed)) {
    expect(predictionRelError(original, exported, x)).toBeLessThanOrEqual(tolerance);
    x.dispose();
  }
}

/** Rough coefficients uniform in [-1, 1] (|a_k| up to 40 on [-1, 1] with 21 knots), then sparsified. */
function roughThenSparse(model: tfl.LayersModel, seed: number, threshold: number): void {
  splines(model).forEach((s, i) => {
    const c = tf.randomUniform(s.getWeights()[0]!.shape, -1, 1, 'float32', seed + i);
    s.setWeights([c]);
    c.dispose();
    s.sparsify(threshold);
  });
}

/** A spline whose float32 coefficients are integers: every a_k is exact, zero exactly where meant. */
function integerSpline(size: number, intercept: number, slope: number, bends: Array<[number, number]>): number[] {
  return Array.from({length: size}, (_, k) => intercept + slope * k +
    bends.reduce((sum, [at, change]) => sum + change * Math.max(k - at, 0), 0));
}

const dense = () => tfl.sequential({layers: [
  tfl.layers.dense({units: 6, inputShape: [3]}),
  splineActivation({size: 21, range: 1}),
  tfl.layers.dense({units: 4}),
  splineActivation({size: 21, range: 1, shared: true}),
  tfl.layers.dense({units: 2}),
]});

describe('exportToStandardLayers of sparse splines', () => {
  it('keeps one unit per knot left by sparsify: parameters fall with the knots, predictions stay exact', () => {
    const before = tf.memory().numTensors;
    for (const form of ['hats', 'ramps'] as const) {
      const params: number[] = [];
      for (const threshold of [0, 10, 20, 30, 60]) {
        const m = dense();
        roughThenSparse(m, 1, threshold);
        // Default: exact zeros only, so sparsify's float32 residues stay knots.
        const exact = exportToStandardLayers(m, {splineForm: form});
        expect(exact.countParams()).toBe(expectedParams(m, form, 0));
        expectSamePredictions(m, exact, [64, 3], 2, form === 'ramps' ? 1e-4 : TOLERANCE);
        // knotThreshold = the sparsify threshold: the knots sparsify kept, no more.
        const e = exportToStandardLayers(m, {splineForm: form, knotThreshold: threshold});
        expect(e.countParams()).toBe(expectedParams(m, form, threshold));
        expectSamePredictions(m, e, [64, 3], 3, form === 'ramps' ? 1e-4 : TOLERANCE);
        params.push(e.countParams());
        [m, exact, e].forEach((l) => l.dispose());
      }
      for (let i = 1; i < params.length; ++i) expect(params[i]).toBeLessThan(params[i - 1]!);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a model with no active knot exports as linear maps only', () => {
    const m = dense();
    const [perChannel, shared] = splines(m);
    const c = tf.tensor([0, 1, 2, 3, 4, 5].map((i) => integerSpline(21, i - 2, 3 - i, [])));
    perChannel!.setWeights([c]);
    const one = tf.tensor([integerSpline(21, -4, 2, [])]);
    shared!.setWeights([one]);
    tf.dispose([c, one]);
    const e = exportToStandardLayers(m);
    const classes = new Set(e.layers.map((l) => l.getClassName()));
    expect([...classes].sort()).toEqual(['Dense', 'DepthwiseConv2D', 'InputLayer', 'Reshape']);
    expect(e.countParams()).toBe(expectedParams(m, 'hats', 0));
    expect(e.countParams()).toBe(m.countParams() - 6 * 21 - 21 + 2 * 6 + 2);
    expectSamePredictions(m, e, [64, 3], 10);
    [m, e].forEach((l) => l.dispose());
  });

  it('channels with different knot sets share the union of their knots', () => {
    const m = tfl.sequential({layers: [splineActivation({inputShape: [4], size: 21, range: 1})]});
    const rows = [integerSpline(21, 1, 1, [[3, -2], [7, 5]]), integerSpline(21, -2, 0, [[12, 3]]),
      integerSpline(21, 0, 2, []), integerSpline(21, 4, -1, [[3, 1], [17, -4]])];
    const c = tf.tensor(rows);
    m.layers[0]!.setWeights([c]);
    c.dispose();
    expect(keptKnots(splines(m)[0]!, 0)).toBe(4);  // knots 3, 7, 12, 17
    for (const form of ['hats', 'ramps'] as const) {
      const e = exportToStandardLayers(m, {splineForm: form});
      expect(e.countParams()).toBe(form === 'hats' ? 4 * 6 + 6 * 4 + 4 : 2 * 5 + 5 * 4 + 4);
      expectSamePredictions(m, e, [64, 4], 20);
      e.dispose();
    }
    m.dispose();
  });

  it('nested models: the knots of every inner spline decide its units', () => {
    const inner = tfl.sequential({name: 'inner', layers: [tfl.layers.dense({units: 5, inputShape: [3]}),
      splineActivation({size: 21, range: 1})]});
    const input = tfl.input({shape: [3]});
    const h = inner.apply(input) as tfl.SymbolicTensor;
    const s = splineActivation({size: 21, range: 1, name: 'outer_spline'}).apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({units: 2}).apply(s) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: out});
    roughThenSparse(m, 30, 25);
    expect(splines(m)).toHaveLength(2);
    const e = exportToStandardLayers(m, {knotThreshold: 25});
    expect(e.countParams()).toBe(expectedParams(m, 'hats', 25));
    const exact = exportToStandardLayers(m);
    expect(e.countParams()).toBeLessThan(exact.countParams());
    expectSamePredictions(m, e, [64, 3], 31);
    [m, e, exact].forEach((l) => l.dispose());
  });

  it('a knotThreshold that drops real knots moves the function by a bounded amount, even far outside the grid', () => {
    const m = tfl.sequential({layers: [splineActivation({inputShape: [4], size: 21, range: 1})]});
    roughThenSparse(m, 40, 0);
    const c = coefficientsOf(splines(m)[0]!);
    const threshold = 15;
    // Each dropped knot moves the spline by at most |a_k| times the grid's width (2), anywhere.
    const bound = Math.max(...reluSlopes64(c, 0.1).map((a) => a.reduce((sum, ak) =>
      sum + (Math.abs(ak) <= threshold ? Math.abs(ak) * 2 : 0), 0)));
    expect(bound).toBeGreaterThan(1);  // knots are really dropped
    const e = exportToStandardLayers(m, {knotThreshold: threshold});
    expect(e.countParams()).toBe(expectedParams(m, 'hats', threshold));
    for (const x of inputs([64, 4], 41)) {
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(m.predict(x) as tf.Tensor, e.predict(x) as tf.Tensor))).dataSync()[0]!);
      // float32 rounding of outputs up to |c| + 20 * 1e4 on top of the bound
      expect(err).toBeLessThanOrEqual(bound + 0.05);
      x.dispose();
    }
    [m, e].forEach((l) => l.dispose());
  });

  it('every knot below the threshold but the end slopes differ: one knot kept, the extrapolation stays exact', () => {
    const m = tfl.sequential({layers: [splineActivation({inputShape: [3], size: 21, range: 1})]});
    roughThenSparse(m, 50, 1e9);  // a line up to float32 residues
    const e = exportToStandardLayers(m, {knotThreshold: 1e9});
    expect(keptKnots(splines(m)[0]!, 1e9)).toBe(1);
    expect(e.countParams()).toBe(expectedParams(m, 'hats', 1e9));
    expectSamePredictions(m, e, [64, 3], 51);
    [m, e].forEach((l) => l.dispose());
  });

  it('rejects a knotThreshold that is not a finite number >= 0', () => {
    const m = dense();
    for (const bad of [-1, NaN, Infinity, '0']) {
      expect(() => exportToStandardLayers(m, {knotThreshold: bad as number})).toThrow(
        /exportToStandardLayers: expected knotThreshold/);
    }
    m.dispose();
  });
});
