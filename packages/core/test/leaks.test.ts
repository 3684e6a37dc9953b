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
