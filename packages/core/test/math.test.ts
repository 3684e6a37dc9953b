/**
 * The spline math of packages/core/README.md, "Semantics" (the derived quantities), against
 * independent float64 computations written from the formulas.
 */
import * as tf from '@tensorflow/tfjs-core';
import {activeKnots, bv2, clipSlopes, coefficientsFromFunction, reluSlopes, softThresholdSlopes, sparsifyCoefficients,
  splineCurves, splineGrid, splineKnots, splineLipschitz, tv2} from '@deepspline/core';
import {splineValue, uniformArray as randomArray, rng, worst} from '@deepspline/testing';
import {useCpu} from './helpers';

beforeAll(useCpu);

/** The float64 reference value of channel `ch` of `c` ([C, K] row-major) at `x`. */
function valueAt(c: ArrayLike<number>, K: number, ch: number, x: number): number {
  return splineValue(Array.from(c).slice(ch * K, ch * K + K), grid.start, grid.step, x);
}

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
      expect(s).toBeCloseTo(valueAt(c, K, ch, x), 5);
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
    const row = Array.from(c).slice(ch * K, ch * K + K);
    expect(bv[ch]).toBeCloseTo(tvWant + Math.abs(splineValue(row, grid.start, grid.step, 0)) +
      Math.abs(splineValue(row, grid.start, grid.step, 1)), 4);
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

test('softThresholdSlopes: a_k <- sign(a_k) max(|a_k| - t, 0) with c[0], c[1] kept; removed knots exactly 0', () => {
  const r = rng(5);
  const K2 = 21;
  const T = 0.1;
  const rowsIn = Array.from({length: 6}, (_, ch) => Array.from({length: K2}, (_, k) =>
    Math.fround((ch + 1) * Math.sin(k * (0.3 + ch)) + 0.5 * (r() - 0.5))));
  const input = tf.tensor2d(rowsIn);
  for (const t of [0, 0.5, 3, 20, 1e3]) {
    const before = tf.memory().numTensors;
    const outT = softThresholdSlopes(input, T, t);
    expect(tf.memory().numTensors).toBe(before + 1);
    const out = outT.arraySync();
    outT.dispose();
    for (const [ch, cin] of rowsIn.entries()) {
      const c = out[ch]!;
      // the quantum: 2^-22 to 2^-21 of the largest coefficient or difference of the result
      let m = 0;
      for (let k = 0; k < K2; ++k) m = Math.max(m, Math.abs(c[k]!), k > 0 ? Math.abs(c[k]! - c[k - 1]!) : 0);
      const q = 2 ** (Math.ceil(Math.log2(m)) - 21);
      expect(Math.abs(c[0]! - cin[0]!)).toBeLessThanOrEqual(q);
      expect(Math.abs((c[1]! - c[0]!) - (cin[1]! - cin[0]!))).toBeLessThanOrEqual(2 * q);
      for (let k = 1; k < K2 - 1; ++k) {
        const a = ((cin[k - 1]! - 2 * cin[k]!) + cin[k + 1]!) / T;
        const want = Math.sign(a) * Math.max(Math.abs(a) - t, 0);
        const got = ((c[k - 1]! - 2 * c[k]!) + c[k + 1]!) / T;
        if (Math.abs(a) <= t * (1 - 1e-5)) expect(got).toBe(0);  // exactly
        else expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a)));
      }
    }
  }
  input.dispose();
});

