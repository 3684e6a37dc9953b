// Page script of the @deepspline/webgl browser tests, bundled by test-browser/harness.ts.
// Exposes `window.suite`; every check computes its reference independently of the webgl
// kernels: with the cpu rule of @deepspline/core (`linearSplineForwardImpl` /
// `linearSplineGradImpl`, float64 arithmetic) on the same float32 inputs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import * as tfl from '@tensorflow/tfjs-layers';
import {linearSpline, linearSplineForwardImpl, linearSplineGradImpl, setSplineImplementation,
  splineImplementation} from '@deepspline/core';
import {splineActivation} from '@deepspline/layers';
import {reductionPlan} from '@deepspline/webgl';
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
  /** Elements of the webgl result that are -0. */
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

/** Runs the kernels on webgl through the op and tf.grads; returns y, dx, dc as arrays. */
/**
 * `x` as a webgl tensor; with `packed`, as the (packed, lazily unpacked) output of a matMul
 * by the identity, so that the kernels get a packed texture of another shape to read.
 */
function inputTensor(k: Case, packed: boolean): tf.Tensor {
  const x = tf.tensor(k.x, k.xShape, 'float32');
  if (!packed) return x;
  const ch = k.xShape[k.xShape.length - 1];
  const y = tf.tidy(() => tf.reshape(tf.matMul(tf.reshape(x, [-1, ch]), tf.eye(ch)), k.xShape));
  x.dispose();
  return y;
}

function isPacked(t: tf.Tensor): boolean {
  const b = tf.backend() as unknown as {texData: {get(id: object): {isPacked: boolean}}};
  return b.texData.get(t.dataId).isPacked;
}

async function runWebgl(k: Case, packed = false):
    Promise<{y: Float32Array, dx: Float32Array, dc: Float32Array, packed: boolean}> {
  const x = inputTensor(k, packed);
  const wasPacked = isPacked(x);
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
    packed: wasPacked,
  };
  tf.dispose([x, c, dy, y, dx, dc]);
  return out;
}

/** Per-coefficient sum of |dy| over the elements that feed it (the dc tolerance scale). */
function dcScale(k: Case): Float64Array {
  const channels = k.xShape.length === 0 ? 1 : k.xShape[k.xShape.length - 1];
  const perRow = new Float64Array(k.C);
  for (let i = 0; i < k.dy.length; ++i) {
    perRow[k.C === 1 ? 0 : i % channels] += Math.abs(k.dy[i]);
  }
  const s = new Float64Array(k.C * k.K);
  for (let i = 0; i < s.length; ++i) s[i] = perRow[Math.floor(i / k.K)];
  return s;
}

