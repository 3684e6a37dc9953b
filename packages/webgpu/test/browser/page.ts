// Page script of the @deepspline/webgpu browser tests, bundled by test-browser/harness.ts.
// Exposes `window.suite`; every check computes its reference independently of the webgpu
// kernels: with the cpu rule of @deepspline/core (`linearSplineForwardImpl` /
// `linearSplineGradImpl`, float64 arithmetic) on the same float32 inputs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {linearSpline, linearSplineForwardImpl, linearSplineGradImpl, setSplineImplementation,
  splineImplementation} from '@deepspline/core';
import {splineActivation} from '@deepspline/layers';
import {reductionPlan} from '@deepspline/webgpu';
import {rng} from '../../../core/test/reference';

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

interface Case {
  xShape: number[];
  C: number;
  K: number;
  start: number;
  step: number;
  x: Float32Array;
  c: Float32Array;
  dy: Float32Array;
}

interface Compare {
  /** Max of |a - b| / max(|b|, 1) over finite reference values. */
  maxRel: number;
  /** Elements whose class (NaN, +Inf, -Inf, finite) differs. */
  classMismatches: number;
  /** Elements where both results are zero with different signs (+0 vs -0). */
  zeroSignMismatches: number;
  /** Elements of the webgpu result that are -0. */
  negativeZeros: number;
  /** First few offending elements. */
  examples: string[];
}

function cls(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite';
}

function show(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

function compare(a: Float32Array, b: Float32Array, scale?: Float64Array): Compare {
  let maxRel = 0;
  let classMismatches = 0;
  let zeroSignMismatches = 0;
  let negativeZeros = 0;
  const examples: string[] = [];
  for (let i = 0; i < b.length; ++i) {
    if (Object.is(a[i], -0)) negativeZeros++;
    if (cls(a[i]) !== cls(b[i])) {
      classMismatches++;
      if (examples.length < 5) examples.push(`[${i}] got ${a[i]}, expected ${b[i]}`);
      continue;
    }
    if (a[i] === 0 && b[i] === 0 && !Object.is(a[i], b[i])) {
      zeroSignMismatches++;
      if (examples.length < 5) examples.push(`[${i}] got ${show(a[i])}, expected ${show(b[i])}`);
      continue;
    }
    if (cls(b[i]) !== 'finite') continue;
    const rel = Math.abs(a[i] - b[i]) / (scale ? Math.max(scale[i], 1e-30) : Math.max(Math.abs(b[i]), 1));
    if (rel > maxRel) maxRel = rel;
  }
  return {maxRel, classMismatches, zeroSignMismatches, negativeZeros, examples};
}

function randomCase(r: () => number, xShape: number[], shared: boolean, K: number): Case {
  const n = xShape.reduce((a, b) => a * b, 1);
  const channels = xShape.length === 0 ? 1 : xShape[xShape.length - 1];
  const C = shared ? 1 : channels;
  // binary-exact grids, so that "exactly on a knot" means the same in float32 and float64
  const step = (1 + Math.floor(16 * r())) / 32;
  const range = step * (K - 1) / 2;
  const start = -range;
  const x = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const p = r();
    // mostly inside the grid, some outside (extrapolation), some exactly on float32 knots
    x[i] = p < 0.8 ? 1.2 * range * (2 * r() - 1) : p < 0.9 ? 4 * range * normal(r) :
      Math.fround(start + Math.floor(r() * K) * step);
  }
  const c = new Float32Array(C * K).map(() => normal(r));
  const dy = new Float32Array(n).map(() => normal(r));
  return {xShape, C, K, start, step, x, c, dy};
}

/**
 * `x` as a webgpu tensor; with `computed`, as the output of a matMul by the identity
 * (reshaped), so that the kernels read a buffer written by another GPU program instead of
 * one uploaded from JavaScript.
 */
function inputTensor(k: Case, computed: boolean): tf.Tensor {
  const x = tf.tensor(k.x, k.xShape, 'float32');
  if (!computed) return x;
  const ch = k.xShape[k.xShape.length - 1];
  const y = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(x, [-1, ch]), tf.eye(ch)), k.xShape));
  x.dispose();
  return y;
}

