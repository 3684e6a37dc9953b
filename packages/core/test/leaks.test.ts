/**
 * Tensors the op converts from arrays are disposed when it throws (leaks of the kernels and the
 * fallback themselves: the conformance suite).
 */
import * as tf from '@tensorflow/tfjs-core';
import {linearSpline} from '@deepspline/core';
import {IMPLS, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

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
