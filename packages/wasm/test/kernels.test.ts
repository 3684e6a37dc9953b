/**
 * The wasm kernels (both binaries) against the cpu reference (`linearSplineForwardImpl` /
 * `linearSplineGradImpl`, the JavaScript code of the cpu kernels) on random shapes and on the
 * special values of the Semantics section of packages/core/README.md.
 */
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad, linearSpline, linearSplineForwardImpl,
  linearSplineGradImpl, setSplineImplementation, splineImplementation} from '@deepspline/core';
import {setWasmBinary, simdSupported, wasmBinary, wasmKernelInfo} from '@deepspline/wasm';
import type {WasmBinary} from '@deepspline/wasm';
import {checkTableBytes} from '../src/kernels';
import {expectClose, rng, sameBits, useWasm} from './helpers';

const warnSpy = jest.spyOn(console, 'warn');
beforeAll(useWasm);
afterEach(() => setWasmBinary(null));

const BINARIES: WasmBinary[] = ['simd', 'scalar'];

test('the engine has SIMD and picks the simd binary by default; kernels are registered', () => {
  expect(simdSupported()).toBe(true);  // node 20 / V8
  expect(wasmBinary()).toBe('simd');
  expect(wasmKernelInfo()).toEqual({registered: true, binary: 'simd', simd: true, sharedMemory: false});
  expect(splineImplementation('wasm')).toBe('kernel');
  expect(tf.getKernel(LinearSpline, 'wasm')).toBeDefined();
  expect(tf.getKernel(LinearSplineGrad, 'wasm')).toBeDefined();
});

test('setWasmBinary rejects bad values', () => {
  expect(() => setWasmBinary('avx' as WasmBinary)).toThrow(
    `setWasmBinary: expected 'simd', 'scalar' or null, got "avx"`);
});

interface Case {
  shape: number[];
  C: number;
  K: number;
  start: number;
  step: number;
  x: Float32Array;
  c: Float32Array;
  dy: Float32Array;
}

/** Runs forward and backward through the engine on the wasm backend with one binary. */
function runWasm(binary: WasmBinary, k: Case) {
  setWasmBinary(binary);
  return tf.tidy(() => {
    const x = tf.tensor(k.x, k.shape, 'float32');
    const c = tf.tensor2d(k.c, [k.C, k.K], 'float32');
    const dy = tf.tensor(k.dy, k.shape, 'float32');
    const y = tf.engine().runKernel(LinearSpline, {x, coefficients: c},
      {start: k.start, step: k.step}) as tf.Tensor;
    const [dx, dc] = tf.engine().runKernel(LinearSplineGrad, {dy, x, coefficients: c},
      {start: k.start, step: k.step}) as tf.Tensor[];
    return {y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array,
      dc: dc.dataSync() as Float32Array, dcShape: dc.shape};
  });
}

function check(k: Case, binary: WasmBinary) {
  const got = runWasm(binary, k);
  const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
  const {dx, dc} = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
  expectClose(got.y, y, 1e-6, 'y');
  expectClose(got.dx, dx, 1e-6, 'dx');
  expect(got.dcShape).toEqual([k.C, k.K]);
  // dc: float summation order may differ in principle, so the tolerance scales with the sum of
  // |contributions| per channel (1e-6 * sum |dy| of the channel).
  const channels = k.shape.length ? k.shape[k.shape.length - 1] : 1;
  const sumAbs = new Float64Array(k.C);
  for (let i = 0; i < k.dy.length; ++i) {
    const ch = k.C === 1 ? 0 : i % channels;
    if (Number.isFinite(k.dy[i])) sumAbs[ch] += Math.abs(k.dy[i]);
  }
  const floor = Array.from(dc, (_, j) => sumAbs[Math.floor(j / k.K)] + 1e-30);
  expectClose(got.dc, dc, 1e-6, 'dc', floor);
  return {got, y, dx, dc};
}