test('softThresholdSlopes with per-knot thresholds: each knot by its own t_k, removed knots exactly 0', () => {
  const r = rng(9);
  const K2 = 13;
  const T = 0.2;
  const rowsIn = Array.from({length: 3}, (_, ch) => Array.from({length: K2}, (_, k) =>
    Math.fround((ch + 1) * Math.cos(k * (0.5 + ch)) + 0.3 * (r() - 0.5))));
  const ts = rowsIn.map(() => Array.from({length: K2 - 2}, () => Math.fround(8 * r())));
  const input = tf.tensor2d(rowsIn);
  const thresholds = tf.tensor2d(ts);
  const before = tf.memory().numTensors;
  const outT = softThresholdSlopes(input, T, thresholds);
  expect(tf.memory().numTensors).toBe(before + 1);
  const out = outT.arraySync();
  let removed = 0;
  let kept = 0;
  for (const [ch, cin] of rowsIn.entries()) {
    const c = out[ch]!;
    for (let k = 1; k < K2 - 1; ++k) {
      const a = ((cin[k - 1]! - 2 * cin[k]!) + cin[k + 1]!) / T;
      const t = ts[ch]![k - 1]!;
      const want = Math.sign(a) * Math.max(Math.abs(a) - t, 0);
      const got = ((c[k - 1]! - 2 * c[k]!) + c[k + 1]!) / T;
      if (Math.abs(a) <= t * (1 - 1e-5)) {
        expect(got).toBe(0);
        ++removed;
      } else {
        expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(a)));
        ++kept;
      }
    }
  }
  expect(removed).toBeGreaterThan(0);
  expect(kept).toBeGreaterThan(0);
  const wrong = tf.zeros([3, K2]) as tf.Tensor2D;
  expect(() => softThresholdSlopes(input, T, wrong)).toThrow(
    `softThresholdSlopes: expected a float32 threshold tensor of shape [3, ${K2 - 2}] (one per knot), got a float32 tensor of shape [3,${K2}]`);
  tf.dispose([input, thresholds, outT, wrong]);
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
      expect(Math.abs(got[k + 1] - got[k]) / grid.step).toBeLessThanOrEqual(s);
    }
  }
  // a spline already within the bound is unchanged
  const relu = coefficientsFromFunction((x) => Math.max(0, x), K, grid, 2);
  // (up to the rounding margin, ~1e-6 of a slope)
  expect(worst(get(clipSlopes(relu, grid.step, 1)), get(relu), 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);
});

test('clipSlopes: the exact (float64) slopes of the float32 result never exceed s', () => {
  // Without a rounding margin the rebuilt float32 coefficients give slopes up to s (1 + 2e-6).
  let worstRatio = 0;
  for (const [size, step, offset] of [[21, 0.1, 0], [51, 0.04, 3], [101, 0.02, -5], [101, 0.04, 40]] as const) {
    for (let seed = 0; seed < 20; ++seed) {
      let a = (seed + 1) * 2654435761 >>> 0;
      const rand = () => { a = (a * 1664525 + 1013904223) >>> 0; return a / 4294967296; };
      const values = Array.from({length: 4 * size}, () => offset + 4 * (rand() - 0.5));
      const ct2 = tf.tensor2d(values, [4, size]);
      const out = get(clipSlopes(ct2, step, 1));
      ct2.dispose();
      for (let ch = 0; ch < 4; ++ch) {
        for (let k = 0; k < size - 1; ++k) {
          worstRatio = Math.max(worstRatio, Math.abs(out[ch * size + k + 1] - out[ch * size + k]) / step);
        }
      }
    }
  }
  expect(worstRatio).toBeLessThanOrEqual(1);
  expect(worstRatio).toBeGreaterThan(1 - 1e-4);  // the margin is tiny
});

