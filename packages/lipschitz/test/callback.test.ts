import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {LipschitzCallback, lipschitzBound, lipschitzCallback} from '@deepspline/lipschitz';
import {rng, rowsOf, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

function data(n: number, seed: number): {xs: Tensor, ys: Tensor} {
  const r = rng(seed);
  const x = Array.from({length: n}, () => [2 * r() - 1, 2 * r() - 1]);
  // a target with Lipschitz constant < 1 (so a 1-Lipschitz model can fit it)
  const y = x.map(([a, b]) => [0.5 * Math.sin(1.5 * a!) + 0.3 * b!]);
  return {xs: tf.tensor2d(x), ys: tf.tensor2d(y)};
}

function denseSplineModel(seed: number): tfl.Sequential {
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 8, inputShape: [2], kernelInitializer: tfl.initializers.randomUniform({minval: -2, maxval: 2, seed})}),
    splineActivation({size: 11, range: 1, init: 'leaky_relu'}),
    tfl.layers.dense({units: 8, kernelInitializer: tfl.initializers.randomUniform({minval: -2, maxval: 2, seed: seed + 1})}),
    splineActivation({size: 11, range: 1, init: 'tanh'}),
    tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.randomUniform({minval: -2, maxval: 2, seed: seed + 2})}),
  ]});
  model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
  return model;
}

/** Operator bound computed independently: Jacobi spectral norms and spline slopes in float64. */
function independentBound(model: tfl.LayersModel): number {
  let bound = 1;
  for (const layer of model.layers) {
    const w = layer.getWeights()[0]!;
    if (layer instanceof SplineActivation) {
      const step = layer.step;
      bound *= Math.max(...rowsOf(w).map((c) => Math.max(...c.slice(1).map((v, k) => Math.abs(v - c[k]!) / step))));
    } else {
      bound *= spectralNormSvd(w.dataSync(), w.shape[0]!, w.shape[1]!);
    }
  }
  return bound;
}

