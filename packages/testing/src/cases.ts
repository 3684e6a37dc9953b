/**
 * Case generators for the spline op: random shapes (ranks 0-6, shared and per-channel
 * splines, K 3-101), values on, next to, between and far beyond the knots, the special
 * values and fixtures of the Semantics section of `packages/core/README.md`, and empty tensors.
 */
import {integer, normal, rng} from './prng.js';
import type {SplineCase} from './reference.js';

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * One random case of `xShape`. The grid is binary-exact (knots are float32 numbers), so that
 * "on a knot" means the same in float32 and float64 arithmetic; values are mostly inside the
 * grid, some far outside, some exactly on knots.
 */
export function randomCase(r: () => number, xShape: number[], shared: boolean, K: number): SplineCase {
  const n = size(xShape);
  const channels = xShape.length === 0 ? 1 : xShape[xShape.length - 1];
  const C = shared ? 1 : channels;
  const step = (1 + Math.floor(16 * r())) / 32;
  const range = step * (K - 1) / 2;
  const start = -range;
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const p = r();
    x[i] = p < 0.8 ? 1.2 * range * (2 * r() - 1) : p < 0.9 ? 4 * range * normal(r) :
      Math.fround(start + Math.floor(r() * K) * step);
  }
  const c = new Float32Array(C * K).map(() => normal(r));
  const dy = new Float32Array(n).map(() => normal(r));
  return {name: `x [${xShape}], ${shared ? 'shared' : 'per-channel'}, K ${K}`, xShape, C, K,
    start, step, x, c, dy};
}

/**
 * `count` random cases: every rank 0..6 in turn, channels 1..300 (and the extremes 1 and
 * 300), K 3..101 (and the extremes), a third shared, about `budget` elements at most.
 */
export function randomCases(seed: number, count: number, budget = 6000): SplineCase[] {
  const r = rng(seed);
  const cases: SplineCase[] = [];
  for (let i = 0; i < count; ++i) {
    const rank = i % 7;
    const channels = rank === 0 ? 1 : i === 1 ? 300 : i === 2 ? 1 : integer(r, 1, 300);
    const K = i === 3 ? 3 : i === 4 ? 101 : integer(r, 3, 101);
    const shared = rank === 0 || i % 3 === 0;
    const shape: number[] = rank === 0 ? [] : [channels];
    let rest = Math.max(1, Math.floor(budget / channels));
    for (let d = 1; d < rank; ++d) {
      const s = Math.max(1, Math.min(rest, integer(r, 1, d === rank - 1 ? rest : 6)));
      shape.unshift(s);
      rest = Math.max(1, Math.floor(rest / s));
    }
    cases.push(randomCase(r, shape, shared, K));
  }
  return cases;
}

/**
 * Grids whose knots are not float32 numbers, with inputs at every knot and 2 float32 ulps
 * around it, per-channel and shared. The last grid makes `(x - start) * (1 / step)` fall just
 * below the integer `(x - start) / step` at its knots. Only an implementation that computes the
 * kernels' float64 coordinate (bit-exact ones) picks the same segment everywhere.
 */
export function knotCases(): SplineCase[] {
  const tricky = 4.673004150390625e-5;
  const grids: Array<[number, number, number]> = [[-1, 0.1, 21], [-2.5, 1 / 3, 16], [0.3, 0.7, 5],
    [-1e-3, 1e-4, 101], [-300, 7.3, 83], [-3 * tricky, tricky, 21]];
  const cases: SplineCase[] = [];
  for (const [start, step, K] of grids) {
    const xs: number[] = [];
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    for (let k = -1; k <= K; ++k) {
      f[0] = start + k * step;
      const b = bits[0];
      for (const d of [-2, -1, 0, 1, 2]) { bits[0] = b + d; xs.push(f[0]); }
    }
    while (xs.length % 4) xs.push(0);
    const r = rng(K);
    const C = 4;
    const c = Float32Array.from({length: C * K}, () => r() * 2 - 1);
    const x = Float32Array.from(xs);
    const dy = Float32Array.from(xs, () => r() * 2 - 1);
    const name = `knots of start ${start}, step ${step}, K ${K}`;
    cases.push({name, xShape: [xs.length / C, C], C, K, start, step, x, c, dy});
    cases.push({name: `${name}, shared`, xShape: [xs.length / C, C], C: 1, K, start, step, x,
      c: c.slice(0, K), dy});
  }
  return cases;
}

