/**
 * The provable-robustness metrics (deel-lip's Binary/CategoricalProvableRobustAccuracy and
 * Binary/CategoricalProvableAvgRobustness) against deel-lip's own test values
 * (deel-ai/deel-lip, tests/test_metrics.py at commit 0d1cdae, transcribed), and in
 * model.compile: what fit and evaluate report equals certifiedAccuracy / certifiedRadius on
 * the same data.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {certifiedAccuracy, lipschitzBound, losses, metrics} from '@deepspline/lipschitz';
import {perSample, rng, useCpu} from './helpers.js';

beforeAll(useCpu);

type Metric = (yTrue: Tensor, yPred: Tensor) => Tensor;

/** The metric's mean over the samples; checks that only the result is left behind. */
function value(metric: Metric, y: number[][], f: number[][]): number {
  const v = perSample(metric, y, f);
  return v.reduce((a, b) => a + b, 0) / v.length;
}

// deel-lip tests/test_metrics.py, test_hardcoded_values
const yPred1 = [[1, 0, 0], [0.1, 0, 0], [0, 0, 1], [0, 0, 0.1]];
const yTrue1 = [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]];
const yPred2 = [1, 0.1, 1, 0.1, -1, -0.1, -1, -0.1].map((v) => [v]);
const yTrue2 = [1, 1, -1, -1, -1, -1, 1, 1].map((v) => [v]);

describe('provable metrics: deel-lip\'s own test values (tests/test_metrics.py)', () => {
  test('hardcoded values: 0.25, 0.25 * 1.1 / sqrt(2), 0.25, 0.125 * 2.2', () => {
    expect(value(metrics.categoricalProvableRobustAccuracy({epsilon: 0.25, lipConst: 1, disjointNeurons: false}),
      yTrue1, yPred1)).toBeCloseTo(0.25, 6);
    expect(value(metrics.categoricalProvableAvgRobustness({lipConst: 1, disjointNeurons: false}), yTrue1, yPred1))
      .toBeCloseTo(0.25 * 1.1 / Math.SQRT2, 6);
    expect(value(metrics.binaryProvableRobustAccuracy({epsilon: 0.25, lipConst: 1}), yTrue2, yPred2)).toBeCloseTo(0.25, 6);
    expect(value(metrics.binaryProvableAvgRobustness({lipConst: 1}), yTrue2, yPred2)).toBeCloseTo(0.125 * 2.2, 6);
    // labels in {0, 1} give the same values (test_data_format)
    const y01 = yTrue2.map(([v]) => [v! > 0 ? 1 : 0]);
    expect(value(metrics.binaryProvableAvgRobustness({lipConst: 1}), y01, yPred2)).toBeCloseTo(0.125 * 2.2, 6);
    const yPm = yTrue1.map((r) => r.map((v) => (v > 0 ? 1 : -1)));
    expect(value(metrics.categoricalProvableAvgRobustness({disjointNeurons: false}), yPm, yPred1))
      .toBeCloseTo(0.25 * 1.1 / Math.SQRT2, 6);
  });

  test('disjointNeurons: true divides by 2 lipConst, false by sqrt(2) lipConst (test_disjoint_neurons)', () => {
    const r = rng(3);
    const f = Array.from({length: 50}, () => [r(), r(), r(), r()]);
    const y = f.map(() => { const k = Math.floor(r() * 4); return [0, 1, 2, 3].map((i) => (i === k ? 1 : 0)); });
    for (const negativeRobustness of [false, true]) {
      const a = value(metrics.categoricalProvableAvgRobustness({disjointNeurons: false, negativeRobustness}), y, f);
      const b = value(metrics.categoricalProvableAvgRobustness({disjointNeurons: true, negativeRobustness}), y,
        f.map((row) => row.map((v) => v * Math.SQRT2)));
      expect(b).toBeCloseTo(a, 6);
    }
    // negativeRobustness changes the value when some points are misclassified, not when y == f (test_provable_vs_adjusted)
    const pos = value(metrics.categoricalProvableAvgRobustness({negativeRobustness: false}), y, f);
    const neg = value(metrics.categoricalProvableAvgRobustness({negativeRobustness: true}), y, f);
    expect(pos - neg).toBeGreaterThan(1e-4);
    expect(value(metrics.categoricalProvableAvgRobustness({negativeRobustness: true}), y, y))
      .toBeCloseTo(value(metrics.categoricalProvableAvgRobustness({negativeRobustness: false}), y, y), 6);
  });

  test('our conventions, where deel-lip differs: a radius equal to epsilon counts (>=), the first index wins ties', () => {
    // radius 0.5 / 2 = 0.25 exactly: certified at 0.25 here (deel-lip's '>' would not count it)
    expect(value(metrics.binaryProvableRobustAccuracy({epsilon: 0.25, lipConst: 2}), [[1]], [[0.5]])).toBe(1);
    // f_true - max_other = 1, c * lipConst = 2 * 0.5 = 1: radius 1 counts at epsilon 1
    expect(value(metrics.categoricalProvableRobustAccuracy({epsilon: 1, lipConst: 0.5}), [[1, 0, 0]], [[1, 0, 0]])).toBe(1);
    // a tie between classes 0 and 1: class 0 is predicted, so label 0 is correct at radius 0, label 1 is wrong
    const tie = [[1, 1, 0]];
    expect(value(metrics.categoricalProvableRobustAccuracy({epsilon: 0}), [[1, 0, 0]], tie)).toBe(1);
    expect(value(metrics.categoricalProvableRobustAccuracy({epsilon: 0}), [[0, 1, 0]], tie)).toBe(0);
    // a logit of exactly 0 is negative
    expect(value(metrics.binaryProvableRobustAccuracy({epsilon: 0}), [[0], [1]], [[0], [0]])).toBe(0.5);
  });
});