function randomCase(seed: number): Case {
  const r = rng(seed);
  const rank = 2 + Math.floor(r() * 4);                 // 2..5
  const channels = 1 + Math.floor(r() * 512);           // 1..512
  const K = 3 + Math.floor(r() * 99);                   // 3..101
  const shared = r() < 0.3;
  const C = shared ? 1 : channels;
  const shape: number[] = [];
  let rest = Math.max(1, Math.floor(6000 / channels));  // moderate sizes
  for (let a = 0; a < rank - 1; ++a) {
    const d = 1 + Math.floor(r() * Math.min(rest, 7));
    shape.push(d);
    rest = Math.max(1, Math.floor(rest / d));
  }
  shape.push(channels);
  const n = shape.reduce((a, b) => a * b, 1);
  const range = 0.5 + r() * 3;
  const step = 2 * range / (K - 1);
  const start = -range + (r() - 0.5) * 0.2;
  const x = Float32Array.from({length: n}, () => (r() * 2 - 1) * range * 1.5);
  // Some values exactly on knots.
  for (let i = 0; i < n; i += 7) x[i] = start + Math.floor(r() * K) * step;
  const c = Float32Array.from({length: C * K}, () => r() * 2 - 1);
  const dy = Float32Array.from({length: n}, () => r() * 2 - 1);
  return {shape, C, K, start, step, x, c, dy};
}

/** Non-finite coefficients and signed zeros, with every kind of input (README "Semantics"). */
function specialCase(): Case {
  const c = Float32Array.from([0, 0, Infinity, 1, -Infinity, 1, 2, 3, 1, NaN, 2, 2, 3, 2, 1, -Infinity,
    -0, -0, -0, 1]);
  const xs = [-Infinity, -3, -1.5, -1, -0.5, -0.25, -0, 0, 0.25, 0.5, 1, 1.5, 4, Infinity, NaN];
  const C = 5;
  const x = new Float32Array(xs.length * C);
  xs.forEach((v, i) => x.fill(v, i * C, i * C + C));
  return {shape: [xs.length, C], C, K: 4, start: -1.5, step: 1, x, c,
    dy: Float32Array.from(x, (_, i) => (i % 3 === 0 ? -1 : 0.5))};
}

/** The segment of the README's rule for value v (NaN: 0). */
function segmentOf(k: Case, v: number): number {
  const u = (v - k.start) / k.step;
  return Number.isNaN(u) ? 0 : Math.min(Math.max(Math.floor(u), 0), k.K - 2);
}

