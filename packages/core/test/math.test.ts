/**
 * The spline math of spline-math.md ("Derived quantities") against independent float64
 * computations written from the formulas.
 */
import * as tf from '@tensorflow/tfjs-core';
import {activeKnots, bv2, clipSlopes, coefficientsFromFunction, reluSlopes, sparsifyCoefficients,
  splineCurves, splineGrid, splineKnots, splineLipschitz, tv2} from '@deepspline/core';
import {refValue, worst} from './reference';
import {randomArray, rng, useCpu} from './helpers';

beforeAll(useCpu);

const C = 4;
const K = 9;
const grid = {start: -2, step: 0.5};
const next = rng(11);
const c = randomArray(C * K, -1, 1, next);
// make some second differences exactly zero (inactive knots) in channel 0
for (let k = 0; k < 5; ++k) c[k] = Math.fround(0.25 * k - 0.5);

function slopes64(ch: number): number[] {
  const a: number[] = [];
  for (let k = 1; k < K - 1; ++k) {
    a.push((c[ch * K + k - 1] - 2 * c[ch * K + k] + c[ch * K + k + 1]) / grid.step);
  }
  return a;
}

function get<T extends tf.Tensor>(t: T): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

const ct = tf.tensor2d(c, [C, K]);
afterAll(() => ct.dispose());

test('grid: T = 2r/(K-1), the reference T = r/floor(K/2) for odd K, knots -r + kT', () => {
  const g = splineGrid({size: 21, range: 1});
  expect(g.step).toBeCloseTo(1 / 10, 15);
  expect(g.start).toBe(-1);
  expect(splineGrid({size: 6, grid: 0.2}).range).toBeCloseTo(0.5, 15);
  expect(get(splineKnots(5, {start: -1, step: 0.5}))).toEqual([-1, -0.5, 0, 0.5, 1]);
});