describe('LipschitzCallback', () => {
  test('monitor: history.history.lipschitz holds the bound after each epoch; verbose prints', async () => {
    const model = denseSplineModel(1);
    const {xs, ys} = data(64, 1);
    const printed: string[] = [];
    const after: number[] = [];
    const cb = lipschitzCallback({verbose: true, print: (m) => printed.push(m), everyBatches: 2});
    const probe = new tfl.CustomCallback({onEpochEnd: async () => { after.push(independentBound(model)); }});
    const h = await model.fit(xs, ys, {epochs: 3, batchSize: 16, verbose: 0, callbacks: [cb, probe]});
    const values = h.history.lipschitz as number[];
    expect(values).toHaveLength(3);
    values.forEach((v, i) => expect(Math.abs(v - after[i]!) / after[i]!).toBeLessThan(1e-5));
    expect(values[0]).not.toBe(values[2]);  // it changes with training
    expect(printed).toHaveLength(3);
    expect(printed[0]).toMatch(/^Epoch 1: Lipschitz bound \(operator, norm 2\) = \d/);
    expect(cb.records.filter((r) => r.batch >= 0)).toHaveLength(6);  // 4 batches x 3 epochs / 2
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('constrain: the bound after every batch stays <= target (1 + 1e-3) and the model learns', async () => {
    const model = denseSplineModel(7);
    const {xs, ys} = data(240, 2);
    expect(independentBound(model)).toBeGreaterThan(3);  // starts well above the target
    const initialLoss = (model.evaluate(xs, ys) as tf.Scalar);
    const l0 = initialLoss.dataSync()[0]!;
    initialLoss.dispose();
    const bounds: number[] = [];
    const probe = new tfl.CustomCallback({onBatchEnd: async () => {
      bounds.push(Math.max(lipschitzBound(model).bound, independentBound(model)));
    }});
    const cb = lipschitzCallback({mode: 'constrain', target: 1});
    const h = await model.fit(xs, ys, {epochs: 3, batchSize: 24, verbose: 0, callbacks: [cb, probe]});
    expect(bounds).toHaveLength(30);
    expect(Math.max(...bounds)).toBeLessThanOrEqual(1 + 1e-3);
    expect(Math.max(...bounds)).toBeGreaterThan(0.9);  // the constraint is active, not trivial
    const losses = h.history.loss as number[];
    const finalLoss = (model.evaluate(xs, ys) as tf.Scalar);
    const l1 = finalLoss.dataSync()[0]!;
    finalLoss.dispose();
    expect(losses[2]).toBeLessThan(losses[0]!);
    expect(l1).toBeLessThan(0.5 * l0);
    expect((h.history.lipschitz as number[]).every((b) => b <= 1 + 1e-3)).toBe(true);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('works with fitDataset, and leaks no tensors over 100 batches', async () => {
    const model = denseSplineModel(3);
    const {xs, ys} = data(8, 3);
    const dataset = {
      size: null,
      iterator: async () => ({next: async () => ({value: {xs: tf.clone(xs), ys: tf.clone(ys)}, done: false})}),  // fitDataset disposes each batch
    } as unknown as Parameters<tfl.LayersModel['fitDataset']>[0];
    const cbs = () => [lipschitzCallback({mode: 'constrain', target: 1}), lipschitzCallback({everyBatches: 1, logKey: 'lip2'})];
    await model.fitDataset(dataset, {epochs: 1, batchesPerEpoch: 2, verbose: 0, callbacks: cbs()});  // warm-up (Adam slots)
    const before = tf.memory().numTensors;
    const h = await model.fitDataset(dataset, {epochs: 2, batchesPerEpoch: 50, verbose: 0, callbacks: cbs()});
    expect(tf.memory().numTensors).toBe(before);
    expect(h.history.lipschitz).toHaveLength(2);
    expect(h.history.lip2).toHaveLength(2);
    expect(lipschitzBound(model).bound).toBeLessThanOrEqual(1 + 1e-3);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('constrain: convolutions and a residual Add (bisection on the non-homogeneous bound)', async () => {
    const input = tfl.input({shape: [6, 6, 1]});
    const c1 = tfl.layers.conv2d({filters: 2, kernelSize: 3, padding: 'same',
      kernelInitializer: tfl.initializers.randomUniform({minval: -1, maxval: 1, seed: 1})}).apply(input) as tfl.SymbolicTensor;
    const s1 = splineActivation({size: 7, range: 1, init: 'tanh'}).apply(c1) as tfl.SymbolicTensor;
    const c2 = tfl.layers.depthwiseConv2d({kernelSize: 3, padding: 'same',
      depthwiseInitializer: tfl.initializers.randomUniform({minval: -1, maxval: 1, seed: 2})}).apply(s1) as tfl.SymbolicTensor;
    const c3 = tfl.layers.conv2d({filters: 1, kernelSize: 1}).apply(c2) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([input, c3]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({units: 1}).apply(tfl.layers.flatten().apply(sum)) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: out});
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const xs = tf.randomUniform([32, 6, 6, 1], -1, 1, 'float32', 4);
    const ys = tf.randomUniform([32, 1], -1, 1, 'float32', 5);
    expect(lipschitzBound(model).bound).toBeGreaterThan(2);
    const bounds: number[] = [];
    const probe = new tfl.CustomCallback({onBatchEnd: async () => { bounds.push(lipschitzBound(model).bound); }});
    await model.fit(xs, ys, {epochs: 2, batchSize: 8, verbose: 0,
      callbacks: [lipschitzCallback({mode: 'constrain', target: 2}), probe]});
    expect(bounds).toHaveLength(8);
    expect(Math.max(...bounds)).toBeLessThanOrEqual(2 * (1 + 1e-3));
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('constrain: frozen layers keep their weights, the trainable ones take the rescaling', async () => {
    const model = denseSplineModel(11);
    const frozen = model.layers[0]!;
    frozen.trainable = false;
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const kernel = Array.from(frozen.getWeights()[0]!.dataSync());
    const frozenNorm = spectralNormSvd(Float32Array.from(kernel), 2, 8);
    expect(frozenNorm).toBeGreaterThan(1.5);  // the frozen layer alone exceeds the target
    const {xs, ys} = data(96, 4);
    const bounds: number[] = [];
    const probe = new tfl.CustomCallback({onBatchEnd: async () => { bounds.push(independentBound(model)); }});
    const printed: string[] = [];
    await model.fit(xs, ys, {epochs: 2, batchSize: 24, verbose: 0,
      callbacks: [lipschitzCallback({mode: 'constrain', target: 1, print: (m) => printed.push(m)}), probe]});
    expect(Array.from(frozen.getWeights()[0]!.dataSync())).toEqual(kernel);
    expect(bounds).toHaveLength(8);
    expect(Math.max(...bounds)).toBeLessThanOrEqual(1 + 1e-3);
    expect(printed).toEqual([]);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('constrain: when frozen layers alone exceed the target it warns once and keeps them, unless rescaleFrozen', async () => {
    const make = () => {
      const input = tfl.input({shape: [2]});
      const fixed = tfl.layers.dense({units: 3, trainable: false, name: 'pretrained',
        kernelInitializer: tfl.initializers.randomUniform({minval: -2, maxval: 2, seed: 5})}).apply(input) as tfl.SymbolicTensor;
      const learned = tfl.layers.dense({units: 3, name: 'learned',
        kernelInitializer: tfl.initializers.randomUniform({minval: -2, maxval: 2, seed: 6})}).apply(input) as tfl.SymbolicTensor;
      const model = tfl.model({inputs: input, outputs: tfl.layers.add().apply([fixed, learned]) as tfl.SymbolicTensor});
      model.compile({optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError'});
      return model;
    };
    const norm = (m: tfl.LayersModel, name: string) => {
      const w = m.getLayer(name).getWeights()[0]!;
      return spectralNormSvd(w.dataSync(), 2, 3);
    };
    const xs = tf.randomUniform([16, 2], -1, 1, 'float32', 7);
    const ys = tf.randomUniform([16, 3], -1, 1, 'float32', 8);
    const kept = make();
    const kernel = Array.from(kept.getLayer('pretrained').getWeights()[0]!.dataSync());
    expect(norm(kept, 'pretrained')).toBeGreaterThan(1.2);
    const printed: string[] = [];
    await kept.fit(xs, ys, {epochs: 2, batchSize: 8, verbose: 0,
      callbacks: [lipschitzCallback({mode: 'constrain', target: 1, print: (m) => printed.push(m)})]});
    expect(Array.from(kept.getLayer('pretrained').getWeights()[0]!.dataSync())).toEqual(kernel);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^lipschitzCallback: could not bring the bound [\d.]+ under the target 1: the fixed factors \(skip connections, activations, pooling, the frozen layers 'pretrained'\) exceed it; frozen layers keep their weights unless rescaleFrozen is true$/);
    const rescaled = make();
    await rescaled.fit(xs, ys, {epochs: 2, batchSize: 8, verbose: 0,
      callbacks: [lipschitzCallback({mode: 'constrain', target: 1, rescaleFrozen: true})]});
    expect(norm(rescaled, 'pretrained') + norm(rescaled, 'learned')).toBeLessThanOrEqual(1 + 1e-3);
    tf.dispose([xs, ys]);
    kept.dispose();
    rescaled.dispose();
  });

  test('bad arguments are clear errors', () => {
    expect(() => lipschitzCallback({mode: 'constrain'})).toThrow(
      "lipschitzCallback: mode 'constrain' needs a target (a finite number > 0), got undefined");
    expect(() => lipschitzCallback({mode: 'constrain', target: -1})).toThrow(/expected target > 0, got -1/);
    expect(() => lipschitzCallback({target: 1})).toThrow(
      "lipschitzCallback: target is only used with mode 'constrain', got target 1 with mode 'monitor'");
    expect(() => lipschitzCallback({mode: 'clip' as never})).toThrow(/expected mode 'monitor' or 'constrain', got "clip"/);
    expect(() => lipschitzCallback({norm: 3})).toThrow(/expected norm to be 1, 2 or Infinity, got 3/);
    expect(() => lipschitzCallback({everyBatches: 0})).toThrow(/expected everyBatches to be an integer >= 1, got 0/);
    expect(() => lipschitzCallback({mode: 'constrain', target: 1, method: 'paper'})).toThrow(/uses the 'operator' bound/);
    expect(() => lipschitzCallback({mode: 'constrain', target: 1, rescaleFrozen: 'yes' as never})).toThrow(
      'lipschitzCallback: expected rescaleFrozen to be a boolean, got "yes"');
    expect(() => lipschitzCallback().measure()).toThrow(
      "lipschitzCallback: expected the callback to be attached to a tfjs-layers model (passed in fit's callbacks), got null");
    expect(lipschitzCallback()).toBeInstanceOf(LipschitzCallback);
    expect(lipschitzCallback()).toBeInstanceOf(tfl.Callback);
  });
});
