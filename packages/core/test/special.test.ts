/**
 * Non-finite and extreme inputs (packages/core/README.md, "Semantics"): NaN in gives NaN out
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

describe('special cases agree everywhere: non-finite coefficients, -0 (README "Semantics")', () => {
  interface Fixture {
    name: string;
    K: number;
    start: number;
    step: number;
    rows: number[][];
    xs: number[];
  }
  const fixtures: Fixture[] = [{
    // knots -1.5, -0.5, 0.5, 1.5. Row 0: the segment over 0 ends at +Inf (the old kernels gave
    // +Inf at x = 0.25 and NaN at x = -0.25); row 1: -Inf at the left end; row 2: NaN inside.
    name: 'non-finite coefficients', K: 4, start: -1.5, step: 1,
    rows: [[0, 0, Infinity, 1], [-Infinity, 1, 2, 3], [1, NaN, 2, 2], [3, 2, 1, -Infinity]],
    xs: [-Infinity, -3, -1.5, -1, -0.5, -0.25, -0, 0, 0.25, 0.5, 1, 1.5, 4, Infinity, NaN],
  }, {
    // a knot at 0: x = ±0 on it, coefficients -0 on flat and sloped segments
    name: '-0 inputs and coefficients', K: 3, start: -1, step: 1,
    rows: [[1, -0, 1], [-0, -0, -0], [0, -0, 1], [-0, -0, 2], [-1, -0, -0]],
    xs: [-0, 0, -1, 1, -2, 2, -1e-40, 1e-40, Infinity, -Infinity],
  }];

  /** y of the README's rule, written from it: NaN where the segment holds a non-finite c. */
  function expectedY(row: number[], fx: Fixture, x: number): number {
    const u = (x - fx.start) / fx.step;
    const k = Number.isNaN(u) ? 0 : Math.min(Math.max(Math.floor(u), 0), fx.K - 2);
    const [c0, c1] = [row[k], row[k + 1]];
    if (!Number.isFinite(c0) || !Number.isFinite(c1) || Number.isNaN(x)) return NaN;
    let y: number;
    if (c1 === c0) y = c0;
    else if (!Number.isFinite(x)) y = x * Math.sign(c1 - c0);
    else y = Math.fround(c0 + ((x - (fx.start + k * fx.step)) / fx.step) * (c1 - c0));  // f exact
    return y === 0 ? 0 : y;  // never -0
  }

  /** dx: the segment slope times dy with IEEE signs (-0 where it is a signed zero). */
  function expectedDx(row: number[], fx: Fixture, x: number, dy: number): number {
    const u = (x - fx.start) / fx.step;
    const k = Number.isNaN(u) ? 0 : Math.min(Math.max(Math.floor(u), 0), fx.K - 2);
    const [c0, c1] = [row[k], row[k + 1]];
    if (!Number.isFinite(c0) || !Number.isFinite(c1) || Number.isNaN(x)) return NaN;
    return Math.fround(((c1 - c0) / fx.step) * dy);
  }

  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

  describe.each(fixtures.map((f) => [f.name, f] as [string, Fixture]))('%s', (_name, fx) => {
    const C = fx.rows.length;
    const c = Float32Array.from(fx.rows.flat());
    const x = new Float32Array(fx.xs.length * C);
    fx.xs.forEach((v, i) => x.fill(v, i * C, i * C + C));
    const dy = Float32Array.from(x, (_v, i) => (i % 3 === 0 ? -1 : 0.5));
    const results = IMPLS.map((impl) => [impl, withImpl(impl,
      () => run(x, [fx.xs.length, C], c, C, fx.K, fx.start, fx.step, dy))] as const);

    test.each(IMPLS.map((impl) => [impl]))('%s: y and dx follow the rule bit for bit', (impl) => {
      const out = results.find(([name]) => name === impl)![1];
      const bad: string[] = [];
      for (let i = 0; i < x.length; ++i) {
        const row = fx.rows[i % C];
        const y = expectedY(row, fx, x[i]);
        const d = expectedDx(row, fx, x[i], dy[i]);
        const at = `(x = ${show(x[i])}, row ${i % C})`;
        if (!same(out.y[i], y)) bad.push(`y${at} = ${show(out.y[i])}, expected ${show(y)}`);
        if (!same(out.dx![i], d)) bad.push(`dx${at} = ${show(out.dx![i])}, expected ${show(d)}`);
      }
      expect(bad).toEqual([]);
    });

    test('kernel and fallback: the same coefficient gradient, never -0', () => {
      const [a, b] = results.map(([, r]) => Array.from(r.dc!));
      a.forEach((v, j) => {
        expect([j, same(v, b[j]) || Math.abs(v - b[j]) <= 1e-6 * Math.abs(v)]).toEqual([j, true]);
        expect([j, Object.is(v, -0), Object.is(b[j], -0)]).toEqual([j, false, false]);
      });
    });
  });
});

test.each(['int32', 'bool'] as const)('the gradient kernel rejects a %s dy, naming the dtype', (dtype) => {
  const x = tf.tensor2d([[0.5, -0.5]]);
  const c = tf.tensor2d([[0, 1, 2], [1, 0, 1]]);
  const dy = tf.tensor2d([[1, 0]], [1, 2], dtype);
  expect(() => tf.engine().runKernel(LinearSplineGrad, {dy, x, coefficients: c}, {start: -1, step: 1}))
    .toThrow(`linearSpline gradient: expected dy to be a float32 tensor, got dtype "${dtype}"`);
  tf.dispose([x, c, dy]);
});

test('zero channels: x [3, 0] with coefficients [0, K], both implementations', () => {
  for (const impl of IMPLS) {
    const out = withImpl(impl, () => run(new Float32Array(0), [3, 0], new Float32Array(0), 0, 5,
      -1, 0.5, new Float32Array(0)));
    expect([impl, out.y.length, out.dx!.length, out.dc!.length]).toEqual([impl, 0, 0, 0]);
  }
});
