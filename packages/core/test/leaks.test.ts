/** No tensor leaks in forward and backward, for both implementations. */
import * as tf from '@tensorflow/tfjs-core';
import {linearSpline} from '@deepspline/core';
import {IMPLS, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

test.each(IMPLS)('%s: forward and backward leave no tensors behind', (impl) => {
  const x = tf.randomUniform([8, 3], -3, 3);
  const c = tf.randomUniform([3, 7], -1, 1);
  const grid = {start: -1, step: 1 / 3};
  withImpl(impl, () => {
    const before = tf.memory().numTensors;
    const y = linearSpline(x, c, grid);
    y.dispose();
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(linearSpline(a, b, grid)));
    const [dx, dc] = g([x, c]);
    tf.dispose([dx, dc]);
    const v = tf.variable(c);
    const {value, grads} = tf.variableGrads(() => tf.sum(linearSpline(x, v, grid)) as tf.Scalar,
      [v]);
    tf.dispose([value, v, ...Object.values(grads)]);
    // gradient with respect to x only, and to the coefficients only
    const gx = tf.grad((a: tf.Tensor) => tf.sum(linearSpline(a, c, grid)))(x);
    const gc = tf.grad((b: tf.Tensor) => tf.sum(linearSpline(x, b, grid)))(c);
    tf.dispose([gx, gc]);
    expect(tf.memory().numTensors).toBe(before);
  });
  tf.dispose([x, c]);
});

test.each(IMPLS)('%s: array inputs are disposed when the call throws', (impl) => {
  const grid = {start: -1, step: 1};
  withImpl(impl, () => {
    const before = tf.memory().numTensors;
    // fails validation after both conversions: K < 3, a bad step, C not matching
    expect(() => linearSpline([[0.5, 1]], [[0, 1]], grid)).toThrow(/K >= 3/);
    expect(() => linearSpline([[0.5, 1]], [[0, 1, 2]], {start: -1, step: 0})).toThrow(/step > 0/);
    expect(() => linearSpline([[0.5, 1, 2]], [[0, 1, 2], [1, 2, 3]], grid)).toThrow(/do not match/);
    // fails converting the coefficients after x was converted
    expect(() => linearSpline([[0.5, 1]], 'abc' as unknown as number[][], grid)).toThrow(
      /expected coefficients to be a tensor or an array of numbers/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