async function check(k: Case, packed = false) {
  const got = await runWebgl(k, packed);
  const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
  const {dx, dc} = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
  return {
    shape: k.xShape, C: k.C, K: k.K, packedInput: got.packed,
    y: compare(got.y, y),
    dx: compare(got.dx, dx),
    dc: compare(got.dc, dc, dcScale(k)),
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
  // the same over 100 elements: the two-stage reduction (blocks of partial sums)
  name: 'dy = -0, two stages', K: 3, start: -1, step: 1, rows: [[1, 2, 4]], shared: true,
  xs: Array.from({length: 100}, (_v, i) => (i % 2 === 0 ? -2 : 0.5)), dyCycle: [-0],
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

async function useWebgl(): Promise<boolean> {
  const ok = await tf.setBackend('webgl');
  await tf.ready();
  return ok && tf.getBackend() === 'webgl';
}

const suite = {
  /**
   * Makes tfjs create a WebGL 1 context (call before anything else in a fresh page): runs
   * the programs through their GLSL ES 1.0 variant.
   */
  forceWebGL1() {
    tf.env().set('WEBGL_VERSION', 1);
  },

  /** WebGL environment facts, and the float precision actually seen through a kernel. */
  async environment() {
    const ok = await useWebgl();
    if (!ok) return {webgl: false};
    const backend = tf.backend() as unknown as {gpgpu: {gl: WebGL2RenderingContext}};
    const gl = backend.gpgpu.gl;
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    const hp = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT)!;
    // identity spline on [-1, 1]: y = x exactly when textures and arithmetic are float32
    const probe = new Float32Array([1 + 2 ** -23, 0.1, -0.7, 1e-30, 3.4e38, 16777217]);
    const y = linearSpline(tf.tensor1d(probe), tf.tensor2d([[-1, 0, 1]]), {start: -1, step: 1});
    const yv = await y.data();
    y.dispose();
    return {
      webgl: true,
      backend: tf.getBackend(),
      implementation: splineImplementation(),
      WEBGL_VERSION: tf.env().getNumber('WEBGL_VERSION'),
      WEBGL_RENDER_FLOAT32_CAPABLE: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
      WEBGL_RENDER_FLOAT32_ENABLED: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
      WEBGL_DOWNLOAD_FLOAT_ENABLED: tf.env().getBool('WEBGL_DOWNLOAD_FLOAT_ENABLED'),
      renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
      highpFloat: {rangeMin: hp.rangeMin, rangeMax: hp.rangeMax, precision: hp.precision},
      identityExact: Array.from(yv).every((v, i) => v === probe[i]),
      identity: Array.from(yv),
    };
  },

  /** The kernels that one call runs on webgl: `fn` is 'forward' or 'backward'. */
  async kernelsUsed(fn: 'forward' | 'backward') {
    await useWebgl();
    const x = tf.randomNormal([8, 3]);
    const c = tf.randomNormal([3, 5]);
    const grid = {start: -1, step: 0.5};
    const info = await tf.profile(() => fn === 'forward' ? linearSpline(x, c, grid) :
      tf.grads((a: tf.Tensor, b: tf.Tensor) => linearSpline(a, b, grid))([x, c]));
    tf.dispose(info.result as tf.Tensor | tf.Tensor[]);
    tf.dispose([x, c]);
    return info.kernelNames;
  },

  /** Parity on random shapes (ranks 0..6, shared and per-channel splines, K = 3..21). */
  async parityRandom(seed: number, quick = false) {
    await useWebgl();
    const r = rng(seed);
    const shapes: Array<[number[], boolean, number]> = [
      [[], true, 3], [[1], false, 3], [[7], true, 4], [[5], false, 21], [[33, 4], false, 21],
      [[33, 4], true, 5], [[200, 3], false, 11], [[3, 5, 6], false, 7], [[2, 3, 4, 5], false, 21],
      [[2, 2, 3, 2, 3], false, 9], [[2, 1, 2, 3, 2, 3], true, 6], [[1000, 2], false, 21],
      [[64, 16], false, 21], [[4096], true, 21], [[9, 17, 3], true, 3],
    ];
    const results = [];
    // quick: the first 11 shapes (every rank, shared and per-channel), no packed inputs
    for (const [shape, shared, K] of quick ? shapes.slice(0, 11) : shapes) {
      results.push(await check(randomCase(r, shape, shared, K)));
    }
    if (quick) return results;
    // x read from packed textures (the usual case after a dense layer)
    for (const [shape, shared, K] of [[[33, 4], false, 21], [[3, 5, 6], false, 7],
      [[2, 3, 4, 5], true, 9], [[257, 3], false, 21]] as Array<[number[], boolean, number]>) {
      results.push(await check(randomCase(r, shape, shared, K), true));
    }
    return results;
  },

  /**
   * Parity on the special values of packages/core/README.md, Semantics (NaN, ±Inf, huge, subnormals, knots).
   * `withHuge: false` drops ±3.4e38, whose float32 intermediate `(x - t_k) dy / step`
   * overflows on the GPU (see README: the one deviation GLSL forces on dcoefficients).
   */
  async paritySpecial(withHuge: boolean) {
    await useWebgl();
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
      const got = await runWebgl(k);
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
    await useWebgl();
    const results = [];
    for (const fx of SPECIAL_FIXTURES) {
      const k = specialCase(fx);
      const got = await runWebgl(k);
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
   * Empty inputs, zero channels included: shapes and values of y, dx and dc on webgl and from
   * the cpu kernel.
   */
  async zeroChannels() {
    await useWebgl();
    const K = 5;
    const results = [];
    for (const [xShape, C] of [[[3, 0], 0], [[3, 0], 1], [[0, 4], 4], [[0, 4], 1], [[2, 0, 3], 3]] as
        Array<[number[], number]>) {
      const x = tf.zeros(xShape);
      const c = tf.ones([C, K]);
      const dy = tf.zeros(xShape);
      const grid = {start: -1, step: 0.5};
      const y = linearSpline(x, c, grid);
      // dy given to tf.grads: tfjs 4.22's webgl Sum fails on a [3, 0] tensor
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
    await useWebgl();
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
      const got = await runWebgl(k);
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

  /** The two-stage dc reduction at sizes around its block boundaries. */
  async parityReduction() {
    await useWebgl();
    const r = rng(7);
    const results = [];
    for (const rows of [64, 65, 255, 256, 257, 4097, 20000]) {
      results.push({rows, plan: reductionPlan(rows),
        ...(await check(randomCase(r, [rows, 2], false, 21)))});
    }
    results.push({rows: 30000, plan: reductionPlan(30000),
      ...(await check(randomCase(r, [30000], true, 21)))});
    return results;
  },

  /** Tensor leaks: numTensors and webgl textures before/after forward+backward calls. */
  async leaks() {
    await useWebgl();
    const x = tf.randomNormal([300, 4]);
    const c = tf.randomNormal([4, 21]);
    const grid = {start: -2, step: 0.2};
    const run = () => {
      const y = linearSpline(x, c, grid);
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(linearSpline(a, b, grid)))([x, c]);
      return Promise.all([y.data(), g[0].data(), g[1].data()]).then(() => tf.dispose([y, ...g]));
    };
    await run();
    const before = tf.memory().numTensors;
    const bytesBefore = (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU;
    for (let i = 0; i < 5; ++i) await run();
    const after = tf.memory().numTensors;
    const bytesAfter = (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU;
    tf.dispose([x, c]);
    return {before, after, bytesBefore, bytesAfter};
  },

  /** Errors of a direct kernel call with bad input (checkSplineArgs runs in the kernel). */
  async badInput() {
    await useWebgl();
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

  /** A small model with spline activations trained with fit on webgl. */
  async train() {
    await useWebgl();
    tf.setBackend('webgl');
    const r = rng(3);
    const n = 256;
    const xs = new Float32Array(2 * n);
    const ys = new Float32Array(n);
    for (let i = 0; i < n; ++i) {
      const a = 2 * r() - 1;
      const b = 2 * r() - 1;
      xs[2 * i] = a;
      xs[2 * i + 1] = b;
      ys[i] = a * a + b * b < 2 / Math.PI ? 1 : 0;     // the "circle" task of examples/twod (lib/data.mjs)
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
