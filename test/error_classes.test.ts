/**
 * Every package throws @deepspline/core's error classes, so that a caller tells ours from
 * tfjs's with `instanceof` whichever package threw; the messages are the ones the packages'
 * own tests pin. (The built packages, imported and required in one process, are checked by
 * dual-package.mjs from test/pack.test.ts.)
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import {ArgumentError, coefficientsFromFunction, DeepSplineError, linearSpline, NonFiniteError,
  UnsupportedError} from '@deepspline/core';
import {exportToStandardLayers, splineActivation, withSplineActivations} from '@deepspline/layers';
import {groupSort, lipschitzBound, lipschitzCallback, losses, spectralDense, tv2Prox,
  tv2ProximalOptimizer, tv2Regularizer} from '@deepspline/lipschitz';

beforeAll(() => tf.setBackend('cpu'));

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, got none');
}

const relu = () => tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2], activation: 'relu'})]});

const cases: Array<[string, () => unknown, typeof DeepSplineError, RegExp]> = [
  ['core: linearSpline without a grid', () => linearSpline(tf.zeros([1, 2]), tf.zeros([2, 3]),
    null as unknown as {start: number, step: number}), ArgumentError, /^linearSpline: expected grid/],
  ['core: a function that is not finite', () => coefficientsFromFunction(Math.log, 5, {start: -2, step: 1}),
    NonFiniteError, /^coefficientsFromFunction: the function returned NaN/],
  ['layers: size 2', () => splineActivation({size: 2}), ArgumentError, /^splineActivation: expected size/],
  ['layers: ThresholdedReLU', () => withSplineActivations(tfl.sequential({layers: [
    tfl.layers.thresholdedReLU({inputShape: [2]})]})), UnsupportedError, /is discontinuous/],
  ['layers: an unknown spline form', () => exportToStandardLayers(relu(), {splineForm: 'cubic' as 'hats'}),
    ArgumentError, /^exportToStandardLayers: expected splineForm/],
  ['lipschitz: an unsupported layer', () => lipschitzBound(tfl.sequential({layers: [
    tfl.layers.dense({units: 2, inputShape: [2]}), tfl.layers.layerNormalization()]})),
  UnsupportedError, /unsupported layer/],
  ['lipschitz: a bad norm', () => lipschitzBound(relu(), {norm: 3 as 2}), ArgumentError, /norm/],
];

describe.each(cases)('%s', (_, fn, cls, message) => {
  test('is an instance of its class, of DeepSplineError and of Error, named after its class', () => {
    const err = thrown(fn) as Error;
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(DeepSplineError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(cls.name);
    expect(err.message).toMatch(message);
    expect(String(err)).toBe(`${cls.name}: ${err.message}`);
  });
});

test('NonFiniteError is an ArgumentError; UnsupportedError is not', () => {
  expect(new NonFiniteError('x')).toBeInstanceOf(ArgumentError);
  expect(new UnsupportedError('x')).not.toBeInstanceOf(ArgumentError);
});

test('tfjs errors are not ours', () => {
  const err = thrown(() => tf.add(tf.zeros([2]), tf.zeros([3])));
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(DeepSplineError);
});

// The seven checks of an arguments object are one helper: the same message and class everywhere.
const argumentObjects: Array<[string, (args: unknown) => unknown, string]> = [
  ['splineActivation', (a) => splineActivation(a as never), 'splineActivation: expected an arguments object, got 3'],
  ['withSplineActivations', (a) => withSplineActivations(relu(), a as never),
    'withSplineActivations: expected an arguments object, got 3'],
  ['spectralDense', (a) => spectralDense(a as never), 'spectralDense: expected an arguments object, got 3'],
  ['groupSort', (a) => groupSort(a as never), 'groupSort: expected an arguments object, got 3'],
  ['lipschitzCallback', (a) => lipschitzCallback(a as never), 'lipschitzCallback: expected an arguments object, got 3'],
  ['tv2Regularizer', (a) => tv2Regularizer(a as never), 'tv2Regularizer: expected an arguments object {lambda}, got 3'],
  ['tv2Prox', (a) => tv2Prox(a as never), 'tv2Prox: expected an arguments object {lambda}, got 3'],
  ['tv2ProximalOptimizer', (a) => tv2ProximalOptimizer(tfl.sequential({layers: [splineActivation({inputShape: [2]})]}),
    tf.train.sgd(0.1), a as never),
    'tv2ProximalOptimizer: expected an arguments object {lambda, ...}, got 3'],
  ['losses.hkr', (a) => losses.hkr(a as never), 'hkr: expected an arguments object {alpha, margin}, got 3'],
];

test.each(argumentObjects)('%s refuses a number for its arguments object', (_, make, message) => {
  const err = thrown(() => make(3)) as Error;
  expect(err).toBeInstanceOf(ArgumentError);
  expect(err.message).toBe(message);
});
