import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {metrics} from '@deepspline/lipschitz';
import {perSample, rng, useCpu} from './helpers.js';

beforeAll(useCpu);


describe('binaryAccuracyFromLogits', () => {
  test('1 where (logit > 0) == (label > 0), for {0,1} and {-1,1} labels; logit 0 is negative', () => {
    const f = [[0.3], [-0.2], [-1.5], [2.0], [0.0], [0.0]];
    // correct, correct, wrong, wrong, wrong (0 is negative, label positive), correct
    const y01 = [[1], [0], [1], [0], [1], [0]];
    const yPm = y01.map(([v]) => [v! > 0 ? 1 : -1]);
    expect(perSample(metrics.binaryAccuracyFromLogits, y01, f)).toEqual([1, 1, 0, 0, 0, 1]);
    expect(perSample(metrics.binaryAccuracyFromLogits, yPm, f)).toEqual([1, 1, 0, 0, 0, 1]);
  });

  test('a NaN label scores 0 (never a correct negative), as tfjs\'s own binaryAccuracy', () => {
    const y = [[NaN], [NaN], [0], [1]];
    const f = [[-1], [1], [-1], [1]];
    expect(perSample(metrics.binaryAccuracyFromLogits, y, f)).toEqual([0, 0, 1, 1]);
    // tfjs's binaryAccuracy on probabilities, for the same rows: the NaN rows score 0 too
    const tfjsValues = tf.tidy(() => Array.from(tfl.metrics.binaryAccuracy(tf.tensor2d(y),
      tf.sigmoid(tf.tensor2d(f))).dataSync()));
    expect(tfjsValues).toEqual([0, 0, 1, 1]);
  });

  test('several outputs are averaged per sample', () => {
    expect(perSample(metrics.binaryAccuracyFromLogits, [[1, 0], [1, 1]], [[0.5, 0.5], [1, 2]])).toEqual([0.5, 1]);
  });
});

describe('categoricalAccuracyFromLogits', () => {
  test('1 where the largest logit is the true class; the first index wins ties', () => {
    const f = [[1, 2, 0.5], [-1, 0.3, 0.2], [0.7, 0.7, 0.1], [0.7, 0.7, 0.1]];
    const y = [[0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0]];
    expect(perSample(metrics.categoricalAccuracyFromLogits, y, f)).toEqual([1, 0, 1, 0]);
    const yPm = y.map((r) => r.map((v) => (v > 0 ? 1 : -1)));
    expect(perSample(metrics.categoricalAccuracyFromLogits, yPm, f)).toEqual([1, 0, 1, 0]);
  });
});

describe('metrics: validation', () => {
  test('inputs of the wrong shapes are rejected, naming both shapes', () => {
    const a = tf.zeros([3, 1]);
    const b = tf.zeros([3, 2]);
    expect(() => metrics.binaryAccuracyFromLogits(a, b)).toThrow(
      'binaryAccuracyFromLogits: expected yTrue and yPred to be tensors of the same shape [batch, ..., units], got [3,1] and [3,2]');
    expect(() => metrics.categoricalAccuracyFromLogits(a, a)).toThrow(
      'categoricalAccuracyFromLogits: expected at least 2 classes on the last axis, got shape [3,1]');
    tf.dispose([a, b]);
  });
});

describe('metrics in model.compile / fit', () => {
  test('the history names them after the functions (train and validation), with the hand-computed accuracy', async () => {
    expect(metrics.binaryAccuracyFromLogits.name).toBe('binaryAccuracyFromLogits');
    expect(metrics.categoricalAccuracyFromLogits.name).toBe('categoricalAccuracyFromLogits');
    const r = rng(9);
    const p = Array.from({length: 40}, () => [2 * r() - 1, 2 * r() - 1]);
    const x = tf.tensor2d(p);
    const y = tf.tensor2d(p.map(([a, b]) => [a! - b! > 0 ? 1 : 0]));
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [2],
      kernelInitializer: tfl.initializers.glorotUniform({seed: 3})})]});
    // SGD with learning rate 0: the reported accuracy is that of the current weights.
    model.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError',
      metrics: [metrics.binaryAccuracyFromLogits]});
    const f = (model.predict(x) as Tensor).arraySync() as number[][];
    const labels = y.arraySync() as number[][];
    const expected = f.filter(([v], i) => (v! > 0) === (labels[i]![0]! > 0)).length / f.length;
    expect(expected).toBeGreaterThan(0);
    expect(expected).toBeLessThan(1);
    const history = await model.fit(x, y, {epochs: 1, batchSize: 40, verbose: 0, validationData: [x, y]});
    expect(Object.keys(history.history).sort()).toEqual(
      ['binaryAccuracyFromLogits', 'loss', 'val_binaryAccuracyFromLogits', 'val_loss']);
    expect((history.history.binaryAccuracyFromLogits as number[])[0]).toBeCloseTo(expected, 6);
    expect((history.history.val_binaryAccuracyFromLogits as number[])[0]).toBeCloseTo(expected, 6);
    expect(model.metricsNames).toEqual(['loss', 'binaryAccuracyFromLogits']);
    tf.dispose([x, y]);
    model.dispose();
  });
});
