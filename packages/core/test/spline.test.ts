/**
 * Forward values and gradients of the op on hand-made splines, for the fused cpu kernel and the
 * fallback, against values by hand, the float64 reference (README "Semantics") and finite
 * differences.
 */
import * as tf from '@tensorflow/tfjs-core';
import {linearSpline, splineImplementation} from '@deepspline/core';
import {maxAbs, referenceBackward, referenceForward, rng, splineValue, uniformArray as randomArray,
  worst} from '@deepspline/testing';
import {IMPLS, run, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

// Two channels on the grid -2, -1, 0, 1, 2 (size 5, range 2): a ReLU-like and an arbitrary one.
const C = 2;
const K = 5;
const start = -2;
const step = 1;
const coef = Float32Array.from([0, 0, 0, 1, 2, /* */ 1.5, -0.5, 0.25, 2, -1]);
const value = (x: number, ch: number, c: ArrayLike<number> = coef) =>
  splineValue(Array.from(c).slice(ch * K, ch * K + K), start, step, x);

describe.each(IMPLS)('forward (%s)', (impl) => {
  const cases: Array<[string, number[]]> = [
    ['interior points', [-1.75, -0.5, 0.3, 1.9, -1.2, 0.01]],
    ['exact knots', [-2, -1, 0, 1, 2, 0]],
    ['both ends and just outside', [-2.0001, 2.0001, -2, 2, -1.9999, 1.9999]],
    ['far outside (linear extrapolation)', [-1000, 1000, -7.5, 33, -1e6, 1e6]],
  ];
  test.each(cases)('%s', (_name, values) => {
    const x = Float32Array.from(values);
    const {y} = withImpl(impl, () => run(x, [x.length / C, C], coef, C, K, start, step));
    const expected = referenceForward({xShape: [x.length / C, C], C, K, start, step, x, c: coef,
      dy: new Float32Array(x.length)});
    const atol = 1e-6 * (maxAbs(coef) + maxAbs(x) * 3);
    expect(worst(y, expected, 1e-6, atol).ratio).toBeLessThanOrEqual(1);
  });

  test('known values by hand', () => {
    // channel 0 is 0 up to the knot 0, then slope 1 — ReLU; channel 1: c = [1.5,-0.5,.25,2,-1]
    const x = Float32Array.from([-3, -3, 0.5, 0.5, 3, 3, 1, 1]);
    const {y} = withImpl(impl, () => run(x, [4, 2], coef, C, K, start, step));
    // ch1 at -3: left segment slope -2, value 1.5 + 2 = 3.5; at 0.5: .25 + .5*1.75 = 1.125;
    // at 3: right segment slope -3: -1 - 3 = -4; at 1: 2.
    expect(Array.from(y)).toEqual([0, 3.5, 0.5, 1.125, 3, -4, 1, 2]);
  });
});

describe.each(IMPLS)('gradients (%s)', (impl) => {
  const next = rng(7);
  // points away from knots so that central differences do not straddle a kink
  const raw = randomArray(40, -4, 4, next);
  const x = raw.map((v) => (Math.abs(v - Math.round(v)) < 0.01 ? v + 0.05 : v));
  const dy = randomArray(40, -1, 1, next);
  let out: ReturnType<typeof run>;
  const ref = referenceBackward({xShape: [20, 2], C, K, start, step, x, c: coef, dy});
  beforeAll(() => {
    out = withImpl(impl, () => run(x, [20, 2], coef, C, K, start, step, dy));
  });

  test('dx equals the formula (c[k+1]-c[k])/T * dy', () => {
    expect(worst(out.dx!, ref.dx, 1e-6, 1e-6).ratio).toBeLessThanOrEqual(1);
  });

  test('dx equals float64 central finite differences', () => {
    const h = 1e-5;
    const fd = Array.from(x, (v, i) =>
      (value(v + h, i % C) - value(v - h, i % C)) / (2 * h) * dy[i]);
    expect(worst(out.dx!, fd, 1e-5, 1e-6).ratio).toBeLessThanOrEqual(1);
  });

  test('dcoefficients equals the formula ((1-f) dy, f dy)', () => {
    const atol = 1e-6 * maxAbs(ref.dcScale);
    expect(worst(out.dc!, ref.dc, 1e-6, atol).ratio).toBeLessThanOrEqual(1);
  });

  test('dcoefficients equals float64 finite differences of sum(dy * y)', () => {
    const h = 1e-3;
    const loss = (c: Float64Array) => {
      let acc = 0;
      for (let i = 0; i < x.length; ++i) acc += value(x[i], i % C, c) * dy[i];
      return acc;
    };
    const fd = new Float64Array(C * K);
    for (let j = 0; j < C * K; ++j) {
      const plus = Float64Array.from(coef);
      const minus = Float64Array.from(coef);
      plus[j] += h;
      minus[j] -= h;
      fd[j] = (loss(plus) - loss(minus)) / (2 * h);
    }
    expect(worst(out.dc!, fd, 1e-5, 1e-5).ratio).toBeLessThanOrEqual(1);
  });

  test('extrapolated inputs feed the end pair with unclamped f', () => {
    const xs = Float32Array.from([-5, 7]);   // u = -3: f = -3 on segment 0; u = 9: f = 6 on segment K-2 = 3
    const ones = Float32Array.from([1, 1]);
    const c1 = Float32Array.from([0, 1, 3, 2, 5]);
    const {dc, dx} = withImpl(impl, () => run(xs, [2, 1], c1, 1, K, start, step, ones));
    expect(Array.from(dc!)).toEqual([4, -3, 0, -5, 6]);
    expect(Array.from(dx!)).toEqual([1, 3]);
  });
});

test('the op picks the fused kernel on cpu', () => {
  expect(splineImplementation('cpu')).toBe('kernel');
  expect(splineImplementation('some-backend-without-kernels')).toBe('fallback');
});

test('a shared spline ([1, K]) applies to every channel', () => {
  const c = tf.tensor2d([[0, 0, 1]]);
  const y = linearSpline(tf.tensor2d([[-1, 0.5, 2], [0.25, -3, 1]]), c, {start: -1, step: 1});
  expect(Array.from(y.dataSync())).toEqual([0, 0.5, 2, 0.25, 0, 1]);
  tf.dispose([c, y]);
});

test('plain arrays are accepted and converted tensors are not leaked', () => {
  const before = tf.memory().numTensors;
  const y = linearSpline([[-1, 0.5], [2, 0]], [[0, 0, 1], [1, 0, 1]], {start: -1, step: 1});
  expect(Array.from(y.dataSync())).toEqual([0, 0.5, 2, 0]);
  y.dispose();
  expect(tf.memory().numTensors).toBe(before);
});

test('linearSpline is a tf.op: it runs in an engine scope named linearSpline__op', () => {
  const scopes: string[] = [];
  const engine = tf.engine();
  const startScope = engine.startScope.bind(engine);
  const spy = jest.spyOn(engine, 'startScope').mockImplementation((name?: string) => {
    scopes.push(String(name));
    startScope(name);
  });
  try {
    tf.dispose(linearSpline(tf.tensor1d([0.5]), tf.tensor2d([[0, 1, 2]]), {start: -1, step: 1}));
  } finally {
    spy.mockRestore();
  }
  expect(scopes).toContain('linearSpline__op');  // tfjs's op suffix, as 'relu__op'
});