describe.each(BINARIES)('%s binary', (binary) => {
  test.each(Array.from({length: 24}, (_, i) => [i + 1]))('random case %i equals the cpu kernel', (seed) => {
    const k = randomCase(seed);
    check(k, binary);
  });

  test('C = 512, K = 101, per channel and shared', () => {
    for (const C of [512, 1]) {
      const r = rng(C);
      const shape = [3, 2, 512];
      const K = 101;
      const step = 0.04;
      const start = -2;
      const n = 3 * 2 * 512;
      const k: Case = {shape, C, K, start, step,
        x: Float32Array.from({length: n}, () => (r() * 2 - 1) * 2.5),
        c: Float32Array.from({length: C * K}, () => r() * 2 - 1),
        dy: Float32Array.from({length: n}, () => r() * 2 - 1)};
      check(k, binary);
    }
  });

  test('special values: NaN, ±Inf, ±3.4e38, subnormals, knots, far outside', () => {
    const specials = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-40, -1e-40, 1.4e-45, 0, -0,
      -1, -0.5, 0, 0.5, 1, 1e6, -1e6, 1e30, -1e30, 0.999999, 1.000001, -1.0000001, 0.25];
    const K = 5;
    const start = -1;
    const step = 0.5;
    // Per-channel splines incl. flat end segments (Inf -> end value) and a flat middle.
    const coeffs = [
      [0, 0, 0, 1, 2],     // relu-like, flat left end
      [1, 0.5, 0, 0.5, 1], // abs-like
      [2, 1, 1, 1, 1],     // flat right end
      [-1, 3e38, -3e38, 3e38, 1], // huge coefficients
    ];
    const C = coeffs.length;
    const x = new Float32Array(specials.length * C);
    for (let i = 0; i < specials.length; ++i) for (let ch = 0; ch < C; ++ch) x[i * C + ch] = specials[i];
    const dy = Float32Array.from(x, (_, i) => (i % 3) - 1 + 0.25);
    const c = Float32Array.from(coeffs.flat());
    const res = check({shape: [specials.length, C], C, K, start, step, x, c, dy}, binary);
    expect(sameBits(res.got.y, res.y)).toBe(true);
    expect(sameBits(res.got.dx, res.dx)).toBe(true);
    // Spot checks of the rule itself (packages/core/README.md, Semantics): NaN in -> NaN out and NaN dx.
    expect(Number.isNaN(res.got.y[0])).toBe(true);
    expect(Number.isNaN(res.got.dx[0])).toBe(true);
    expect(res.got.y[1 * C + 0]).toBe(Infinity);     // relu-like at +Inf
    expect(res.got.y[2 * C + 0]).toBe(0);            // flat left end at -Inf
    expect(res.got.y[1 * C + 2]).toBe(1);            // flat right end at +Inf
    expect(res.got.y[2 * C + 1]).toBe(Infinity);     // abs-like at -Inf
    // Shared spline over the same values, in a rank-3 tensor.
    const xs = Float32Array.from(specials);
    check({shape: [1, specials.length, 1], C: 1, K, start, step, x: xs, c: Float32Array.from(coeffs[0]),
      dy: Float32Array.from(xs, () => 1)}, binary);
  });

  test('forward and dx are bitwise identical to the cpu kernel (same float64 operations)', () => {
    for (const seed of [101, 102, 103]) {
      const k = randomCase(seed);
      const {got, y, dx, dc} = check(k, binary);
      expect(sameBits(got.y, y)).toBe(true);
      expect(sameBits(got.dx, dx)).toBe(true);
      expect(sameBits(got.dc, dc)).toBe(true);  // same summation order too
    }
  });

  test('bitwise equal at, and one float32 ulp around, every knot, for awkward steps', () => {
    // The last grid makes (x - start) * (1 / step) fall just below the integer (x - start) / step
    // at its knots: the kernels must not take the shortcut there.
    const tricky = 4.673004150390625e-5;
    expect([(4 * tricky) / tricky, Math.floor((4 * tricky) * (1 / tricky))]).toEqual([4, 3]);
    for (const [start, step, K] of [[-1, 0.1, 21], [-2.5, 1 / 3, 16], [0.3, 0.7, 5], [-1e-3, 1e-4, 101],
      [-300, 7.3, 83], [-3 * 4.673004150390625e-5, 4.673004150390625e-5, 21]]) {
      const xs: number[] = [];
      const f = new Float32Array(1);
      const u = new Uint32Array(f.buffer);
      for (let k = -1; k <= K; ++k) {
        f[0] = start + k * step;
        const bits = u[0];
        for (const d of [-2, -1, 0, 1, 2]) { u[0] = bits + d; xs.push(f[0]); }
      }
      while (xs.length % 4) xs.push(0);
      const C = 4;
      const r = rng(K);
      const k: Case = {shape: [xs.length / C, C], C, K, start, step, x: Float32Array.from(xs),
        c: Float32Array.from({length: C * K}, () => r() * 2 - 1),
        dy: Float32Array.from(xs, () => r() * 2 - 1)};
      const {got, y, dx, dc} = check(k, binary);
      expect(sameBits(got.y, y)).toBe(true);
      expect(sameBits(got.dx, dx)).toBe(true);
      expect(sameBits(got.dc, dc)).toBe(true);
      // Shared spline over the same values.
      const ks: Case = {...k, C: 1, c: k.c.slice(0, K)};
      const res = check(ks, binary);
      expect(sameBits(res.got.y, res.y)).toBe(true);
      expect(sameBits(res.got.dx, res.dx)).toBe(true);
    }
  });

  test('bitwise equal on every loop path: 1..19 channels, shared, extreme grids, knots nearby', () => {
    // Channel counts cover the 8-lane loop, the 4-lane step and the scalar tail; the grids cover
    // the float32 index estimate, grids where it is disabled (|start| / step >= 2^20, step
    // < 2^-60) and one where 1/step is subnormal (scalar loop only).
    const grids: [number, number, number][] = [[-2, 0.2, 21], [-2, 0.04, 101], [3e6, 1, 9],
      [-1e-19, 1e-20, 11], [-3e38, 1e308, 7], [-0.75, 0.25, 7]];
    for (const [start, step, K] of grids) {
      for (let channels = 1; channels <= 19; channels += (channels < 9 ? 1 : 5)) {
        const r = rng(channels * 31 + K);
        const rows = 5;
        const n = rows * channels;
        const x = Float32Array.from({length: n}, (_, i) => {
          const knot = start + Math.floor(r() * K) * step;
          // A third on or next to knots, some ±0 (a knot of symmetric odd grids), the rest spread
          // over and beyond the grid.
          if (i % 5 === 1) return i % 2 ? 0 : -0;
          return i % 3 === 0 ? knot * (1 + (r() - 0.5) * 1e-6) : start + (r() * 1.4 - 0.2) * (K - 1) * step;
        });
        for (const C of [channels, 1]) {
          const k: Case = {shape: [rows, channels], C, K, start, step, x,
            c: Float32Array.from({length: C * K}, () => r() * 2 - 1),
            dy: Float32Array.from({length: n}, () => r() * 2 - 1)};
          const {got, y, dx, dc} = check(k, binary);
          const where = `start ${start} step ${step} K ${K} channels ${channels} C ${C}`;
          expect([where, sameBits(got.y, y), sameBits(got.dx, dx), sameBits(got.dc, dc)])
            .toEqual([where, true, true, true]);
        }
      }
    }
  });

  test('flat segments: a -0 coefficient gives +0 (the cpu rule), Inf gives the end value', () => {
    const K = 4;
    // Rows: flat everywhere at -0; flat at -0 then rising; flat at +0; flat at 2 with a -0 knot.
    const c = Float32Array.from([-0, -0, -0, -0, -0, -0, 1, 2, 0, 0, 0, 0, 2, 2, -0, -0]);
    const vals = [-3, -1, -0.5, 0, 0.5, 1, 3, Infinity, -Infinity, NaN, 1e30, -1e-40];
    const x = new Float32Array(vals.length * 4);
    vals.forEach((v, i) => x.fill(v, i * 4, i * 4 + 4));
    const k: Case = {shape: [vals.length, 4], C: 4, K, start: -1, step: 1, x, c,
      dy: Float32Array.from(x, (_, i) => (i % 5) - 2)};
    const {got, y, dx} = check(k, binary);
    expect(sameBits(got.y, y)).toBe(true);
    expect(sameBits(got.dx, dx)).toBe(true);
    expect(Object.is(got.y[0], 0)).toBe(true);  // x = -3 on the -0 flat spline: +0, as the cpu kernel
  });

  test('non-finite coefficients: NaN on their segments (also where a + x s gave ±Inf), cpu bits', () => {
    // knots -1.5, -0.5, 0.5, 1.5; row 0's segment over 0 ends at +Inf, with the sign of x and
    // of its knot such that the table's a + x s was +Inf at x = 0.25.
    const k = specialCase();
    const {got, y, dx} = check(k, binary);
    expect(sameBits(got.y, y)).toBe(true);
    expect(sameBits(got.dx, dx)).toBe(true);
    for (let i = 0; i < k.x.length; ++i) {
      const row = i % k.C;
      const seg = segmentOf(k, k.x[i]);
      const finite = Number.isFinite(k.c[row * k.K + seg]) && Number.isFinite(k.c[row * k.K + seg + 1]);
      expect([i, Number.isNaN(got.y[i]), Number.isNaN(got.dx[i])]).toEqual(
        [i, !finite || Number.isNaN(k.x[i]), !finite || Number.isNaN(k.x[i])]);
    }
  });

  test('size-0 tensors', () => {
    setWasmBinary(binary);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.zeros([0, 3]);
      const c = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
      const y = tf.engine().runKernel(LinearSpline, {x, coefficients: c}, {start: -1, step: 1}) as tf.Tensor;
      expect(y.shape).toEqual([0, 3]);
      const [dx, dc] = tf.engine().runKernel(LinearSplineGrad, {dy: x, x, coefficients: c},
        {start: -1, step: 1}) as tf.Tensor[];
      expect(dx.shape).toEqual([0, 3]);
      expect(Array.from(dc.dataSync())).toEqual(new Array(9).fill(0));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a scalar x with a shared spline', () => {
    check({shape: [], C: 1, K: 3, start: -1, step: 1, x: Float32Array.of(0.25),
      c: Float32Array.of(0, 0, 1), dy: Float32Array.of(2)}, binary);
  });
});

