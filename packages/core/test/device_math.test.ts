// The device path of the derived quantities (the webgpu default: no synchronous read),
// forced on the cpu backend: held to the float64 formulas within the README's float32 bound,
// the TV(2) gradient's sign convention, no synchronous read, no leak.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {activeKnots, bv2, reluSlopes, tv2} from '@deepspline/core';
import {setSplineMathOnDevice, splineMathOnDevice} from '@deepspline/core/internal';
import {deviceMathErrors, rng, splineBv2, uniformArray} from '@deepspline/testing';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => setSplineMathOnDevice(null));

/** Rows of random float32 coefficients, with exact zeros of a_k planted (linear runs). */
function coefficients(C: number, K: number, seed: number, scale: number): Float32Array {
  const r = rng(seed);
  const v = uniformArray(C * K, -scale, scale, r);
  for (let c = 0; c < C; c += 3) {  // a linear run: c[k] = k exactly, so a_k = 0
    for (let k = 0; k < Math.min(K, 6); ++k) v[c * K + k] = k;
  }
  return v;
}

function withoutSyncReads<T>(fn: () => T): T {
  const spy = jest.spyOn(tf.engine(), 'readSync').mockImplementation(() => {
    throw new Error('a synchronous read');
  });
  try { return fn(); } finally { spy.mockRestore(); }
}

test('the default: on for webgpu only; the override is checked', () => {
  expect(splineMathOnDevice()).toBe(false);  // cpu
  setSplineMathOnDevice(true);
  expect(splineMathOnDevice()).toBe(true);
  expect(() => setSplineMathOnDevice('yes' as never)).toThrow(
    "setSplineMathOnDevice: expected true, false or null, got \"yes\"");
});

test.each([[5, 3, 0.25, 1], [7, 21, 0.1, 2], [3, 101, 0.02, 300]])(
  'C %i, K %i, step %f: slopes, TV(2), BV(2) and active knots within the float32 bound, no read',
  (C, K, step, scale) => {
    const v = coefficients(C, K, C * K, scale);
    const c = tf.tensor2d(v, [C, K]);
    setSplineMathOnDevice(true);
    const before = tf.memory().numTensors;
    const [a, tv, bv, knots] = withoutSyncReads(() => [reluSlopes(c, step), tv2(c, step),
      bv2(c, {start: -(K - 1) * step / 2, step}), activeKnots(c, step, 0)]);
    expect(tf.memory().numTensors).toBe(before + 4);
    const av = a!.dataSync();
    const tvs = tv!.dataSync();
    const bvs = bv!.dataSync();
    const counts = knots!.dataSync();
    const errors = deviceMathErrors(v, C, K, step, av, tvs);  // fractions of the README's bound
    expect(errors.slope).toBeLessThanOrEqual(1);
    expect(errors.tv).toBeLessThanOrEqual(1);
    for (let r = 0; r < C; ++r) {
      const row = v.subarray(r * K, (r + 1) * K);
      let active = 0;
      for (let k = 1; k < K - 1; ++k) {
        const o = r * K + k;
        const exact = ((v[o - 1]! - 2 * v[o]!) + v[o + 1]!) / step;  // float64: exact second difference
        if (exact === 0) expect(av[r * (K - 2) + k - 1]).toBe(0);  // a linear run stays exactly linear
        if (Math.abs(exact) > 0) active++;
      }
      const bvExact = splineBv2(row, -(K - 1) * step / 2, step);
      expect(Math.abs(bvs[r]! - bvExact)).toBeLessThanOrEqual(errors.rowBounds[r]! + 2 ** -23 * K * bvExact);
      expect(counts[r]).toBe(active);
    }
    tf.dispose([a!, tv!, bv!, knots!, c]);
  });

test('the TV(2) gradient: sign(a_k) through the adjoint, 0 where a_k = 0, as on the host path', () => {
  const C = 4;
  const K = 9;
  const v = coefficients(C, K, 77, 1);
  const c = tf.tensor2d(v, [C, K]);
  const dy = tf.tensor1d([1, -2, 0.5, 3]);
  const grad = () => tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tv2(x as tf.Tensor2D, 0.25), dy)))(c);
  const host = grad();
  setSplineMathOnDevice(true);
  const device = withoutSyncReads(grad);
  expect(Array.from(device.dataSync())).toEqual(Array.from(host.dataSync()));
  tf.dispose([c, dy, host, device]);
});