/** Runs the kernels on webgpu through the op and tf.grads; returns y, dx, dc as arrays. */
async function runWebgpu(k: Case, computed = false):
    Promise<{y: Float32Array, dx: Float32Array, dc: Float32Array}> {
  const x = inputTensor(k, computed);
  const c = tf.tensor2d(k.c, [k.C, k.K]);
  const dy = tf.tensor(k.dy, k.xShape, 'float32');
  const grid = {start: k.start, step: k.step};
  const y = linearSpline(x, c, grid);
  const [dx, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(linearSpline(a, b, grid), dy)))([x, c]);
  const out = {
    y: (await y.data()) as Float32Array,
    dx: (await dx.data()) as Float32Array,
    dc: (await dc.data()) as Float32Array,
  };
  tf.dispose([x, c, dy, y, dx, dc]);
  return out;
}

/**
 * Per-coefficient sum of |dy| over the elements that feed it (the dc tolerance scale); with
 * `weighted`, of |dy| max(1, |f|), `f = (x - t_k) / step` the cpu rule's coordinate in the
 * segment: float32 rounds `g = f dy` to about u |f dy|, which outside the grid (|f| up to
 * several hundred in the random cases) exceeds u |dy| (core's README bounds the fallback's
 * coefficient gradient the same way).
 */
function dcScale(k: Case, weighted = false): Float64Array {
  const channels = k.xShape.length === 0 ? 1 : k.xShape[k.xShape.length - 1];
  const perRow = new Float64Array(k.C);
  for (let i = 0; i < k.dy.length; ++i) {
    let w = 1;
    if (weighted) {
      const u = (k.x[i] - k.start) / k.step;
      const seg = u >= k.K - 2 ? k.K - 2 : (u >= 0 ? Math.floor(u) : 0);
      w = Math.max(1, Math.abs(u - seg));
    }
    perRow[k.C === 1 ? 0 : i % channels] += w * Math.abs(k.dy[i]);
  }
  const s = new Float64Array(k.C * k.K);
  for (let i = 0; i < s.length; ++i) s[i] = perRow[Math.floor(i / k.K)];
  return s;
}

/**
 * Parity of one case: y and dx against max(|b|, 1), dc against the weighted scale of
 * {@link dcScale} (`dc`) and, for comparison with the webgl README, the plain sum of |dy|
 * (`dcPlain`).
 */
async function check(k: Case, computed = false) {
  const got = await runWebgpu(k, computed);
  const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
  const {dx, dc} = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
  return {
    shape: k.xShape, C: k.C, K: k.K, computedInput: computed,
    y: compare(got.y, y),
    dx: compare(got.dx, dx),
    dc: compare(got.dc, dc, dcScale(k, true)),
    dcPlain: compare(got.dc, dc, dcScale(k)),
  };
}

/**
 * Special cases of core's README "Semantics" (the fixtures of core/test/special.test.ts and
 * more): `rows` are the coefficient rows (`C = rows.length`, or a shared spline when
 * `shared`), every input value of `xs` is given to every channel, `dy` cycles through
 * `dyCycle` in element order.
 */
interface SpecialFixture {
  name: string;
  K: number;
  start: number;
  step: number;
  rows: number[][];
  xs: number[];
  dyCycle: number[];
  shared?: boolean;
}

