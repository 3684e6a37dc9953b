/**
 * Non-finite and extreme inputs (spline-math.md, "Non-finite inputs"): NaN in gives NaN out
 * and NaN dx; ±Inf gives the limit of the spline (the end value when the end slope is 0);
 * huge finite values extrapolate; the kernel and the fallback agree bit for bit on the
 * special cases, and nothing reads out of range.
 */
import * as tf from '@tensorflow/tfjs-core';
import {linearSpline, LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {refValue} from './reference';
import {IMPLS, run, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

const K = 5;
const start = -1;
const step = 0.5;
// channel 0: slopes -1 at the left end, +0.5 at the right end
// channel 1: flat at both ends (slope 0)
// channel 2: steep (slope 4) at both ends: overflows float32 for x = ±3.4e38
const coef = Float32Array.from([
  0.5, 0, 0.25, 0, 0.25,
  2, 2, -1, 3, 3,
  -2, 0, 1, 0, 2,
]);
const C = 3;
const MAX = 3.4e38;
const SUB = 1e-45;
const values = [NaN, Infinity, -Infinity, MAX, -MAX, SUB, -SUB, 1.1754942e-38, 0, -1, 1];

function expectedValue(x: number, ch: number): number {
  if (Number.isNaN(x)) return NaN;
  const row = coef.subarray(ch * K, ch * K + K);
  if (!Number.isFinite(x)) {
    const slope = x > 0 ? (row[K - 1] - row[K - 2]) / step : (row[1] - row[0]) / step;
    if (slope === 0) return x > 0 ? row[K - 1] : row[0];
    return slope * x;  // ±Inf
  }
  return Math.fround(refValue({c: coef, C, K, start, step}, x, ch));
}

describe.each(IMPLS)('%s', (impl) => {
  const x = new Float32Array(values.length * C);
  values.forEach((v, i) => x.fill(v, i * C, i * C + C));
  const dy = new Float32Array(x.length).fill(1);

  test('forward follows the rule for NaN, ±Inf, ±3.4e38 and subnormals', () => {
    const {y} = withImpl(impl, () => run(x, [values.length, C], coef, C, K, start, step));
    for (let i = 0; i < x.length; ++i) {
      const want = expectedValue(x[i], i % C);
      if (!Object.is(y[i], want)) {
        // finite extreme values: float32 rounding of the float64 reference
        expect([i, x[i], i % C, y[i]]).toEqual([i, x[i], i % C, want]);
      }
    }
  });

  test('dx is NaN exactly where x is NaN, else the segment slope', () => {
    const out = withImpl(impl, () => run(x, [values.length, C], coef, C, K, start, step, dy));
    for (let i = 0; i < x.length; ++i) {
      const ch = i % C;
      const row = coef.subarray(ch * K, ch * K + K);
      if (Number.isNaN(x[i])) {
        expect(out.dx![i]).toBeNaN();
        continue;
      }
      const u = (x[i] - start) / step;
      const k = Math.min(Math.max(Math.floor(u), 0), K - 2);
      expect(out.dx![i]).toBeCloseTo((row[k + 1] - row[k]) / step, 6);
    }
  });

  test('NaN in one channel poisons only that channel\'s first coefficient pair', () => {
    const xs = Float32Array.from([NaN, 0.1, 0.2, 0.3, 0.4, 0.1]);
    const out = withImpl(impl, () => run(xs, [2, 3], coef, C, K, start, step,
      new Float32Array(6).fill(1)));
    const dc = Array.from(out.dc!);
    expect(dc.slice(0, 2).every(Number.isNaN)).toBe(true);
    expect(dc.slice(2).every(Number.isFinite)).toBe(true);
  });
});

test('kernel and fallback agree on every special value, gradients included', () => {
  const x = Float32Array.from([NaN, Infinity, -Infinity, MAX, -MAX, SUB, -SUB, 0, 2, -2, 1e30,
    -1e30]);
  const shape = [x.length, 1];
  const c1 = coef.subarray(0, K);
  const dy = Float32Array.from(x, (_v, i) => (i % 2 === 0 ? 1 : -0.5));
  const a = withImpl('kernel', () => run(x, shape, c1, 1, K, start, step, dy));
  const b = withImpl('fallback', () => run(x, shape, c1, 1, K, start, step, dy));
  expect(Array.from(a.y)).toEqual(Array.from(b.y));
  expect(Array.from(a.dx!)).toEqual(Array.from(b.dx!));
  const same = Array.from(a.dc!).map((v, i) => Object.is(v, b.dc![i]) ||
    Math.abs(v - b.dc![i]) <= 1e-6 * Math.max(1, Math.abs(v)));
  expect(same.every(Boolean)).toBe(true);
});

test('a direct runKernel with bad attributes throws instead of reading out of range', () => {
  const x = tf.tensor2d([[1, 2]]);
  const c = tf.tensor2d([[0, 1, 2]]);
  expect(() => tf.engine().runKernel(LinearSpline, {x, coefficients: c}, {start: 0, step: 0}))
    .toThrow(/step > 0/);
  const bad = tf.tensor2d([[0, 1]]);
  expect(() => tf.engine().runKernel(LinearSpline, {x, coefficients: bad}, {start: 0, step: 1}))
    .toThrow(/K >= 3/);
  const dy = tf.tensor2d([[1, 2, 3]]);
  expect(() => tf.engine().runKernel(LinearSplineGrad, {dy, x, coefficients: c},
    {start: 0, step: 1})).toThrow(/expected dy of shape/);
  tf.dispose([x, c, bad, dy]);
});

test('empty tensors give empty results and zero coefficient gradients', () => {
  for (const impl of IMPLS) {
    const out = withImpl(impl, () => run(new Float32Array(0), [0, 2], coef.subarray(0, 10), 2,
      K, start, step, new Float32Array(0)));
    expect(out.y.length).toBe(0);
    expect(Array.from(out.dc!)).toEqual(new Array(10).fill(0));
  }
});

test('scalars work with a shared spline', () => {
  const y = linearSpline(tf.scalar(0.25), tf.tensor2d([[0, 0, 1]]), {start: -1, step: 1});
  expect(y.shape).toEqual([]);
  expect(y.dataSync()[0]).toBeCloseTo(0.25, 7);
});
