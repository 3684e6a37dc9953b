/**
 * The composite fallback against the fused cpu kernel on grids far from the origin, within the
 * tolerance the README's "Semantics" section derives for it. Parity near the origin, special
 * values and errors are the shared conformance suite's (conformance.test.ts).
 */
import {rng, uniformArray as randomArray} from '@deepspline/testing';
import {run, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

describe('grids far from the origin (README "Semantics": the fallback\'s tolerance)', () => {
  const U = 2 ** -24;  // float32 unit roundoff

  /**
   * The tolerances the README states for the fallback against the kernel, per element, with
   * the kernel's segment k, f = (x - t_k) / step (float64), D = |c[k+1] - c[k]|:
   * y: 2u |y| + u (7 |f| + 2) D + 2^-50 |c[k]|;  dx: 6u |dx|;  per coefficient, over the m
   * terms summed into it: dc: u |dc| + sum (7 |f| + 2) u |dy| + m u sum |term|.
   */
  function check(x: Float32Array, c: Float32Array, K: number, start: number, step: number,
      dy: Float32Array) {
    const shape = [x.length, 1];
    const kernel = withImpl('kernel', () => run(x, shape, c, 1, K, start, step, dy));
    const fallback = withImpl('fallback', () => run(x, shape, c, 1, K, start, step, dy));
    const where = `start ${start} step ${step} K ${K}`;
    const dcTol = new Float64Array(K);
    const dcSum = new Float64Array(K);
    const dcTerms = new Float64Array(K);
    for (let i = 0; i < x.length; ++i) {
      const u = (x[i] - start) / step;
      const k = Math.min(Math.max(Math.floor(u), 0), K - 2);
      const f = (x[i] - (start + k * step)) / step;
      const D = Math.abs(c[k + 1] - c[k]);
      const yTol = 2 * U * Math.abs(kernel.y[i]) + U * (7 * Math.abs(f) + 2) * D + 2 ** -50 * Math.abs(c[k]);
      const yErr = Math.abs(fallback.y[i] - kernel.y[i]);
      if (!(yErr <= yTol)) {
        throw new Error(`${where} x ${x[i]} (f ${f}): fallback ${fallback.y[i]}, kernel ${kernel.y[i]}, ` +
          `|diff| ${yErr} > ${yTol}`);
      }
      const dxErr = Math.abs(fallback.dx![i] - kernel.dx![i]);
      if (!(dxErr <= 6 * U * Math.abs(kernel.dx![i]))) {
        throw new Error(`${where} x ${x[i]}: dx fallback ${fallback.dx![i]}, kernel ${kernel.dx![i]}`);
      }
      const e = (7 * Math.abs(f) + 2) * U * Math.abs(dy[i]);
      for (const [j, term] of [[k, (1 - f) * dy[i]], [k + 1, f * dy[i]]]) {
        dcTol[j] += e;
        dcSum[j] += Math.abs(term);
        dcTerms[j] += 1;
      }
    }
    for (let j = 0; j < K; ++j) {
      // per-term errors, then a float32 sum of m terms in any order: < m u sum |terms|
      const tol = U * Math.abs(kernel.dc![j]) + dcTol[j] + dcTerms[j] * U * dcSum[j];
      const err = Math.abs(fallback.dc![j] - kernel.dc![j]);
      if (!(err <= tol)) {
        throw new Error(`${where} dc[${j}]: fallback ${fallback.dc![j]}, kernel ${kernel.dc![j]}, ` +
          `|diff| ${err} > ${tol}`);
      }
    }
    return {kernel, fallback};
  }

  test('the example of the issue: a knot at 472299.1875, spacing 0.015625 * 1.0061', () => {
    const start = 472299.1875;
    const step = 0.015625 * 1.0061;
    const {kernel, fallback} = check(Float32Array.of(472299.25), Float32Array.of(0, 1, 2, 3, 4), 5,
      start, step, Float32Array.of(1));
    const want = (472299.25 - start) / step;  // c[k] = k: the spline is u itself
    expect(kernel.y[0]).toBe(Math.fround(want));
    expect(Math.abs(fallback.y[0] - want)).toBeLessThan(1e-5);
  });

  test('fuzz: |start| / step up to 2^22, inside, on and far outside the grid', () => {
    const next = rng(4422);
    for (let trial = 0; trial < 60; ++trial) {
      const K = 3 + Math.floor(next() * 99);
      const step = 2 ** (Math.floor(next() * 24) - 12) * (1 + next());
      const ratio = 2 ** (next() * 22);                 // |start| / step, log-uniform in [1, 2^22]
      const start = (next() < 0.5 ? -1 : 1) * ratio * step;
      const c = randomArray(K, -2, 2, next);
      const n = 64;
      const x = new Float32Array(n);
      for (let i = 0; i < n; ++i) {
        const kind = i % 4;
        const knot = start + Math.floor(next() * K) * step;
        x[i] = kind === 0 ? knot                                    // rounded to float32
          : kind === 1 ? knot + (next() - 0.5) * 1e-6 * step        // next to a knot
          : kind === 2 ? start + (next() * 1.2 - 0.1) * (K - 1) * step  // over the grid
          : start + (next() - 0.5) * 8 * Math.max(Math.abs(start), K * step);  // far outside
      }
      const dy = randomArray(n, -1, 1, next);
      check(x, c, K, start, step, dy);
    }
  });
});
