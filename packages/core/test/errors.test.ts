/** Bad input to the op and the math gets a clear error naming the value and what was expected. */
import * as tf from '@tensorflow/tfjs-core';
import {activeKnots, bv2, clipSlopes, coefficientsFromFunction, linearSpline, reluSlopes,
  setSplineImplementation, sparsifyCoefficients, splineCurves, splineGrid, splineKnots,
  splineLipschitz, tv2} from '@deepspline/core';
import {IMPLS, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

describe.each(IMPLS)('linearSpline (%s)', (impl) => {
  const x = tf.tensor2d([[0.5, -0.5]]);
  const c = tf.tensor2d([[0, 1, 2], [1, 0, 1]]);
  const call = (xx: unknown, cc: unknown, grid: unknown) => () => withImpl(impl,
    () => linearSpline(xx as tf.Tensor, cc as tf.Tensor, grid as {start: number, step: number}));
  afterAll(() => tf.dispose([x, c]));

  test('non-float x', () => {
    const xi = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    expect(call(xi, c, {start: -1, step: 1})).toThrow(
      'linearSpline: expected x to be a float32 tensor, got dtype "int32"');
    xi.dispose();
  });
  test('non-float coefficients', () => {
    const ci = tf.tensor2d([[0, 1, 2]], [1, 3], 'int32');
    expect(call(x, ci, {start: -1, step: 1})).toThrow(/expected coefficients to be a float32 tensor, got dtype "int32"/);
    ci.dispose();
  });
  test('coefficients not of rank 2', () => {
    const c1 = tf.tensor1d([0, 1, 2]);
    expect(call(x, c1, {start: -1, step: 1})).toThrow(
      /expected coefficients of rank 2 \(\[C, K\]\), got shape \[3\]/);
    c1.dispose();
  });
  test('C not matching the last axis', () => {
    const c3 = tf.zeros([3, 5]);
    expect(call(x, c3, {start: -1, step: 1})).toThrow(
      /coefficients of shape \[3,5\] do not match x of shape \[1,2\]: expected \[2, K\].*or \[1, K\]/);
    c3.dispose();
  });
  test('C > 1 for a scalar x or a single channel: one expected shape, said once', () => {
    const c3 = tf.zeros([3, 5]);
    const scalar = tf.scalar(0.5);
    const column = tf.zeros([4, 1]);
    expect(call(scalar, c3, {start: -1, step: 1})).toThrow(
      'coefficients of shape [3,5] do not match x of shape []: expected [1, K] (x is a scalar: one value, one spline)');
    expect(call(column, c3, {start: -1, step: 1})).toThrow(
      'coefficients of shape [3,5] do not match x of shape [4,1]: expected [1, K] (x has 1 channel on its last axis: one spline)');
    tf.dispose([c3, scalar, column]);
  });
  test('fewer than 3 coefficients', () => {
    const c2 = tf.zeros([2, 2]);
    expect(call(x, c2, {start: -1, step: 1})).toThrow(/K >= 3\), got coefficients of shape \[2,2\]/);
    c2.dispose();
  });
  test.each([[0], [-1], [NaN], [Infinity], ['1']])('step %p', (step) => {
    expect(call(x, c, {start: -1, step})).toThrow(/expected step (> 0|to be a finite number), got/);
  });
  test.each([[NaN], [-Infinity], [undefined]])('start %p', (start) => {
    expect(call(x, c, {start, step: 1})).toThrow(/expected start to be a finite number, got/);
  });
  test('missing grid', () => {
    expect(call(x, c, undefined)).toThrow('linearSpline: expected grid {start, step}, got undefined');
  });
  test('not a tensor', () => {
    expect(call('abc', c, {start: 0, step: 1})).toThrow(/expected x to be a tensor or an array of numbers, got "abc"/);
  });
});

test('splineGrid', () => {
  expect(() => splineGrid({size: 2, range: 1})).toThrow('splineGrid: expected size to be an integer >= 3, got 2');
  expect(() => splineGrid({size: 20.5, range: 1})).toThrow(/integer >= 3, got 20.5/);
  expect(() => splineGrid({size: 21, range: 0})).toThrow('splineGrid: expected range > 0, got 0');
  expect(() => splineGrid({size: 21, range: Infinity})).toThrow(/range to be a finite number, got Infinity/);
  expect(() => splineGrid({size: 21, grid: -0.1})).toThrow(/grid > 0, got -0.1/);
  expect(() => splineGrid({size: 21, range: 1, grid: 0.1})).toThrow(/either range or grid, not both/);
  expect(() => splineGrid({size: 21})).toThrow(/expected range or grid, got neither/);
});

test('splineGrid: a range or spacing whose knot span overflows, or a spacing that underflows', () => {
  // 2 * range / (size - 1) overflows at 2 * range: the spacing would be Infinity.
  expect(() => splineGrid({size: 21, range: 1e308})).toThrow('splineGrid: expected range <= ' +
    '8.988465674311579e+307 (half the largest float64, so that the knot span 2 * range is finite), ' +
    'got 1e+308');
  expect(() => splineGrid({size: 21, grid: 1e308})).toThrow('splineGrid: expected grid * ' +
    '(size - 1) <= 1.7976931348623157e+308 (the largest float64: the knot span), so grid at most ' +
    'about 8.98847e+306 for size 21; got grid 1e+308');
  expect(() => splineGrid({size: 2 ** 60, grid: 1e300})).toThrow(/got grid 1e\+300$/);
  expect(() => splineGrid({size: 21, range: 5e-324})).toThrow('splineGrid: expected a positive ' +
    'knot spacing 2 * range / (size - 1), got 0 (underflow) from range 5e-324 and size 21');
  // The limits themselves are fine.
  expect(splineGrid({size: 21, range: Number.MAX_VALUE / 2}).step).toBe(Number.MAX_VALUE / 20);
  expect(splineGrid({size: 3, grid: Number.MAX_VALUE / 2}).range).toBe(Number.MAX_VALUE / 2);
});

