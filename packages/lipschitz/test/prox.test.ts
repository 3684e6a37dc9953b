/**
 * The proximal TV(2) solver `tv2Prox`: exact zeros after fit (counted here in float64 from the
 * stored float32 coefficients, and by the device path), knots falling with lambda, composition
 * with maxSlope, the constrain callback, save/load, learning-rate schedules and every tfjs
 * optimizer, no leaks, clear errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {setSplineMathOnDevice} from '@deepspline/core/internal';
import {TV2Prox, lipschitzBound, lipschitzCallback, modelActiveKnots, sparsify, splineLayers,
  tv2Prox} from '@deepspline/lipschitz';
import {rowsOf, useCpu} from './helpers.js';
import {data, exactKnots, expectKnotsFall, expectScaledAndSparse, net, stored} from './prox_fixtures.js';

beforeAll(useCpu);
afterEach(() => setSplineMathOnDevice(null));

function effective(model: tfl.LayersModel): number[][] {
  return splineLayers(model).flatMap(({layer}) => {
    const c = layer.effectiveCoefficients();
    const rows = rowsOf(c);
    c.dispose();
    return rows;
  });
}

async function train(model: tfl.LayersModel, callbacks: tfl.CustomCallbackArgs[] | tfl.Callback[],
    {epochs = 10, optimizer = tf.train.adam(0.01) as tf.Optimizer} = {}): Promise<void> {
  const {x, y} = data();
  model.compile({optimizer, loss: 'binaryCrossentropy'});
  await model.fit(x, y, {epochs, batchSize: 20, shuffle: false, verbose: 0, callbacks: callbacks as tfl.Callback[]});
  tf.dispose([x, y]);
}

test('after fit, the removed knots are exactly 0 (float64 recount, cpu and device counts agree)', async () => {
  const model = net();
  await train(model, [tv2Prox({lambda: 5})]);
  const exact = exactKnots(stored(model));
  expect(exact).toBeGreaterThan(0);
  expect(exact).toBeLessThan(6 * 19 / 2);  // most of the 114 knots removed
  expect(modelActiveKnots(model).total).toBe(exact);
  setSplineMathOnDevice(true);  // float32 tensor arithmetic, as on webgpu
  expect(modelActiveKnots(model).total).toBe(exact);
  model.dispose();
});

test('exact knots fall with lambda', async () => {
  await expectKnotsFall([0, 2, 6, 20, 60], (model, lambda) => train(model, [tv2Prox({lambda})]));
});

test('with maxSlope: the evaluated (clipped) splines keep the zeros and stay 1-Lipschitz', async () => {
  const model = net({maxSlope: 1, init: 'abs'});
  await train(model, [tv2Prox({lambda: 5})]);
  const eff = effective(model);
  const exact = exactKnots(eff);
  // clipping removes knots (merged clipped segments) and adds none
  expect(exact).toBeLessThanOrEqual(exactKnots(stored(model)));
  expect(exact).toBeLessThan(6 * 19 / 2);
  expect(modelActiveKnots(model).total).toBe(exact);
  const step = 0.1;
  for (const c of eff) for (let k = 0; k + 1 < c.length; ++k) expect(Math.abs(c[k + 1]! - c[k]!) / step).toBeLessThanOrEqual(1);
  model.dispose();
});

test('with the constrain callback: bound <= target and the zeros stay exact', async () => {
  const model = net();
  await train(model, [tv2Prox({lambda: 5}), lipschitzCallback({mode: 'constrain', target: 1})]);
  expect(lipschitzBound(model).bound).toBeLessThanOrEqual(1);
  const exact = exactKnots(stored(model));
  expect(exact).toBeLessThan(6 * 19 / 2);
  expect(modelActiveKnots(model).total).toBe(exact);
  model.dispose();
});

test('save/load keeps the exact zeros; sparsify(model, 0) changes no prediction, bit for bit', async () => {
  const model = net();
  await train(model, [tv2Prox({lambda: 5})]);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  const {x} = data(5);
  const before = Array.from((model.predict(x) as tf.Tensor).dataSync());
  expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(before);
  const exact = exactKnots(stored(model));
  expect(exactKnots(stored(loaded))).toBe(exact);
  expect(modelActiveKnots(loaded).total).toBe(exact);
  expect(sparsify(loaded, 0).total).toBe(exact);
  expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(before);
  tf.dispose(x);
  model.dispose();
  loaded.dispose();
});

/** A prox that records the thresholds it applies. */
class Recording extends TV2Prox {
  readonly thresholds: number[] = [];
  override apply(threshold: number): void {
    this.thresholds.push(threshold);
    super.apply(threshold);
  }
}