test('clipSlopes: slopes at exactly s keep their gradient (an abs init with maxSlope 1 learns)', () => {
  const abs = coefficientsFromFunction(Math.abs, 9, {start: -1, step: 0.25}, 1);
  const w = tf.tensor2d([[0.3, -1, 2, 0.5, -0.2, 1.5, -2, 0.7, 0.1]]);
  const g = tf.grad((c: tf.Tensor) => tf.sum(tf.mul(clipSlopes(c as tf.Tensor2D, 0.25, 1), w)))(abs);
  // inside the bound clipSlopes is the identity up to its rounding margin, so the gradient is w
  expect(worst(get(g), get(w), 1e-4, 1e-4).ratio).toBeLessThanOrEqual(1);
  tf.dispose([abs, w, g]);
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
    xs.forEach((xv, i) => expect(ys[ch * 17 + i]).toBeCloseTo(valueAt(c, K, ch, xv), 5));
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

describe('derived quantities in float64, rounded once (README "Semantics")', () => {
  const EPS32 = 2 ** -23;

  /** Random coefficients on a smooth trend: about half the knots have small |a_k|. */
  function coefficients(C: number, K: number, seed: number): Float32Array {
    const r = rng(seed);
    const v = new Float32Array(C * K);
    for (let ch = 0; ch < C; ++ch) {
      for (let k = 0; k < K; ++k) {
        const t = k / (K - 1);
        v[ch * K + k] = Math.sin(3 * t + ch) + (r() < 0.5 ? 0.05 * (2 * r() - 1) : 1e-6 * r());
      }
    }
    return v;
  }

  /** Float64 ReLU slopes of one row of float32 coefficients, from the formula. */
  function rowSlopes(v: ArrayLike<number>, off: number, K: number, step: number): number[] {
    const a: number[] = [];
    for (let k = 1; k < K - 1; ++k) a.push((v[off + k - 1] - 2 * v[off + k] + v[off + k + 1]) / step);
    return a;
  }

  /** Half an ulp of the float32 number v: the most that rounding to float32 moves a value. */
  function halfUlp(v: number): number {
    const a = Math.abs(v);
    if (a < 2 ** -126) return 2 ** -150;
    const e = Math.floor(Math.log2(a));
    return 2 ** ((2 ** e > a ? e - 1 : e) - 24);
  }

  /**
   * Channels 0 and 2: lines crossing 0 with noise on half the knots (a float32 rebuild cancels
   * badly where they cross 0); channel 1: uniform noise.
   */
  function mixed(K: number, step: number, seed: number): Float32Array {
    const r = rng(seed);
    const v = new Float32Array(3 * K);
    for (let k = 0; k < K; ++k) {
      const x = -2 + k * step;
      v[k] = x / 2 + (r() < 0.5 ? 0.01 * (2 * r() - 1) : 0);
      v[K + k] = 2 * r() - 1;
      v[2 * K + k] = 0.3 - x / 3 + (r() < 0.5 ? 0.01 * (2 * r() - 1) : 0);
    }
    return v;
  }

  test.each([[51, 0.08], [101, 0.04]])('sparsify (K = %i, T = %f): removed knots at float32 rounding, kept ones unchanged',
      (K, step) => {
    const C = 3;
    const v = mixed(K, step, K);
    const threshold = 2;
    const w = get(tf.tidy(() => sparsifyCoefficients(tf.tensor2d(v, [C, K]), step, threshold)));
    let removed = 0;
    let worst = {ratio: 0, where: ''};
    for (let ch = 0; ch < C; ++ch) {
      const o = ch * K;
      const before = rowSlopes(v, o, K, step);
      const after = rowSlopes(w, o, K, step);
      const scale = Math.max(...w.slice(o, o + K).map(Math.abs));
      before.forEach((a, j) => {
        // The exact rebuild moves a_k by nothing; rounding it to float32 moves each coefficient
        // by <= half an ulp, so a_k by <= (h[k-1] + 2 h[k] + h[k+1]) / T, plus float64 slack.
        const bound = (halfUlp(w[o + j]) + 2 * halfUlp(w[o + j + 1]) + halfUlp(w[o + j + 2])) / step +
          2 ** -40 * scale / step;
        const want = Math.abs(a) <= threshold ? 0 : a;
        if (want === 0) ++removed;
        const ratio = Math.abs(after[j] - want) / bound;
        if (!(ratio <= worst.ratio)) {
          worst = {ratio, where: `channel ${ch} knot ${j + 1}: slope ${after[j]}, expected ${want}`};
        }
      });
      expect([w[o], w[o + 1]]).toEqual([v[o], v[o + 1]]);
    }
    expect(worst.ratio <= 1 ? '' : `${worst.where}: ${worst.ratio} times the bound`).toBe('');
    expect(removed).toBeGreaterThan(C * (K - 2) / 4);
    expect(removed).toBeLessThan(C * (K - 2));
  });

  test('sparsify at threshold 0 returns the coefficients bit for bit', () => {
    const v = coefficients(2, 101, 5);
    v.fill(0.25, 10, 20);  // exactly zero slopes to remove
    const w = get(tf.tidy(() => sparsifyCoefficients(tf.tensor2d(v, [2, 101]), 0.04, 0)));
    expect(w).toEqual(Array.from(v));
  });

  test('reluSlopes and tv2 are the float64 formulas rounded once to float32', () => {
    const K = 101;
    const step = 0.04;
    const v = coefficients(4, K, 9);
    const ct2 = tf.tensor2d(v, [4, K]);
    const a = get(reluSlopes(ct2, step));
    const tv = get(tv2(ct2, step));
    for (let ch = 0; ch < 4; ++ch) {
      const want = rowSlopes(v, ch * K, K, step);
      expect(a.slice(ch * (K - 2), (ch + 1) * (K - 2))).toEqual(want.map(Math.fround));
      expect(tv[ch]).toBe(Math.fround(want.reduce((s, x) => s + Math.abs(x), 0)));
    }
    ct2.dispose();
  });

  test('activeKnots compares the float64 slopes with the threshold', () => {
    const K = 101;
    const step = 0.04;
    const v = coefficients(1, K, 13);
    const ct2 = tf.tensor2d(v, [1, K]);
    const a = rowSlopes(v, 0, K, step).map(Math.abs);
    for (const j of [3, 10, 40, 77]) {
      // just below |a_j| in float64, equal to it in float32: a_j counts
      const t = a[j] * (1 - 1e-12);
      expect([j, get(activeKnots(ct2, step, t))[0]]).toEqual([j, a.filter((x) => x > t).length]);
      expect([j, get(activeKnots(ct2, step, a[j]))[0]]).toEqual([j, a.filter((x) => x > a[j]).length]);
    }
    ct2.dispose();
  });

  test('reluSlopes and tv2 stay differentiable (the TV(2) regularizer trains through them)', () => {
    const K = 7;
    const step = 0.5;
    const v = coefficients(2, K, 3);
    const ct2 = tf.tensor2d(v, [2, K]);
    const w = tf.tensor2d(Array.from({length: 2 * (K - 2)}, (_, i) => (i % 3) - 1), [2, K - 2]);
    const gA = get(tf.grad((c: tf.Tensor) => tf.sum(tf.mul(reluSlopes(c as tf.Tensor2D, step), w)))(ct2));
    const gT = get(tf.grad((c: tf.Tensor) => tf.sum(tv2(c as tf.Tensor2D, step)))(ct2));
    const wv = w.dataSync();
    for (let ch = 0; ch < 2; ++ch) {
      const a = rowSlopes(v, ch * K, K, step);
      for (let j = 0; j < K; ++j) {
        // d a_k / d c_j = (1, -2, 1) / T at j = k - 1, k, k + 1
        let dA = 0;
        let dT = 0;
        for (let k = 1; k < K - 1; ++k) {
          const d = j === k - 1 || j === k + 1 ? 1 : j === k ? -2 : 0;
          dA += wv[ch * (K - 2) + k - 1] * d / step;
          dT += Math.sign(a[k - 1]) * d / step;
        }
        expect(gA[ch * K + j]).toBeCloseTo(dA, 5);
        expect(gT[ch * K + j]).toBeCloseTo(dT, 5);
      }
    }
    tf.dispose([ct2, w]);
  });
});