/** The error `fn` throws, whose message must be exactly `message`. */
function expectError(fn: () => unknown, message: string): void {
  let error: unknown;
  try { fn(); } catch (e) { error = e; }
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toBe(message);
}

describe('math functions report their own name and the value', () => {
  const grid = {start: -1, step: 1};
  // Each takes (coefficients, step); the grid-taking ones get {start, step} built from step.
  const withStep: Record<string, (c: tf.Tensor2D, step: number) => unknown> = {
    reluSlopes: (c, step) => reluSlopes(c, step),
    tv2: (c, step) => tv2(c, step),
    bv2: (c, step) => bv2(c, {start: -1, step}),
    splineLipschitz: (c, step) => splineLipschitz(c, step),
    activeKnots: (c, step) => activeKnots(c, step, 0),
    sparsifyCoefficients: (c, step) => sparsifyCoefficients(c, step, 0),
    clipSlopes: (c, step) => clipSlopes(c, step, 1),
    splineCurves: (c, step) => splineCurves(c, {start: -1, step}),
  };
  const c = tf.tensor2d([[0, 1, 2]]);
  afterAll(() => c.dispose());

  test.each(Object.keys(withStep))('%s: coefficients not [C, K >= 3], not float32, not a tensor', (name) => {
    const f = withStep[name]!;
    const bad = [[tf.tensor1d([1, 2, 3]), 'a float32 tensor of shape [3]'],
      [tf.tensor2d([[1, 2]]), 'a float32 tensor of shape [1,2]'],
      [tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'), 'a int32 tensor of shape [1,3]']] as const;
    for (const [t, what] of bad) {
      expectError(() => f(t as unknown as tf.Tensor2D, 1),
        `${name}: expected float32 coefficients of shape [C, K] with K >= 3, got ${what}`);
    }
    expectError(() => f([[0, 1, 2]] as unknown as tf.Tensor2D, 1),
      `${name}: expected float32 coefficients of shape [C, K] with K >= 3, got [[0,1,2]]`);
    tf.dispose(bad.map(([t]) => t));
  });

  test.each(Object.keys(withStep))('%s: step', (name) => {
    const f = withStep[name]!;
    expectError(() => f(c, 0), `${name}: expected step > 0, got 0`);
    expectError(() => f(c, -2), `${name}: expected step > 0, got -2`);
    expectError(() => f(c, NaN), `${name}: expected step to be a finite number, got NaN`);
  });

  test('bv2, splineCurves, splineKnots, coefficientsFromFunction: grid', () => {
    expectError(() => bv2(c, undefined as never), 'bv2: expected grid {start, step}, got undefined');
    expectError(() => bv2(c, {start: NaN, step: 1}), 'bv2: expected start to be a finite number, got NaN');
    expectError(() => splineCurves(c, 3 as never), 'splineCurves: expected grid {start, step}, got 3');
    expectError(() => splineKnots(3, {start: Infinity, step: 1}),
      'splineKnots: expected start to be a finite number, got Infinity');
    expectError(() => coefficientsFromFunction((x) => x, 3, null as never),
      'coefficientsFromFunction: expected grid {start, step}, got null');
  });

  test('thresholds, bounds, sizes and counts', () => {
    expectError(() => activeKnots(c, 1, -1), 'activeKnots: expected threshold >= 0, got -1');
    expectError(() => activeKnots(c, 1, NaN), 'activeKnots: expected threshold to be a finite number, got NaN');
    expectError(() => sparsifyCoefficients(c, 1, -0.5), 'sparsifyCoefficients: expected threshold >= 0, got -0.5');
    expectError(() => clipSlopes(c, 1, -1), 'clipSlopes: expected maxSlope >= 0, got -1');
    expectError(() => clipSlopes(c, 1, Infinity), 'clipSlopes: expected maxSlope to be a finite number, got Infinity');
    expectError(() => splineCurves(c, grid, 1), 'splineCurves: expected numPoints to be an integer >= 2, got 1');
    expectError(() => splineCurves(c, grid, 10, -1), 'splineCurves: expected margin >= 0, got -1');
    expectError(() => splineKnots(2, grid), 'splineKnots: expected size to be an integer >= 3, got 2');
    expectError(() => coefficientsFromFunction((x) => x, 2.5, grid),
      'coefficientsFromFunction: expected size to be an integer >= 3, got 2.5');
    expectError(() => coefficientsFromFunction((x) => x, 3, grid, 0),
      'coefficientsFromFunction: expected channels to be an integer >= 1, got 0');
    expectError(() => coefficientsFromFunction(3 as never, 3, grid),
      'coefficientsFromFunction: expected a function (x: number) => number, got 3');
    expectError(() => coefficientsFromFunction(() => NaN, 3, {start: 0, step: 1}),
      'coefficientsFromFunction: the function returned NaN at x = 0 (channel 0); expected a finite number');
    expectError(() => setSplineImplementation('gpu' as 'kernel'),
      `setSplineImplementation: expected 'kernel', 'fallback' or null, got "gpu"`);
  });
});