test('every tfjs optimizer: threshold = lambda * its learning rate, exact zeros, finite weights', async () => {
  const optimizers: Array<[string, () => tf.Optimizer, number]> = [
    ['sgd', () => tf.train.sgd(0.5), 0.5], ['momentum', () => tf.train.momentum(0.2, 0.9), 0.2],
    ['adagrad', () => tf.train.adagrad(0.1), 0.1], ['adadelta', () => tf.train.adadelta(1), 1],
    ['adam', () => tf.train.adam(0.01), 0.01], ['adamax', () => tf.train.adamax(0.01), 0.01],
    ['rmsprop', () => tf.train.rmsprop(0.01), 0.01],
  ];
  for (const [name, make, lr] of optimizers) {
    const model = net();
    const prox = new Recording({lambda: 2});
    const optimizer = make();
    await train(model, [prox], {epochs: 3, optimizer});
    expect([name, prox.thresholds.length]).toEqual([name, 30]);
    for (const t of prox.thresholds) expect([name, t]).toEqual([name, 2 * lr]);
    const c = stored(model);
    expect([name, c.flat().every(Number.isFinite)]).toEqual([name, true]);
    expect([name, modelActiveKnots(model).total]).toEqual([name, exactKnots(c)]);
    expect([name, exactKnots(c) < 114]).toEqual([name, true]);
    optimizer.dispose();
    model.dispose();
  }
});

test('the threshold follows a learning-rate schedule', async () => {
  const model = net();
  const prox = new Recording({lambda: 3});
  const optimizer = tf.train.adam(0.01);
  const schedule = new (class extends tfl.Callback {
    override async onEpochBegin(epoch: number): Promise<void> {
      (optimizer as unknown as {learningRate: number}).learningRate = 0.01 * 0.5 ** epoch;
    }
  })();
  await train(model, [schedule, prox], {epochs: 3, optimizer});
  expect(prox.thresholds).toEqual([0, 1, 2].flatMap((e) => Array(10).fill(3 * 0.01 * 0.5 ** e)));
  optimizer.dispose();
  model.dispose();
});

test('no leak over 120 batches', async () => {
  const model = net({maxSlope: 2});
  const optimizer = tf.train.adam(0.01);
  await train(model, [tv2Prox({lambda: 5})], {epochs: 1, optimizer});  // creates the optimizer's slots
  const before = tf.memory().numTensors;
  await train(model, [tv2Prox({lambda: 5})], {epochs: 12, optimizer});
  expect(tf.memory().numTensors).toBe(before);
  optimizer.dispose();
  model.dispose();
});

test('clear errors for bad arguments and models without spline layers', async () => {
  const bad: Array<[unknown, string]> = [
    [undefined, 'tv2Prox: expected an arguments object {lambda}, got undefined'],
    [2, 'tv2Prox: expected an arguments object {lambda}, got 2'],
    [{}, 'tv2Prox: expected lambda (a finite number >= 0), got undefined'],
    [{lambda: -1}, 'tv2Prox: expected lambda >= 0, got -1'],
    [{lambda: NaN}, 'tv2Prox: expected lambda to be a finite number, got NaN'],
    [{lambda: '1'}, 'tv2Prox: expected lambda to be a finite number, got "1"'],
  ];
  for (const [args, message] of bad) expect(() => tv2Prox(args as {lambda: number})).toThrow(message);
  const dense = tfl.sequential({name: 'plain_model', layers: [tfl.layers.dense({units: 1, inputShape: [2]})]});
  const {x, y} = data();
  dense.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const before = tf.memory().numTensors;
  await expect(dense.fit(x, y, {epochs: 1, verbose: 0, callbacks: [tv2Prox({lambda: 1})]})).rejects.toThrow(
    'tv2Prox: the model has no SplineActivation layer (nested models included); the TV(2) prox acts on spline activations');
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, y]);
  dense.dispose();
  const layer = splineActivation({size: 5, range: 1});
  layer.apply(tfl.input({shape: [2]}));
  expect(layer).toBeInstanceOf(SplineActivation);
  expect(() => layer.softThresholdSlopes(-1)).toThrow(
    `splineActivation '${layer.name}': softThresholdSlopes: expected threshold >= 0, got -1`);
});

test('learnableScale: the prox thresholds the coefficients only; the scale trains, the removed knots are exactly 0', async () => {
  const model = net({learnableScale: true});
  await train(model, [tv2Prox({lambda: 5})]);
  expectScaledAndSparse(model);
  model.dispose();
});