/**
 * Every loop path of a vectorised kernel: 1..19 channels (8- and 4-lane loops and scalar
 * tails), per-channel and shared, on grids that disable float32 index estimates
 * (`|start| / step >= 2^20`, tiny steps, a subnormal `1 / step`), values on and next to knots
 * and ±0.
 */
export function loopPathCases(): SplineCase[] {
  const grids: Array<[number, number, number]> = [[-2, 0.2, 21], [-2, 0.04, 101], [3e6, 1, 9],
    [-1e-19, 1e-20, 11], [-1e308, 5e307, 4], [-0.75, 0.25, 7]];
  const cases: SplineCase[] = [];
  for (const [start, step, K] of grids) {
    for (let channels = 1; channels <= 19; channels += (channels < 9 ? 1 : 5)) {
      const r = rng(channels * 31 + K);
      const rows = 5;
      const n = rows * channels;
      const x = Float32Array.from({length: n}, (_v, i) => {
        const knot = start + Math.floor(r() * K) * step;
        if (i % 5 === 1) return i % 2 ? 0 : -0;
        return i % 3 === 0 ? knot * (1 + (r() - 0.5) * 1e-6) : start + (r() * 1.4 - 0.2) * (K - 1) * step;
      });
      for (const C of channels === 1 ? [1] : [channels, 1]) {
        cases.push({name: `start ${start}, step ${step}, K ${K}, ${channels} channels, C ${C}`,
          xShape: [rows, channels], C, K, start, step, x,
          c: Float32Array.from({length: C * K}, () => r() * 2 - 1),
          dy: Float32Array.from({length: n}, () => r() * 2 - 1)});
      }
    }
  }
  return cases;
}

/** Float32's largest finite magnitude, rounded: `±3.4e38` overflows `x * slope`. */
export const HUGE = 3.4e38;

/**
 * The special input values: NaN, ±Inf, ±3.4e38 (when `huge`), subnormals, ±0, knots, values
 * between and far beyond them, given to every channel of splines with flat and sloped end
 * segments (limits at ±Inf), and to the same splines shared.
 */
export function specialValueCases(huge: boolean): SplineCase[] {
  const values = [NaN, Infinity, -Infinity, 1e-40, -1e-45, 1.1754942e-38, 0, -0, -2, -1.5, -1,
    -0.5, 0.5, 1, 1.5, 2, -2.25, 2.25, 1e30, -1e30, 1e6, -1e6, 0.75, -1.75, 1e-7, 0.999999,
    1.000001, ...(huge ? [HUGE, -HUGE] : [])];
  // K = 9 on [-2, 2] (binary-exact knots). Rows: flat ends; sloped ends; relu-like (flat left);
  // steep ends (slope 8: overflows float32 at ±3.4e38).
  const rows = [[1, 1, 0.5, -0.25, 0, 0.75, 2, -1, -1], [-3, -1, 0, 0.5, 0.25, 0, 1, 2.5, 4],
    [0, 0, 0, 0, 0, 0.5, 1, 1.5, 2], [-4, 0, 1, 0, 2, 0, 1, 0, 4]];
  const C = rows.length;
  const x = new Float32Array(values.length * C);
  values.forEach((v, i) => x.fill(v, i * C, (i + 1) * C));
  const dy = Float32Array.from(x, (_v, i) => [1, -0.5, 2][i % 3]);
  const c = Float32Array.from(rows.flat());
  const label = huge ? 'special values with ±3.4e38' : 'special values';
  const cases: SplineCase[] = [{name: label, xShape: [values.length, C], C, K: 9, start: -2,
    step: 0.5, x, c, dy}];
  for (const [j, row] of rows.entries()) {
    const xs = Float32Array.from(values);
    cases.push({name: `${label}, shared row ${j}`, xShape: [1, values.length, 1], C: 1, K: 9,
      start: -2, step: 0.5, x: xs, c: Float32Array.from(row),
      dy: Float32Array.from(xs, (_v, i) => [1, -0.5, 2][i % 3])});
  }
  return cases;
}

