// The asynchronous bounds and certificates (lipschitzBoundAsync, certifiedRadiusAsync,
// certifiedAccuracyAsync, prepareInference): the same numbers as the synchronous functions,
// upper bounds of independently computed norms, and not one synchronous read (every
// `dataSync`/`arraySync` goes through the engine's readSync, which the tests make throw).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {splineActivation} from '@deepspline/layers';
import {certifiedAccuracy, certifiedAccuracyAsync, certifiedRadius, certifiedRadiusAsync, lipschitzBound,
  lipschitzBoundAsync, lipschitzCallback, prepareInference, registerLipschitzRule, spectralConv2d,
  spectralDense} from '@deepspline/lipschitz';
import type {LipschitzBoundOptions, TensorReads} from '@deepspline/lipschitz';
import {setSplineMathOnDevice} from '@deepspline/core/internal';
import {setRandomWeights} from '@deepspline/testing';
import {linearPartMatrix, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

/** Runs `fn` with every synchronous read of a tensor made an error; counts the attempts. */
async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<{value: T, attempts: number}> {
  const engine = tf.engine();
  let attempts = 0;
  const spy = jest.spyOn(engine, 'readSync').mockImplementation(() => {
    attempts++;
    if (process.env.DEBUG_SYNC_READS) console.log(new Error('a synchronous read').stack);
    throw new Error('a synchronous read');
  });
  try {
    const value = await fn();
    return {value, attempts};
  } finally {
    spy.mockRestore();
  }
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** Models that reach every built-in rule that reads a tensor. */
function models(): {name: string, model: tfl.LayersModel}[] {
  const dense = tfl.sequential({layers: [
    tfl.layers.dense({units: 6, inputShape: [5], activation: 'tanh'}),
    splineActivation({size: 11, range: 2}),
    tfl.layers.batchNormalization({}),
    tfl.layers.dense({units: 3}),
    tfl.layers.prelu({}),
  ]});
  const conv = tfl.sequential({layers: [
    tfl.layers.conv1d({filters: 3, kernelSize: 3, dilationRate: 2, inputShape: [12, 2]}),
    tfl.layers.reshape({targetShape: [8, 3, 1]}),
    tfl.layers.conv2d({filters: 2, kernelSize: 2, padding: 'same'}),
    tfl.layers.depthwiseConv2d({kernelSize: 2}),
    tfl.layers.separableConv2d({filters: 2, kernelSize: 2, padding: 'same'}),
    tfl.layers.averagePooling2d({poolSize: 2, strides: 1}),
    tfl.layers.flatten({}),
    tfl.layers.dense({units: 2}),
  ]});
  const spectral = tfl.sequential({layers: [
    spectralConv2d({filters: 3, kernelSize: 3, inputShape: [6, 6, 1], orthonormalize: 'bjorck'}),
    tfl.layers.flatten({}),
    spectralDense({units: 8, orthonormalize: 'bjorck'}),
    splineActivation({size: 11, range: 1, maxSlope: 1}),
    spectralDense({units: 1}),
  ]});
  const input = tfl.input({shape: [4]});
  const inner = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [4]}), splineActivation({size: 7, range: 1})]});
  const a = inner.apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.dense({units: 4}).apply(input) as tfl.SymbolicTensor;
  const merged = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
  const graph = tfl.model({inputs: input, outputs: tfl.layers.dense({units: 2}).apply(merged) as tfl.SymbolicTensor});
  const all = [{name: 'dense + spline + batchnorm + prelu', model: dense as tfl.LayersModel},
    {name: 'convolutions and pooling', model: conv}, {name: 'spectral layers', model: spectral},
    {name: 'nested model and Add', model: graph}];
  all.forEach(({model}, i) => setRandomWeights(model, 31 + i, 0.5));
  // a positive moving variance, as batch normalization has
  const bn = dense.layers[2]!;
  const [gamma, beta, mean, variance] = bn.getWeights();
  const positive = tf.add(tf.abs(variance!), 0.1);
  bn.setWeights([gamma!, beta!, mean!, positive]);
  positive.dispose();
  return all;
}