const SPECIAL_FIXTURES: SpecialFixture[] = [{
  // knots -1.5, -0.5, 0.5, 1.5. Row 0: +Inf ends the segment over 0 and starts the next one
  // (segment 0 is finite); row 1: -Inf at the left end only; row 2: NaN inside (segment 2 is
  // finite and flat); row 3: -Inf at the right end; row 4: all finite (control).
  name: 'non-finite coefficients', K: 4, start: -1.5, step: 1,
  rows: [[0, 0, Infinity, 1], [-Infinity, 1, 2, 3], [1, NaN, 2, 2], [3, 2, 1, -Infinity],
    [1, -1, 0.5, 2]],
  xs: [-Infinity, -3, -1.5, -1, -0.5, -0.25, -0, 0, 0.25, 0.5, 1, 1.5, 4, Infinity, NaN],
  dyCycle: [-1, 0.5, -0],
}, {
  // a knot at 0: x = ±0 on it; coefficients -0 on flat segments (IEEE: y = c[k] = -0) and at
  // the left end of sloped ones (IEEE at x = -0: -0 + (-0 - 0) s = -0); slopes ±0 (dx = ±0)
  name: '-0 inputs and coefficients', K: 3, start: -1, step: 1,
  rows: [[1, -0, 1], [-0, -0, -0], [0, -0, 1], [-0, -0, 2], [-1, -0, -0]],
  xs: [-0, 0, -1, 1, -2, 2, -0.5, 0.5, Infinity, -Infinity],
  dyCycle: [-1, 0.5, -0],
}, {
  // dy = -0 everywhere: dc[0] only receives (1 - f) dy = -0 - 0 = -0 (x = -2), dc[2] only
  // f dy = -0 (x = 0.5); the sums must still be +0. 2 elements: one reduction stage.
  name: 'dy = -0, one stage', K: 3, start: -1, step: 1, rows: [[1, 2, 4]], shared: true,
  xs: [-2, 0.5], dyCycle: [-0],
}, {
  // the same over 600 elements: the two-stage reduction (2 blocks of partial sums)
  name: 'dy = -0, two stages', K: 3, start: -1, step: 1, rows: [[1, 2, 4]], shared: true,
  xs: Array.from({length: 600}, (_v, i) => (i % 2 === 0 ? -2 : 0.5)), dyCycle: [-0],
}];

function specialCase(fx: SpecialFixture): Case {
  const C = fx.shared ? 1 : fx.rows.length;
  const channels = fx.shared ? 1 : C;
  const x = new Float32Array(fx.xs.length * channels);
  fx.xs.forEach((v, i) => x.fill(v, i * channels, (i + 1) * channels));
  const dy = Float32Array.from(x, (_v, i) => fx.dyCycle[i % fx.dyCycle.length]);
  return {xShape: fx.shared ? [fx.xs.length] : [fx.xs.length, C], C, K: fx.K, start: fx.start,
    step: fx.step, x, c: Float32Array.from(fx.rows.flat()), dy};
}

function count(a: Float32Array, p: (v: number) => boolean): number {
  let n = 0;
  for (const v of a) n += p(v) ? 1 : 0;
  return n;
}

async function useWebgpu(): Promise<boolean> {
  const ok = await tf.setBackend('webgpu');
  await tf.ready();
  return ok && tf.getBackend() === 'webgpu';
}

/** A random shape of rank 0..6 with at most about 3000 elements, and a random K in 3..101. */
function randomShape(r: () => number): [number[], boolean, number] {
  const rank = Math.floor(7 * r());
  const maxDim = [1, 3000, 60, 14, 7, 5, 4][rank];
  const shape = Array.from({length: rank}, () => 1 + Math.floor(maxDim * r()));
  return [shape, r() < 0.4, 3 + Math.floor(99 * r())];
}