describe('provable metrics: in model.compile, equal to certifiedAccuracy on the same data', () => {
  function data(seed: number, n: number, classes: number): {x: Tensor, y: Tensor, labels: number[]} {
    const r = rng(seed);
    const points = Array.from({length: n}, () => [2 * r() - 1, 2 * r() - 1, 2 * r() - 1]);
    const labels = points.map(([a, b, c]) => (classes === 1 ? (a! + b! > 0 ? 1 : 0) :
      (a! > b! ? (a! > c! ? 0 : 2) : (b! > c! ? 1 : 2))));
    const y = classes === 1 ? tf.tensor2d(labels.map((l) => [l])) :
      tf.tensor2d(labels.map((l) => Array.from({length: classes}, (_, i) => (i === l ? 1 : 0))));
    return {x: tf.tensor2d(points), y, labels};
  }

  function model(classes: number, seed: number): tfl.LayersModel {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({inputShape: [3], units: 8, activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({seed})}));
    m.add(tfl.layers.dense({units: classes, kernelInitializer: tfl.initializers.glorotUniform({seed: seed + 1})}));
    return m;
  }

  test.each([[1], [3]])('%i output(s): evaluate and fit report the metrics; they are certifiedAccuracy\'s numbers', async (classes) => {
    const {x, y} = data(11, 101, classes);  // 101: the last batch of evaluate is partial
    const m = model(classes, 5);
    const lipConst = lipschitzBound(m).bound;
    const epsilon = 0.05;
    const binary = classes === 1;
    const acc = binary ? metrics.binaryProvableRobustAccuracy({epsilon, lipConst}) :
      metrics.categoricalProvableRobustAccuracy({epsilon, lipConst, disjointNeurons: false});
    const avg = binary ? metrics.binaryProvableAvgRobustness({lipConst}) :
      metrics.categoricalProvableAvgRobustness({lipConst, disjointNeurons: false});
    const acc0 = binary ? metrics.binaryProvableRobustAccuracy({epsilon: 0, lipConst, name: 'clean'}) :
      metrics.categoricalProvableRobustAccuracy({epsilon: 0, lipConst, disjointNeurons: false, name: 'clean'});
    m.compile({optimizer: tf.train.sgd(0), loss: binary ? losses.hkr({alpha: 10}) : losses.multiclassHkr({alpha: 10}),
      metrics: [acc, avg, acc0]});
    const reference = certifiedAccuracy(m, x, y, {epsilons: [epsilon, 0], bound: lipConst});
    // no radius within float32 rounding of epsilon, so the counts cannot differ by rounding
    expect(Math.min(...reference.radii.radius.map((rad) => Math.abs(rad - epsilon)))).toBeGreaterThan(1e-5);
    const meanRadius = reference.radii.radius.reduce((s, rad, i) => s + (reference.correct[i] ? rad : 0), 0) / 101;
    expect(reference.accuracy[0]).toBeGreaterThan(0);
    expect(reference.accuracy[0]).toBeLessThan(reference.accuracy[1]!);

    const evaluated = m.evaluate(x, y, {batchSize: 32}) as Tensor[];
    const [, accValue, avgValue, cleanValue] = evaluated.map((t) => t.dataSync()[0]!);
    expect(accValue).toBeCloseTo(reference.accuracy[0]!, 6);
    expect(avgValue).toBeCloseTo(meanRadius, 5);
    expect(cleanValue).toBeCloseTo(reference.cleanAccuracy, 6);
    tf.dispose(evaluated);

    // fit with learning rate 0 keeps the model: its history reports the same numbers under the metrics' names
    const history = await m.fit(x, y, {epochs: 1, batchSize: 16, verbose: 0});
    const accName = binary ? 'binaryProvableRobustAccuracy' : 'categoricalProvableRobustAccuracy';
    const avgName = binary ? 'binaryProvableAvgRobustness' : 'categoricalProvableAvgRobustness';
    expect(history.history[accName]![0]).toBeCloseTo(reference.accuracy[0]!, 6);
    expect(history.history[avgName]![0]).toBeCloseTo(meanRadius, 5);
    expect(history.history.clean![0]).toBeCloseTo(reference.cleanAccuracy, 6);
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('provable metrics: validation', () => {
  test.each([
    ['binaryProvableRobustAccuracy: expected lipConst > 0, got 0', () => metrics.binaryProvableRobustAccuracy({lipConst: 0})],
    ['binaryProvableRobustAccuracy: expected epsilon >= 0, got -0.1', () => metrics.binaryProvableRobustAccuracy({epsilon: -0.1})],
    ['categoricalProvableRobustAccuracy: expected epsilon to be a finite number, got NaN',
      () => metrics.categoricalProvableRobustAccuracy({epsilon: NaN})],
    ['categoricalProvableAvgRobustness: expected disjointNeurons to be true or false, got "yes"',
      () => metrics.categoricalProvableAvgRobustness({disjointNeurons: 'yes' as never})],
    ['binaryProvableAvgRobustness: expected negativeRobustness to be true or false, got 1',
      () => metrics.binaryProvableAvgRobustness({negativeRobustness: 1 as never})],
    ['binaryProvableAvgRobustness: expected an arguments object {lipConst, negativeRobustness, name}, got 2',
      () => metrics.binaryProvableAvgRobustness(2 as never)],
    ['categoricalProvableRobustAccuracy: expected name to be a string of letters',
      () => metrics.categoricalProvableRobustAccuracy({name: 'robust acc'})],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  test('wrong shapes are rejected without leaking; a NaN label is not certified', () => {
    const f3 = tf.zeros([2, 3]);
    const f1 = tf.zeros([2, 1]);
    const before = tf.memory().numTensors;
    expect(() => metrics.binaryProvableRobustAccuracy()(f3, f3)).toThrow(
      'binaryProvableRobustAccuracy: expected one output unit (shape [batch, 1]), got shape [2,3]');
    expect(() => metrics.categoricalProvableAvgRobustness()(f1, f1)).toThrow(
      'categoricalProvableAvgRobustness: expected at least 2 classes on the last axis, got shape [2,1]');
    expect(() => metrics.categoricalProvableRobustAccuracy()(f1, f3)).toThrow(
      'categoricalProvableRobustAccuracy: expected yTrue and yPred to be tensors of the same shape [batch, units], got [2,1] and [2,3]');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([f1, f3]);
    expect(value(metrics.binaryProvableRobustAccuracy({epsilon: 0}), [[NaN], [0]], [[-1], [-1]])).toBe(0.5);
    expect(value(metrics.categoricalProvableRobustAccuracy({epsilon: 0}), [[NaN, 0], [1, 0]], [[1, 0], [1, 0]])).toBe(0.5);
    expect(Number.isNaN(value(metrics.binaryProvableAvgRobustness(), [[NaN], [0]], [[-1], [-1]]))).toBe(true);
  });
});