describe('lipschitzBoundAsync', () => {
  const cases: LipschitzBoundOptions[] = [{norm: 2}, {norm: 1}, {norm: Infinity}, {method: 'paper'},
    {method: 'paperOnOutput'}];

  afterEach(() => setSplineMathOnDevice(null));

  test('the synchronous bound, per layer, without one synchronous read, and no leak', async () => {
    for (const {name, model} of models()) {
      await prepareInference(model);  // the spectral layers' cached kernels (the layers own them)
      for (const options of cases) {
        // BV(2) (the paper methods) reads the coefficients for float64 arithmetic except on
        // webgpu, where core computes it on the device: as there
        setSplineMathOnDevice(options.method != null);
        const before = tf.memory().numTensors;
        const {value: got, attempts} = await withoutSyncReads(() => lipschitzBoundAsync(model, options));
        expect({name, options, attempts}).toEqual({name, options, attempts: 0});
        expect(tf.memory().numTensors).toBe(before);
        const want = lipschitzBound(model, options);
        expect(got.norm).toBe(want.norm);
        expect(got.method).toBe(want.method);
        expect(got.layers.map((l) => [l.name, l.className, l.combine])).toEqual(
          want.layers.map((l) => [l.name, l.className, l.combine]));
        // Lanczos starts from fresh random vectors each run: equal to its tolerance
        got.layers.forEach((l, i) => expect(rel(l.factor, want.layers[i]!.factor)).toBeLessThan(1e-6));
        expect(rel(got.bound, want.bound)).toBeLessThan(1e-6);
      }
      model.dispose();
    }
  });

  test('the synchronous bound is what the spy catches: it reads synchronously', async () => {
    const [{model}] = models();
    const {attempts} = await withoutSyncReads(async () => {
      try { lipschitzBound(model!); } catch { /* the spy's error */ }
    });
    expect(attempts).toBeGreaterThan(0);
    model!.dispose();
  });

  test('an upper bound of the exact l2 norm of each linear layer (SVD of its explicit matrix)', async () => {
    for (const [rows, cols, seed] of [[7, 5, 1], [5, 9, 2], [16, 16, 3], [1, 6, 4]] as const) {
      const model = tfl.sequential({layers: [tfl.layers.dense({units: cols, inputShape: [rows], useBias: false})]});
      setRandomWeights(model, seed);
      const {m, rows: r, cols: c} = linearPartMatrix((x) => model.predict(x) as Tensor, [rows]);
      const exact = spectralNormSvd(m, r, c);
      const {bound} = await lipschitzBoundAsync(model);
      expect(bound).toBeGreaterThanOrEqual(exact);
      expect(bound).toBeLessThanOrEqual(exact * (1 + 1e-6));
      model.dispose();
    }
    const conv = tfl.sequential({layers: [tfl.layers.conv2d({filters: 2, kernelSize: 3, inputShape: [7, 7, 2],
      padding: 'same', useBias: false})]});
    setRandomWeights(conv, 9);
    const {m, rows, cols} = linearPartMatrix((x) => conv.predict(x) as Tensor, [7, 7, 2]);
    const exact = spectralNormSvd(m, rows, cols);
    // the Fourier bound of the kernel (a proven bound; on 7x7 inputs a few % above the norm)
    const {bound} = await lipschitzBoundAsync(conv, {powerIteration: {explicitLimit: 0}});
    expect(bound).toBeGreaterThanOrEqual(exact);
    expect(bound).toBeLessThanOrEqual(exact * 1.1);
    conv.dispose();
  });

  test('rules: a generator rule reads asynchronously, a plain one synchronously, both give the factor', async () => {
    class Scale extends tfl.layers.Layer {
      static className = 'AsyncTestScale';
      scale!: tfl.LayerVariable;
      override build(): void {
        this.scale = this.addWeight('scale', [], 'float32', tfl.initializers.constant({value: -3}));
        this.built = true;
      }
      override call(x: Tensor | Tensor[]): Tensor {
        return tf.mul(Array.isArray(x) ? x[0]! : x, this.scale.read());
      }
    }
    tf.serialization.registerClass(Scale);
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [3]}), new Scale({})]});
    registerLipschitzRule('AsyncTestScale', function* (layer): TensorReads<number> {
      const s = tf.abs((layer as Scale).scale.read());
      try { return (yield s)[0]!; } finally { s.dispose(); }
    });
    const generator = await withoutSyncReads(() => lipschitzBoundAsync(model));
    expect(generator.attempts).toBe(0);
    expect(generator.value.bound).toBe(3);
    expect(lipschitzBound(model).bound).toBe(3);
    registerLipschitzRule('AsyncTestScale', (layer) => Math.abs((layer as Scale).scale.read().dataSync()[0]!));
    expect((await lipschitzBoundAsync(model)).bound).toBe(3);
    model.dispose();
  });

  test('bad input rejects with the async name; an error inside the walk leaks nothing', async () => {
    await expect(lipschitzBoundAsync({} as tfl.LayersModel)).rejects.toThrow(
      'lipschitzBoundAsync: expected a tfjs-layers model (tf.sequential or tf.model), got {}');
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]})]});
    await expect(lipschitzBoundAsync(model, {norm: 3})).rejects.toThrow('lipschitzBoundAsync: expected norm to be 1, 2 or Infinity, got 3');
    await expect(lipschitzBoundAsync(model, {method: 'x' as never})).rejects.toThrow(
      "lipschitzBoundAsync: expected method 'operator', 'paper', 'paperOnOutput', got \"x\"");
    model.dispose();
    const conv = tfl.sequential({layers: [tfl.layers.conv2d({filters: 2, kernelSize: 2, inputShape: [4, 4, 1]}),
      tfl.layers.flatten({}), tfl.layers.dense({units: 1})]});
    conv.layers[2]!.setWeights([tf.fill([18, 1], NaN), tf.zeros([1])]);
    const before = tf.memory().numTensors;
    await expect(lipschitzBoundAsync(conv)).rejects.toThrow(
      "lipschitzBoundAsync: layer 'dense_");
    expect(tf.memory().numTensors).toBe(before);
    conv.dispose();
  });
});