const suite = {
  /** WebGPU environment facts, and the float precision actually seen through a kernel. */
  async environment() {
    const gpu = (navigator as unknown as {gpu?: {requestAdapter(): Promise<unknown>}}).gpu;
    if (gpu == null) return {webgpu: false, secureContext: isSecureContext};
    const ok = await useWebgpu();
    if (!ok) return {webgpu: false, secureContext: isSecureContext};
    const backend = tf.backend() as unknown as {adapterInfo: {vendor: string, architecture: string},
      device: {limits: Record<string, number>}};
    // identity spline on [-1, 1]: y = x exactly when buffers and arithmetic are float32
    const probe = new Float32Array([1 + 2 ** -23, 0.1, -0.7, 1e-30, 3.4e38, 16777217]);
    const y = linearSpline(tf.tensor1d(probe), tf.tensor2d([[-1, 0, 1]]), {start: -1, step: 1});
    const yv = await y.data();
    const sub = linearSpline(tf.tensor1d([1e-40, -1e-45]), tf.tensor2d([[-1, 0, 1]]),
      {start: -1, step: 1});
    const subv = await sub.data();
    tf.dispose([y, sub]);
    return {
      webgpu: true,
      backend: tf.getBackend(),
      implementation: splineImplementation(),
      adapter: {vendor: backend.adapterInfo.vendor, architecture: backend.adapterInfo.architecture},
      maxComputeWorkgroupsPerDimension: backend.device.limits.maxComputeWorkgroupsPerDimension,
      floatPrecision: (tf.backend() as unknown as {floatPrecision(): number}).floatPrecision(),
      identityExact: Array.from(yv).every((v, i) => v === probe[i]),
      identity: Array.from(yv),
      // subnormal inputs through the identity spline: kept, or flushed to zero
      subnormals: Array.from(subv).map(show),
    };
  },

  /** The kernels that one call runs on webgpu: `fn` is 'forward' or 'backward'. */
  async kernelsUsed(fn: 'forward' | 'backward') {
    await useWebgpu();
    const x = tf.randomNormal([8, 3]);
    const c = tf.randomNormal([3, 5]);
    const grid = {start: -1, step: 0.5};
    const info = await tf.profile(() => fn === 'forward' ? linearSpline(x, c, grid) :
      tf.grads((a: tf.Tensor, b: tf.Tensor) => linearSpline(a, b, grid))([x, c]));
    tf.dispose(info.result as tf.Tensor | tf.Tensor[]);
    tf.dispose([x, c]);
    return info.kernelNames;
  },

  /**
   * Parity on random shapes: a fixed list (every rank 0..6, shared and per-channel splines,
   * K from 3 to 101), `draws` random shapes and K ({@link randomShape}), and 4 cases whose
   * `x` is computed on the GPU.
   */
  async parityRandom(seed: number, draws: number) {
    await useWebgpu();
    const r = rng(seed);
    const shapes: Array<[number[], boolean, number]> = [
      [[], true, 3], [[], false, 101], [[1], false, 3], [[7], true, 4], [[5], false, 21],
      [[33, 4], false, 21], [[33, 4], true, 5], [[200, 3], false, 51], [[3, 5, 6], false, 7],
      [[2, 3, 4, 5], false, 101], [[2, 2, 3, 2, 3], false, 9], [[2, 1, 2, 3, 2, 3], true, 6],
      [[3, 2, 2, 3, 2, 4], false, 33], [[1000, 2], false, 21], [[64, 16], false, 101],
      [[4096], true, 21], [[9, 17, 3], true, 3], [[300, 5], true, 101],
    ];
    for (let i = 0; i < draws; ++i) shapes.push(randomShape(r));
    const results = [];
    for (const [shape, shared, K] of shapes) {
      results.push(await check(randomCase(r, shape, shared, K)));
    }
    for (const [shape, shared, K] of [[[33, 4], false, 21], [[3, 5, 6], false, 7],
      [[2, 3, 4, 5], true, 9], [[257, 3], false, 101]] as Array<[number[], boolean, number]>) {
      results.push(await check(randomCase(r, shape, shared, K), true));
    }
    return results;
  },

  /**
   * Parity on the special values of spline-math.md (NaN, ±Inf, huge, subnormals, knots).
   * `withHuge: false` drops ±3.4e38, whose float32 intermediate `(x - t_k) dy / step`
   * overflows on the GPU (see README: the one deviation float32 forces on dcoefficients).
   */
  async paritySpecial(withHuge: boolean) {
    await useWebgpu();
    const specials = [NaN, Infinity, -Infinity, 1e-40, -1e-45, 0, -0,
      -2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2, -2.25, 2.25, 1e30, -1e30, 0.75, -1.75, 1e-7,
      ...(withHuge ? [3.4e38, -3.4e38] : [])];
    const n = specials.length;
    const x = Float32Array.from(specials);
    const results = [];
    // K = 9 on [-2, 2] (step 0.5, binary-exact knots); two channels: one with flat end
    // segments (the limit at ±Inf is the end coefficient), one with non-zero end slopes.
    const c = Float32Array.from([1, 1, 0.5, -0.25, 0, 0.75, 2, -1, -1,
      -3, -1, 0, 0.5, 0.25, 0, 1, 2.5, 4]);
    for (const [C, cs] of [[2, c], [1, c.slice(0, 9)], [1, c.slice(9)]] as Array<[number, Float32Array]>) {
      const xs = C === 2 ? Float32Array.from(specials.flatMap((v) => [v, v])) : x;
      const shape = C === 2 ? [n, 2] : [n];
      const dy = new Float32Array(xs.length).map((_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? -0.5 : 2));
      const k: Case = {xShape: shape, C, K: 9, start: -2, step: 0.5, x: xs, c: cs, dy};
      const got = await runWebgpu(k);
      const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
      const {dx, dc} = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
      results.push({
        C, y: compare(got.y, y), dx: compare(got.dx, dx), dc: compare(got.dc, dc, dcScale(k)),
        got: {y: Array.from(got.y).map(String), dc: Array.from(got.dc).map(String)},
        expected: {y: Array.from(y).map(String), dc: Array.from(dc).map(String)},
      });
    }
    return results;
  },

  /**
   * The special cases of core's README "Semantics" against the cpu kernel: non-finite
   * coefficients (y = dx = NaN on the segments that use them), -0 (y and dc never -0, dx with
   * IEEE's sign). Also counts what the reference holds, so that a test can tell the fixtures
   * exercise the rules.
   */
  async specialCases() {
    await useWebgpu();
    const results = [];
    for (const fx of SPECIAL_FIXTURES) {
      const k = specialCase(fx);
      const got = await runWebgpu(k);
      const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
      const {dx, dc} = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
      results.push({
        name: fx.name, shape: k.xShape, C: k.C, K: k.K,
        y: compare(got.y, y), dx: compare(got.dx, dx), dc: compare(got.dc, dc, dcScale(k)),
        reference: {nanY: count(y, Number.isNaN), nanDx: count(dx, Number.isNaN),
          finiteY: count(y, Number.isFinite), negativeZeroDx: count(dx, (v) => Object.is(v, -0)),
          positiveZeroDx: count(dx, (v) => Object.is(v, 0)), zeroY: count(y, (v) => v === 0),
          zeroDc: count(dc, (v) => v === 0)},
      });
    }
    return results;
  },

  /**
   * Empty inputs, zero channels included: shapes and values of y, dx and dc on webgpu and from
   * the cpu kernel.
   */
  async zeroChannels() {
    await useWebgpu();
    const K = 5;
    const results = [];
    for (const [xShape, C] of [[[3, 0], 0], [[3, 0], 1], [[0, 4], 4], [[0, 4], 1], [[2, 0, 3], 3]] as
        Array<[number[], number]>) {
      const x = tf.zeros(xShape);
      const c = tf.ones([C, K]);
      const dy = tf.zeros(xShape);
      const grid = {start: -1, step: 0.5};
      const y = linearSpline(x, c, grid);
      // dy given to tf.grads, as on webgl (whose Sum fails on a [3, 0] tensor)
      const [dx, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor) => linearSpline(a, b, grid))([x, c], dy);
      const expected = linearSplineGradImpl(new Float32Array(0), new Float32Array(0),
        new Float32Array(C * K).fill(1), C, K, grid.start, grid.step);
      results.push({xShape, C,
        got: {y: y.shape, dx: dx.shape, dc: dc.shape, dcValues: Array.from(await dc.data()).map(show),
          yLength: (await y.data()).length, dxLength: (await dx.data()).length},
        expected: {dcValues: Array.from(expected.dc).map(show)}});
      tf.dispose([x, c, dy, y, dx, dc]);
    }
    return results;
  },

  /**
   * Forward values on grids far from the origin (`|start| / step` up to 3e6, steps that are
   * not binary fractions) against the cpu kernel, measured against the README's bound
   * `2u |y| + u (9 (|f| + 1) + 6 |start| / step + 9 k) D` (`u = 2^-24`, `k` and `f` the cpu's
   * segment and coordinate, `D` the largest `|c[j+1] - c[j]|` of that segment and its
   * neighbours). Returns per grid the largest error over the bound, over `D` and over
   * `max(|y|, 1)` (the parity tests' measure), and the coefficient gradient's largest error
   * over `sum |dy|` with the README's knot term for it, `2u (2 |start| / step + 3 (K - 2))`.
   */
  async farFromOrigin(seed: number) {
    await useWebgpu();
    const r = rng(seed);
    const u = 2 ** -24;
    const K = 21;
    const results = [];
    // the last two grids are binary-exact (every knot a float32): no knot error at any offset
    for (const [start, step] of [[-1, 0.1], [-10, 0.1], [-100.3, 0.1], [1234.5, 0.1],
      [-1e4, 0.7], [3e4, 0.03], [-2e6, 1.3], [1e6, 1 / 3], [1e5, 0.5], [-3e6, 0.25]]) {
      const n = 3000;
      const x = new Float32Array(n);
      for (let i = 0; i < n; ++i) {
        const p = r();
        const j = Math.floor(r() * K);
        // inside, a little outside, and next to the (float64) knots, where segments may differ
        x[i] = p < 0.6 ? start + (K - 1) * step * (1.2 * r() - 0.1) :
          start + j * step * (1 + (p < 0.8 ? 0 : 1e-6 * (2 * r() - 1)));
      }
      const c = new Float32Array(K).map(() => normal(r));
      const k: Case = {xShape: [n], C: 1, K, start, step, x, c, dy: new Float32Array(n).fill(1)};
      const got = await runWebgpu(k);
      const y = linearSplineForwardImpl(x, c, 1, K, start, step);
      let ratio = 0;
      let overD = 0;
      let rel = 0;
      for (let i = 0; i < n; ++i) {
        const uu = (x[i] - start) / step;
        const seg = uu >= K - 2 ? K - 2 : (uu >= 0 ? Math.floor(uu) : 0);
        const f = uu - seg;
        let D = 0;
        for (let j = Math.max(seg - 1, 0); j <= Math.min(seg + 1, K - 2); ++j) {
          D = Math.max(D, Math.abs(c[j + 1] - c[j]));
        }
        const err = Math.abs(got.y[i] - y[i]);
        const bound = 2 * u * Math.abs(y[i]) +
          u * (9 * (Math.abs(f) + 1) + 6 * Math.abs(start) / step + 9 * seg) * D;
        ratio = Math.max(ratio, err / bound);
        overD = Math.max(overD, err / D);
        rel = Math.max(rel, err / Math.max(Math.abs(y[i]), 1));
      }
      // dc: the same knot error in g = (x - t_k) dy / step; sum |dy| = n (dy = 1)
      const {dc} = linearSplineGradImpl(k.dy, x, c, 1, K, start, step);
      let dcErr = 0;
      for (let j = 0; j < K; ++j) dcErr = Math.max(dcErr, Math.abs(got.dc[j] - dc[j]) / n);
      results.push({start, step, startOverStep: Math.abs(start) / step, errOverBound: ratio,
        errOverD: overD, errOverMaxAbsY1: rel, dcErrOverSumAbsDy: dcErr,
        dcKnotTerm: 2 * u * (2 * Math.abs(start) / step + 3 * (K - 2))});
    }
    return results;
  },

  /**
   * Inputs exactly on the float32 knots `t_k = fround(start + fround(k * step))` of grids that
   * are not binary fractions, and one float32 ulp below them: the segment (read from `dx`, the
   * slopes are distinct) must be `k` on the knot and `k - 1` below it, as the float32 knots
   * order them. `floorMisses` counts the inputs where `floor((x - start) / step)` in float32
   * arithmetic alone gives another segment (the knot check after the division corrects them).
   */
  async knotSegments() {
    await useWebgpu();
    const f = Math.fround;
    const bits = new Uint32Array(1);
    const float = new Float32Array(bits.buffer);
    const below = (v: number) => {
      float[0] = v;
      bits[0] += v > 0 ? -1 : 1;
      return float[0];
    };
    const K = 201;
    const c = Float32Array.from({length: K}, (_v, j) => j * j / 64);
    const results = [];
    for (const [start0, step0] of [[-1, 0.1], [-2.5, 0.3], [-10, 0.7], [3, 1 / 3], [-1, 0.03],
      [-7.3, 0.13]]) {
      const start = f(start0);
      const step = f(step0);
      const xs: number[] = [];
      const want: number[] = [];
      let floorMisses = 0;
      for (let k = 1; k <= K - 2; ++k) {
        const t = f(start + f(k * step));
        if (t === 0) continue;  // below() of a zero is not one ulp down
        for (const [x, seg] of [[t, k], [below(t), k - 1]]) {
          xs.push(x);
          want.push(seg);
          if (Math.floor(f(f(x - start) / step)) !== seg) floorMisses++;
        }
      }
      const n = xs.length;
      const k: Case = {xShape: [n], C: 1, K, start, step, x: Float32Array.from(xs), c,
        dy: new Float32Array(n).fill(1)};
      const got = await runWebgpu(k);
      let wrongSegment = 0;
      const examples: string[] = [];
      for (let i = 0; i < n; ++i) {
        let best = 0;
        for (let j = 1; j < K - 1; ++j) {
          const sj = (c[j + 1] - c[j]) / step;
          if (Math.abs(got.dx[i] - sj) < Math.abs(got.dx[i] - (c[best + 1] - c[best]) / step)) best = j;
        }
        if (best !== want[i]) {
          wrongSegment++;
          if (examples.length < 3) examples.push(`x = ${xs[i]}: segment ${best}, expected ${want[i]}`);
        }
      }
      results.push({start: start0, step: step0, inputs: n, floorMisses, wrongSegment, examples});
    }
    return results;
  },

  /**
   * Dispatches over 65535 workgroups, which tfjs folds into two dimensions (idle workgroups at
   * the end): the elementwise programs on 2^22 + 1 elements (65537 workgroups of 64), and
   * the per-channel coefficient gradient on as many channels of one row (one thread each).
   */
  async parityLargeDispatch() {
    await useWebgpu();
    const r = rng(11);
    return [await check(randomCase(r, [2 ** 22 + 1], true, 21)),
      await check(randomCase(r, [1, 2 ** 22 + 1], false, 3))];
  },

  /**
   * The dc reduction at sizes around its plan's boundaries (K = 21: a thread adds
   * max(42, ceil(sqrt(rows / lanes))) rows; per-channel: 1 lane, one block up to 42 rows and
   * sqrt above 1764; shared: 64 lanes, one block up to 2688 rows), per-channel and shared.
   */
  async parityReduction() {
    await useWebgpu();
    const r = rng(7);
    const results = [];
    for (const rows of [1, 2, 42, 43, 1764, 1765, 4097, 20000]) {
      results.push({rows, plan: reductionPlan(rows, 2, 21),
        ...(await check(randomCase(r, [rows, 2], false, 21)))});
    }
    for (const rows of [2688, 2689, 30000, 1000000]) {
      results.push({rows, plan: reductionPlan(rows, 1, 21),
        ...(await check(randomCase(r, [rows], true, 21)))});
    }
    return results;
  },

  /**
   * Tensor leaks: numTensors and webgpu buffer bytes before/after forward+backward calls, on
   * one-stage and two-stage reductions (per-channel and shared: `blocks` of each plan).
   */
  async leaks() {
    await useWebgpu();
    const grid = {start: -2, step: 0.2};
    const inputs = [[[40, 4], [4, 21]], [[4000, 4], [4, 21]], [[20000], [1, 21]]].map(
      ([xShape, cShape]) => ({x: tf.randomNormal(xShape), c: tf.randomNormal(cShape)}));
    const run = () => Promise.all(inputs.map(({x, c}) => {
      const y = linearSpline(x, c, grid);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(linearSpline(a, b, grid)))([x, c]);
      return Promise.all([y.data(), g[0].data(), g[1].data()]).then(() => tf.dispose([y, ...g]));
    }));
    await run();
    const before = tf.memory().numTensors;
    const bytesBefore = (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU;
    for (let i = 0; i < 5; ++i) await run();
    const after = tf.memory().numTensors;
    const bytesAfter = (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU;
    tf.dispose(inputs.flatMap(({x, c}) => [x, c]));
    const blocks = [reductionPlan(40, 4, 21), reductionPlan(4000, 4, 21),
      reductionPlan(20000, 1, 21)].map((plan) => plan.blocks);
    return {before, after, bytesBefore, bytesAfter, blocks};
  },

  /** Errors of a direct kernel call with bad input (checkSplineArgs runs in the kernel). */
  async badInput() {
    await useWebgpu();
    const messages: string[] = [];
    const x = tf.zeros([4, 3]);
    for (const [c, attrs] of [[tf.zeros([2, 5]), {start: -1, step: 0.5}],
      [tf.zeros([3, 2]), {start: -1, step: 0.5}], [tf.zeros([3, 5]), {start: -1, step: 0}],
      [tf.zeros([3, 5], 'int32'), {start: -1, step: 0.5}]] as Array<[tf.Tensor, {start: number, step: number}]>) {
      try {
        tf.engine().runKernel('LinearSpline', {x, coefficients: c}, attrs);
        messages.push('no error');
      } catch (e) {
        messages.push(String((e as Error).message));
      }
      c.dispose();
    }
    x.dispose();
    return messages;
  },

  /** A small model with spline activations trained with fit on webgpu. */
  async train() {
    await useWebgpu();
    const r = rng(3);
    const n = 256;
    const xs = new Float32Array(2 * n);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; ++i) {
      const a = 2 * r() - 1;
      const b = 2 * r() - 1;
      xs[2 * i] = a;
      xs[2 * i + 1] = b;
      ys[i] = a * a + b * b < 2 / Math.PI ? 1 : 0;     // the "circle" task of spline-math.md
    }
    const x = tf.tensor2d(xs, [n, 2]);
    const y = tf.tensor2d(ys, [n, 1]);
    const model = tfl.sequential();
    model.add(tfl.layers.dense({units: 8, inputShape: [2], useBias: false,
      kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}));
    model.add(splineActivation({size: 21, range: 1}));
    model.add(tfl.layers.dense({units: 8, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}));
    model.add(splineActivation({size: 21, range: 1}));
    model.add(tfl.layers.dense({units: 1, activation: 'sigmoid',
      kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}));
    model.compile({optimizer: tf.train.adam(0.02), loss: 'binaryCrossentropy'});
    const implementation = splineImplementation();
    const before = tf.memory().numTensors;
    const h = await model.fit(x, y, {epochs: 20, batchSize: 32, shuffle: false, verbose: 0});
    const losses = h.history.loss as number[];
    // after the warm-up fit (optimizer slots exist), one more epoch must not leak
    const mid = tf.memory().numTensors;
    await model.fit(x, y, {epochs: 1, batchSize: 32, shuffle: false, verbose: 0});
    const end = tf.memory().numTensors;
    const pred = model.predict(x) as tf.Tensor;
    const p = await pred.data();
    let correct = 0;
    for (let i = 0; i < n; ++i) correct += (p[i] > 0.5 ? 1 : 0) === ys[i] ? 1 : 0;
    tf.dispose([x, y, pred]);
    model.dispose();
    return {backend: tf.getBackend(), implementation, losses, accuracy: correct / n,
      tensors: {before, mid, end}};
  },
};

setSplineImplementation(null);
(window as unknown as {suite: typeof suite}).suite = suite;
(window as unknown as {tf: typeof tf}).tf = tf;