/**
 * The special cases of the Semantics: non-finite coefficients (NaN on the segments that use
 * them), -0 inputs and coefficients (y and dc never -0, dx with IEEE's sign), and `dy = -0`
 * over a short and a long input (one- and two-stage reductions sum -0 terms to +0).
 */
export function specialFixtureCases(): SplineCase[] {
  const fixtures: Array<{name: string, K: number, start: number, step: number, rows: number[][],
      xs: number[], dyCycle: number[], shared?: boolean}> = [{
    // knots -1.5, -0.5, 0.5, 1.5. Row 0: +Inf ends the segment over 0; row 1: -Inf at the left
    // end; row 2: NaN inside; row 3: -Inf at the right end; row 4: all finite (control).
    name: 'non-finite coefficients', K: 4, start: -1.5, step: 1,
    rows: [[0, 0, Infinity, 1], [-Infinity, 1, 2, 3], [1, NaN, 2, 2], [3, 2, 1, -Infinity],
      [1, -1, 0.5, 2]],
    xs: [-Infinity, -3, -1.5, -1, -0.5, -0.25, -0, 0, 0.25, 0.5, 1, 1.5, 4, Infinity, NaN],
    dyCycle: [-1, 0.5, -0],
  }, {
    // a knot at 0: x = ±0 on it; -0 coefficients on flat and sloped segments
    name: '-0 inputs and coefficients', K: 3, start: -1, step: 1,
    rows: [[1, -0, 1], [-0, -0, -0], [0, -0, 1], [-0, -0, 2], [-1, -0, -0]],
    xs: [-0, 0, -1, 1, -2, 2, -0.5, 0.5, -1e-40, 1e-40, Infinity, -Infinity],
    dyCycle: [-1, 0.5, -0],
  }, {
    name: 'dy = -0, 2 elements', K: 3, start: -1, step: 1, rows: [[1, 2, 4]], shared: true,
    xs: [-2, 0.5], dyCycle: [-0],
  }, {
    name: 'dy = -0, 1000 elements (two reduction stages on webgl and webgpu)', K: 3, start: -1, step: 1, rows: [[1, 2, 4]], shared: true,
    xs: Array.from({length: 1000}, (_v, i) => (i % 2 === 0 ? -2 : 0.5)), dyCycle: [-0],
  }];
  return fixtures.map((fx) => {
    const C = fx.shared ? 1 : fx.rows.length;
    const channels = fx.shared ? 1 : C;
    const x = new Float32Array(fx.xs.length * channels);
    fx.xs.forEach((v, i) => x.fill(v, i * channels, (i + 1) * channels));
    const dy = Float32Array.from(x, (_v, i) => fx.dyCycle[i % fx.dyCycle.length]);
    return {name: fx.name, xShape: fx.shared ? [fx.xs.length] : [fx.xs.length, C], C, K: fx.K,
      start: fx.start, step: fx.step, x, c: Float32Array.from(fx.rows.flat()), dy};
  });
}

/** Empty inputs and zero channels, and a scalar with a shared spline. */
export function emptyCases(): SplineCase[] {
  const K = 5;
  const empty = (xShape: number[], C: number): SplineCase => ({
    name: `x [${xShape}], C ${C}`, xShape, C, K, start: -1, step: 0.5,
    x: new Float32Array(0), c: Float32Array.from({length: C * K}, (_v, i) => i + 1),
    dy: new Float32Array(0)});
  return [empty([3, 0], 0), empty([3, 0], 1), empty([0, 4], 4), empty([0, 4], 1),
    empty([2, 0, 3], 3),
    {name: 'a scalar, shared', xShape: [], C: 1, K: 3, start: -1, step: 1, x: Float32Array.of(0.25),
      c: Float32Array.of(0, 0, 1), dy: Float32Array.of(2)}];
}