describe('prepareInference, certifiedRadiusAsync, certifiedAccuracyAsync', () => {
  function lipschitzNet(): tfl.Sequential {
    const model = tfl.sequential({layers: [
      spectralDense({units: 16, inputShape: [2], orthonormalize: 'bjorck'}),
      splineActivation({size: 21, range: 1, maxSlope: 1}),
      spectralDense({units: 3}),
    ]});
    setRandomWeights(model, 5);
    return model;
  }
  const points = () => tf.tensor2d([[0.1, 0.2], [-0.5, 0.3], [0.9, -0.9], [0, 0]]);

  test('after prepareInference, predict on spectral layers reads nothing synchronously', async () => {
    const model = lipschitzNet();
    const x = points();
    const cold = await withoutSyncReads(async () => {
      try { (model.predict(x) as Tensor).dispose(); } catch { /* the spy's error */ }
    });
    expect(cold.attempts).toBeGreaterThan(0);  // a spectral layer certifies its kernel by a read
    const {attempts} = await withoutSyncReads(async () => {
      await prepareInference(model);
      const y = model.predict(x) as Tensor;
      const values = await y.data();
      y.dispose();
      return values;
    });
    expect(attempts).toBe(0);
    tf.dispose(x);
    model.dispose();
  });

  test('a fused spectral softmax inside a nested model: its linear copy is certified without synchronous reads', async () => {
    const head = tfl.sequential({name: 'head', layers: [
      spectralDense({units: 3, inputShape: [16], activation: 'softmax', orthonormalize: 'bjorck'})]});
    const model = tfl.sequential({layers: [spectralDense({units: 16, inputShape: [2]}),
      splineActivation({size: 21, range: 1, maxSlope: 1}), head, tfl.layers.reshape({targetShape: [3, 1]})]});
    setRandomWeights(model, 6);
    const x = points();
    await prepareInference(model);
    const before = tf.memory().numTensors;
    const radius = await withoutSyncReads(() => certifiedRadiusAsync(model, x));
    expect(radius.attempts).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    expect(radius.value.scores).toBe('logits');
    const want = certifiedRadius(model, x);
    expect(radius.value.predicted).toEqual(want.predicted);
    radius.value.radius.forEach((r, i) => expect(rel(r, want.radius[i]!)).toBeLessThan(1e-6));
    tf.dispose(x);
    model.dispose();
  });

  test('the radii and accuracies of the synchronous functions, without synchronous reads', async () => {
    const model = lipschitzNet();
    const x = points();
    const y = tf.tensor1d([0, 1, 2, 1], 'int32');
    await prepareInference(model);  // the layers' cached kernels (the layers own them)
    const before = tf.memory().numTensors;
    const radius = await withoutSyncReads(() => certifiedRadiusAsync(model, x));
    const accuracy = await withoutSyncReads(() => certifiedAccuracyAsync(model, x, y, {epsilons: [0, 0.01]}));
    expect([radius.attempts, accuracy.attempts]).toEqual([0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    const want = certifiedRadius(model, x);
    expect(radius.value.predicted).toEqual(want.predicted);
    radius.value.radius.forEach((r, i) => expect(rel(r, want.radius[i]!)).toBeLessThan(1e-6));
    const wantAccuracy = certifiedAccuracy(model, x, y, {epsilons: [0, 0.01]});
    expect(accuracy.value.correct).toEqual(wantAccuracy.correct);
    expect(accuracy.value.accuracy).toEqual(wantAccuracy.accuracy);
    await expect(certifiedRadiusAsync(model, [1, 2] as never)).rejects.toThrow(
      'certifiedRadiusAsync: expected points x as a tensor of shape [batch, ...inputShape], got');
    await expect(certifiedAccuracyAsync(model, x, tf.tensor1d([0]))).rejects.toThrow(
      'certifiedAccuracyAsync: expected 4 labels (one per point), got y of shape [1]');
    await expect(prepareInference(null as never)).rejects.toThrow(
      'prepareInference: expected a tfjs-layers model (tf.sequential or tf.model), got null');
    tf.dispose([x, y]);
    model.dispose();
  });
});

describe('lipschitzCallback reads asynchronously', () => {
  test.each(['monitor', 'constrain'] as const)('mode %s: fit reads nothing synchronously; the bound holds', async (mode) => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 8, inputShape: [2]}),
      splineActivation({size: 11, range: 1}),
      tfl.layers.dense({units: 1}),
    ]});
    setRandomWeights(model, 3);
    model.compile({optimizer: tf.train.adam(0.05), loss: 'meanSquaredError'});
    const x = tf.randomUniform([64, 2], -1, 1, 'float32', 1);
    const y = tf.sum(tf.square(x), 1, true);
    if (mode === 'constrain') expect(lipschitzBound(model).bound).toBeGreaterThan(3);  // so it projects
    const callback = lipschitzCallback(mode === 'constrain' ? {mode, target: 1.5} : {mode, everyBatches: 1});
    const {value: history, attempts} = await withoutSyncReads(() =>
      model.fit(x, y, {epochs: 2, batchSize: 16, verbose: 0, callbacks: [callback]}));
    expect(attempts).toBe(0);
    const bounds = history.history.lipschitz as number[];
    expect(bounds).toHaveLength(2);
    const exact = lipschitzBound(model).bound;  // the synchronous bound of the final weights
    expect(rel(bounds[1]!, exact)).toBeLessThan(1e-6);
    expect(callback.records.length).toBe(2 + 8);  // a record per batch and per epoch
    if (mode === 'constrain') expect(callback.records.every((r) => r.bound <= 1.5)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });
});