test('ReLU slopes and the representation sigma(x) = b0 + b1 x + sum a_k ReLU(x - t_k)', () => {
  const a = get(reluSlopes(ct, grid.step));
  const want = [0, 1, 2, 3].flatMap(slopes64);
  expect(worst(a, want, 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);
  for (let ch = 0; ch < C; ++ch) {
    const t0 = grid.start;
    const b1 = (c[ch * K + 1] - c[ch * K]) / grid.step;
    const b0 = c[ch * K] - b1 * t0;
    for (const x of [-1.9, -0.3, 0.77, 1.99]) {
      let s = b0 + b1 * x;
      slopes64(ch).forEach((ak, j) => { s += ak * Math.max(0, x - (t0 + (j + 1) * grid.step)); });
      expect(s).toBeCloseTo(refValue({c, C, K, ...grid}, x, ch), 5);
    }
  }
});

test('TV(2), BV(2), Lipschitz and active knots', () => {
  const tv = get(tv2(ct, grid.step));
  const bv = get(bv2(ct, grid));
  const lip = get(splineLipschitz(ct, grid.step));
  for (let ch = 0; ch < C; ++ch) {
    const a = slopes64(ch);
    const tvWant = a.reduce((s, v) => s + Math.abs(v), 0);
    expect(tv[ch]).toBeCloseTo(tvWant, 4);
    const spl = {c, C, K, ...grid};
    expect(bv[ch]).toBeCloseTo(tvWant + Math.abs(refValue(spl, 0, ch)) + Math.abs(refValue(spl, 1, ch)), 4);
    let m = 0;
    for (let k = 0; k < K - 1; ++k) m = Math.max(m, Math.abs(c[ch * K + k + 1] - c[ch * K + k]) / grid.step);
    expect(lip[ch]).toBeCloseTo(m, 5);
  }
  const act = tf.tidy(() => activeKnots(ct, grid.step, 0.5));
  expect(act.dtype).toBe('int32');
  expect(get(act)).toEqual([0, 1, 2, 3].map((ch) => slopes64(ch).filter((v) => Math.abs(v) > 0.5).length));
  expect(get(activeKnots(ct, grid.step, 0))[0]).toBe(slopes64(0).filter((v) => Math.abs(v) > 1e-6).length);
});

test('sparsify: small slopes become 0, large ones stay, c[0] and c[1] are kept', () => {
  const e = 0.8;
  const s = sparsifyCoefficients(ct, grid.step, e);
  const a = get(reluSlopes(s, grid.step));
  const want = [0, 1, 2, 3].flatMap(slopes64).map((v) => (Math.abs(v) <= e ? 0 : v));
  expect(worst(a, want, 1e-4, 1e-4).ratio).toBeLessThanOrEqual(1);
  const sv = get(s);
  for (let ch = 0; ch < C; ++ch) {
    expect(sv[ch * K]).toBe(c[ch * K]);
    expect(sv[ch * K + 1]).toBeCloseTo(c[ch * K + 1], 6);
  }
  // threshold 0 changes nothing (up to float32 rebuild rounding)
  expect(worst(get(sparsifyCoefficients(ct, grid.step, 0)), c, 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);
});

test('clipSlopes: slopes within [-s, s], mean kept, equal to the formula', () => {
  const s = 1.5;
  const out = get(clipSlopes(ct, grid.step, s));
  for (let ch = 0; ch < C; ++ch) {
    const d = [];
    for (let k = 0; k < K - 1; ++k) {
      d.push(Math.min(s, Math.max(-s, (c[ch * K + k + 1] - c[ch * K + k]) / grid.step)));
    }
    const rebuilt = [0];
    d.forEach((dk) => rebuilt.push(rebuilt[rebuilt.length - 1] + dk * grid.step));
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((p, q) => p + q, 0) / v.length;
    const shift = mean(c.subarray(ch * K, ch * K + K)) - mean(rebuilt);
    const want = rebuilt.map((v) => v + shift);
    const got = out.slice(ch * K, ch * K + K);
    expect(worst(got, want, 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);
    for (let k = 0; k < K - 1; ++k) {
      expect(Math.abs(got[k + 1] - got[k]) / grid.step).toBeLessThanOrEqual(s * (1 + 1e-5));
    }
  }
  // a spline already within the bound is unchanged
  const relu = coefficientsFromFunction((x) => Math.max(0, x), K, grid, 2);
  expect(worst(get(clipSlopes(relu, grid.step, 1)), get(relu), 1e-6, 1e-6).ratio).toBeLessThanOrEqual(1);
});

test('coefficientsFromFunction samples at the knots, per channel', () => {
  const v = get(coefficientsFromFunction((x, ch) => x * (ch + 1), 3, {start: -1, step: 1}, 2));
  expect(v).toEqual([-1, 0, 1, -2, 0, 2]);
});

test('curves sample the splines over the widened grid', () => {
  const {x, y} = splineCurves(ct, grid, 17, 1);
  expect(x.shape).toEqual([17]);
  expect(y.shape).toEqual([C, 17]);
  const xs = get(x);
  expect(xs[0]).toBeCloseTo(grid.start - grid.step, 6);
  expect(xs[16]).toBeCloseTo(grid.start + K * grid.step, 6);
  const ys = get(y);
  for (let ch = 0; ch < C; ++ch) {
    xs.forEach((xv, i) => expect(ys[ch * 17 + i]).toBeCloseTo(refValue({c, C, K, ...grid}, xv, ch), 5));
  }
});

test('no tensor leaks in the math', () => {
  const before = tf.memory().numTensors;
  tf.dispose([reluSlopes(ct, 1), tv2(ct, 1), bv2(ct, grid), splineLipschitz(ct, 1),
    activeKnots(ct, 1, 0.1), sparsifyCoefficients(ct, 1, 0.1), clipSlopes(ct, 1, 1)]);
  const {x, y} = splineCurves(ct, grid);
  tf.dispose([x, y]);
  expect(tf.memory().numTensors).toBe(before);
});