describe('through the op and its gradient', () => {
  test('linearSpline uses the kernel and its gradient equals the cpu backend\'s', async () => {
    const r = rng(7);
    const xv = Float32Array.from({length: 64 * 16}, () => r() * 4 - 2);
    const cv = Float32Array.from({length: 16 * 9}, () => r() * 2 - 1);
    const run = () => tf.tidy(() => {
      const x = tf.tensor2d(xv, [64, 16]);
      const c = tf.tensor2d(cv, [16, 9]);
      const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linearSpline(a, b, {start: -2, step: 0.5}), a));
      const {value, grads} = tf.valueAndGrads(f)([x, c]);
      return [value.dataSync()[0], grads[0].dataSync(), grads[1].dataSync()] as const;
    });
    expect(splineImplementation()).toBe('kernel');
    const wasm = run();
    await tf.setBackend('cpu');
    const cpu = run();
    await useWasm();
    expectClose([wasm[0]], [cpu[0]], 1e-6, 'value');
    expectClose(wasm[1] as Float32Array, cpu[1] as Float32Array, 1e-6, 'dx', 1e-3);
    expectClose(wasm[2] as Float32Array, cpu[2] as Float32Array, 1e-5, 'dc', 1);
  });

  test('bad input gets the same clear errors as the cpu kernel', () => {
    const x = tf.tensor2d([[0.5, -0.5]]);
    const c3 = tf.zeros([3, 5]);
    const ci = tf.tensor2d([[0, 1, 2]], [1, 3], 'int32');
    expect(() => tf.engine().runKernel(LinearSpline, {x, coefficients: c3}, {start: -1, step: 1}))
      .toThrow(/coefficients of shape \[3,5\] do not match x of shape \[1,2\]/);
    expect(() => tf.engine().runKernel(LinearSpline, {x, coefficients: ci}, {start: -1, step: 1}))
      .toThrow(/expected coefficients to be a float32 tensor, got dtype "int32"/);
    const c = tf.zeros([2, 3]);
    expect(() => tf.engine().runKernel(LinearSpline, {x, coefficients: c}, {start: -1, step: 0}))
      .toThrow(/expected step > 0, got 0/);
    expect(() => tf.engine().runKernel(LinearSplineGrad, {dy: tf.zeros([2, 2]), x, coefficients: c},
      {start: -1, step: 1})).toThrow('linearSpline gradient: expected dy of shape [1,2], got [2,2]');
    tf.dispose([x, c3, ci, c]);
  });

  test('coefficients whose table would not fit 32-bit offsets are refused before allocating', () => {
    expect(() => checkTableBytes(256, 101, 32)).not.toThrow();
    expect(() => checkTableBytes(70000, 1000, 32)).toThrow('@deepspline/wasm: expected coefficients ' +
      'whose table (32 bytes x 70000 splines x 999 segments) fits in 2 GiB, got 70000 x 1000 ' +
      'coefficients (2237760000 bytes)');
    expect(() => checkTableBytes(70000, 1000, 16)).not.toThrow();
  });

  test('no tensor leaks (kernel, gradient, both binaries) and scratch memory is freed', () => {
    const x = tf.randomUniform([32, 8], -3, 3, 'float32', 3);
    const c = tf.randomUniform([8, 7], -1, 1, 'float32', 4);
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(linearSpline(a, b, {start: -1.5, step: 0.5}));
    for (const binary of BINARIES) {
      setWasmBinary(binary);
      tf.tidy(() => tf.grads(f)([x, c]));  // warm-up
      const tensors = tf.memory().numTensors;
      const bytes = tf.memory().numBytes;
      for (let i = 0; i < 3; ++i) tf.dispose(tf.tidy(() => tf.grads(f)([x, c])));
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.memory().numBytes).toBe(bytes);
    }
    tf.dispose([x, c]);
  });

  test('the fallback on wasm gives the cpu kernel\'s answers on the special cases', () => {
    const k = specialCase();
    const y = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
    const {dx, dc} = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
    setSplineImplementation('fallback');
    try {
      tf.tidy(() => {
        const x = tf.tensor(k.x, k.shape);
        const c = tf.tensor2d(k.c, [k.C, k.K]);
        const dyt = tf.tensor(k.dy, k.shape);
        const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(linearSpline(a, b, {start: k.start, step: k.step}), dyt));
        expect(sameBits(linearSpline(x, c, {start: k.start, step: k.step}).dataSync() as Float32Array, y)).toBe(true);
        const [gx, gc] = tf.grads(f)([x, c]);
        expect(sameBits(gx.dataSync() as Float32Array, dx)).toBe(true);
        expect(sameBits(gc.dataSync() as Float32Array, dc)).toBe(true);
      });
    } finally {
      setSplineImplementation(null);
    }
  });

  test('zero channels on the wasm fallback and kernel: x [3, 0], coefficients [0, 3]', () => {
    for (const impl of ['fallback', 'kernel'] as const) {
      setSplineImplementation(impl);
      try {
        tf.tidy(() => {
          const x = tf.zeros([3, 0]);
          const c = tf.zeros([0, 3]);
          const grid = {start: -1, step: 1};
          expect(linearSpline(x, c, grid).shape).toEqual([3, 0]);
          const [gx, gc] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(linearSpline(a, b, grid)))([x, c]);
          expect([impl, gx.shape, gc.shape]).toEqual([impl, [3, 0], [0, 3]]);
        });
      } finally {
        setSplineImplementation(null);
      }
    }
  });

  test.each(['int32', 'bool'] as const)('a %s dy is rejected with core\'s error', (dtype) => {
    tf.tidy(() => {
      const x = tf.tensor2d([[0.5, -0.5]]);
      const c = tf.zeros([2, 3]);
      const dy = tf.tensor2d([[1, 0]], [1, 2], dtype);
      expect(() => tf.engine().runKernel(LinearSplineGrad, {dy, x, coefficients: c}, {start: -1, step: 1}))
        .toThrow(`linearSpline gradient: expected dy to be a float32 tensor, got dtype "${dtype}"`);
    });
  });

  test('fallback and kernel agree on the wasm backend', () => {
    const x = tf.randomUniform([16, 4], -3, 3, 'float32', 1);
    const c = tf.randomUniform([4, 11], -1, 1, 'float32', 2);
    const run = () => tf.tidy(() => linearSpline(x, c, {start: -2, step: 0.4}).dataSync());
    setSplineImplementation('fallback');
    const fb = run();
    setSplineImplementation(null);
    // The fallback computes in float32 with another formula: absolute error ~ |c| * 1e-6.
    expectClose(run() as Float32Array, fb as Float32Array, 1e-5, 'y', 1);
    tf.dispose([x, c]);
  });
});

test('the fused wasm kernels stayed active (no fallback warning)', () => {
  expect(wasmKernelInfo().registered).toBe(true);
  expect(warnSpy).not.toHaveBeenCalled();
});
