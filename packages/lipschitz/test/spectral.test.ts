import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {groupSort, lipschitzBound, losses, tv2Regularizer, SpectralConv2D, SpectralDense, spectralConv2d,
  spectralDense} from '@deepspline/lipschitz';
import {linearPartMatrix, rng, rowsOf, spectralNormSvd, tv2Js, useCpu} from './helpers.js';

beforeAll(useCpu);

/** Lipschitz constant of a spline layer's actual map: slopes between its knots, float64. */
function splineLayerLipschitz(layer: SplineActivation, channels: number): number {
  const {start, step, size} = {start: -layer.grid.range, step: layer.step, size: layer.size};
  const xs = [start - 1, ...Array.from({length: size}, (_, k) => start + k * step), start + (size - 1) * step + 1];
  const input = tf.tensor2d(xs.map((x) => Array(channels).fill(x)));
  const y = layer.apply(input) as Tensor;
  const out = y.arraySync() as number[][];
  tf.dispose([input, y]);
  let best = 0;
  for (let i = 1; i < xs.length; ++i) {
    for (let c = 0; c < channels; ++c) best = Math.max(best, Math.abs(out[i]![c]! - out[i - 1]![c]!) / (xs[i]! - xs[i - 1]!));
  }
  return best;
}

/** Independent l2 bound of a chain model: SVD of every linear layer's actual map, spline slopes. */
function independentBound(model: tfl.LayersModel): number {
  let bound = 1;
  let shape = model.inputs[0]!.shape.slice(1) as number[];
  for (const layer of model.layers) {
    if (layer instanceof SplineActivation) {
      bound *= splineLayerLipschitz(layer, shape[shape.length - 1]!);
    } else if (layer.getClassName() === 'GroupSort' || layer.getClassName() === 'Flatten') {
      // 1-Lipschitz: a permutation per region; a reshape
    } else {
      const {m, rows, cols} = linearPartMatrix((x) => layer.apply(x) as Tensor, shape);
      bound *= spectralNormSvd(m, rows, cols);
    }
    shape = (layer.outputShape as number[]).slice(1);
  }
  return bound;
}

function sShape(n: number, seed: number): {xs: Tensor, ys: Tensor} {
  const r = rng(seed);
  const pts = Array.from({length: n}, () => [2 * r() - 1, 2 * r() - 1]);
  const lab = pts.map(([x, y]) => (Math.abs(x! - 0.4 * Math.sin(-5 * y!)) < 0.3 && Math.abs(y!) < 0.8 ? 1 : 0));
  return {xs: tf.tensor2d(pts), ys: tf.tensor2d(lab, [n, 1])};
}

function lip1Spline(bjorck: boolean): tfl.Sequential {
  const orthonormalize = bjorck ? 'bjorck' as const : 'none' as const;
  return tfl.sequential({layers: [
    spectralDense({units: 16, inputShape: [2], orthonormalize, kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
    splineActivation({size: 21, range: 1, maxSlope: 1, init: 'abs'}),
    spectralDense({units: 16, orthonormalize, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    splineActivation({size: 21, range: 1, maxSlope: 1, init: 'abs'}),
    spectralDense({units: 1, orthonormalize, kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}),
  ]});
}

describe('spectral layers', () => {
  test.each([false, true])('a 1-Lipschitz spline net (bjorck %p): certified bound <= 1 + 1e-6 after every batch, no callback', async (bjorck) => {
    const model = lip1Spline(bjorck);
    model.compile({optimizer: tf.train.adam(0.01), loss: losses.tauBinaryCrossentropy({tau: 16})});
    const {xs, ys} = sShape(96, 1);
    const seen: {certified: number, truth: number}[] = [];
    const counts: number[][] = [];
    const probe = new tfl.CustomCallback({
      onEpochBegin: async () => { counts.push([]); },
      onBatchEnd: async () => {
        seen.push({certified: lipschitzBound(model).bound, truth: independentBound(model)});
        counts.at(-1)!.push(tf.memory().numTensors);
      },
    });
    await model.fit(xs, ys, {epochs: 4, batchSize: 16, verbose: 0, callbacks: [probe]});
    expect(seen).toHaveLength(24);
    for (const {certified, truth} of seen) {
      expect(truth).toBeLessThanOrEqual(certified * (1 + 1e-6));
      expect(certified).toBeLessThanOrEqual(1 + 1e-6);
    }
    expect(seen.at(-1)!.truth).toBeGreaterThan(0.3);  // not a collapsed network
    // no tensor is left behind by a batch (after the optimizer made its slots in the first)
    for (const epoch of counts.slice(1)) expect(new Set(epoch).size).toBe(1);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('a spectral conv net with groupSort: certified bound <= lipschitz, >= the explicit operator norm', async () => {
    const model = tfl.sequential({layers: [
      spectralConv2d({filters: 4, kernelSize: 3, padding: 'same', inputShape: [6, 6, 2], lipschitz: 2,
        kernelInitializer: tfl.initializers.glorotUniform({seed: 4})}),
      groupSort({groupSize: 2}),
      spectralConv2d({filters: 2, kernelSize: 2, strides: 2, orthonormalize: 'bjorck',
        kernelInitializer: tfl.initializers.glorotUniform({seed: 5})}),
      tfl.layers.flatten(),
      spectralDense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 6})}),
    ]});
    model.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const r = rng(5);
    const xs = tf.tensor4d(Array.from({length: 16 * 72}, () => 2 * r() - 1), [16, 6, 6, 2]);
    const ys = tf.tidy(() => tf.reshape(tf.mean(xs, [1, 2, 3]), [16, 1]));
    for (let epoch = 0; epoch < 3; ++epoch) {
      await model.fit(xs, ys, {epochs: 1, batchSize: 8, verbose: 0});
      const {bound, layers} = lipschitzBound(model);
      const truth = independentBound(model);
      expect(truth).toBeLessThanOrEqual(bound * (1 + 1e-6));
      expect(bound).toBeLessThanOrEqual(2 * (1 + 1e-6));
      expect(layers.map((l) => l.className)).toEqual(['InputLayer', 'SpectralConv2D', 'GroupSort', 'SpectralConv2D', 'Flatten', 'SpectralDense']);
    }
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('save/load round trip: same config, same predictions (bits)', async () => {
    const model = tfl.sequential({layers: [
      spectralConv2d({filters: 3, kernelSize: 3, inputShape: [5, 5, 1], orthonormalize: 'bjorck', bjorckSteps: 7,
        trainingBjorckSteps: 2, activation: 'relu'}),
      tfl.layers.flatten(),
      spectralDense({units: 4, lipschitz: 0.5, powerIterations: 2}),
      groupSort({groupSize: 2}),
    ]});
    model.compile({optimizer: 'adam', loss: 'meanSquaredError'});
    const x = tf.randomUniform([3, 5, 5, 1], -1, 1, 'float32', 3);
    await model.fit(x, tf.zeros([3, 4]), {epochs: 2, verbose: 0});
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => { saved = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
    const json = JSON.parse(JSON.stringify(saved!.modelTopology));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory({...saved!, modelTopology: json}));
    const a = (model.predict(x) as Tensor).dataSync();
    const b = (loaded.predict(x) as Tensor).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    const c0 = loaded.layers[0] as SpectralConv2D;
    expect(c0).toBeInstanceOf(SpectralConv2D);
    expect(c0.spectralOptions).toEqual({lipschitz: 1, orthonormalize: 'bjorck', bjorckSteps: 7, trainingBjorckSteps: 2,
      powerIterations: 3});
    expect((loaded.layers[2] as SpectralDense).spectralOptions.lipschitz).toBe(0.5);
    model.dispose();
    loaded.dispose();
  });

  test('TV(2) still applies to maxSlope splines between spectral layers', async () => {
    const tvAfter = async (lambda: number) => {
      const model = tfl.sequential({layers: [
        spectralDense({units: 8, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({seed: 7})}),
        splineActivation({size: 21, range: 1, maxSlope: 1, init: 'abs',
          coefficientsRegularizer: lambda > 0 ? tv2Regularizer({lambda}) : undefined}),
        spectralDense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 8})}),
      ]});
      model.compile({optimizer: tf.train.adam(0.02), loss: losses.tauBinaryCrossentropy({tau: 16})});
      const {xs, ys} = sShape(128, 4);
      await model.fit(xs, ys, {epochs: 6, batchSize: 16, verbose: 0});
      const layer = model.layers[1] as SplineActivation;
      // the penalty is on the stored coefficients (the clipped ones are what call evaluates)
      const total = rowsOf(layer.getWeights()[0]!).reduce((a, c) => a + tv2Js(c, layer.step), 0);
      tf.dispose([xs, ys]);
      model.dispose();
      return total;
    };
    const free = await tvAfter(0);
    const penalised = await tvAfter(0.05);
    expect(penalised).toBeLessThan(0.7 * free);
  });

  test('bad arguments name the value', () => {
    expect(() => spectralDense({units: 2, lipschitz: 0})).toThrow(/spectralDense: expected lipschitz > 0, got 0/);
    expect(() => spectralDense({units: 2, orthonormalize: 'qr' as never})).toThrow(/expected orthonormalize 'none' or 'bjorck', got "qr"/);
    expect(() => spectralConv2d({filters: 2, kernelSize: 3, bjorckSteps: 0})).toThrow(/bjorckSteps/);
    expect(() => spectralDense({units: 2, trainingBjorckSteps: 1.5})).toThrow(/trainingBjorckSteps/);
    for (const dilationRate of [2, [2, 2], [1, 2], [2, 1]] as Array<number | [number, number]>) {
      expect(() => spectralConv2d({filters: 2, kernelSize: 3, dilationRate})).toThrow(
        `spectralConv2d: expected dilationRate 1 (tfjs 4.22 has no gradient for dilated convolutions, so ` +
        `the layer could not train), got ${JSON.stringify(dilationRate)}`);
    }
    for (const [make, context] of [[spectralDense, 'spectralDense'], [spectralConv2d, 'spectralConv2d']] as const) {
      const args = {units: 2, filters: 2, kernelSize: 3};
      // (tfjs adds customObjects to the config it is given)
      expect(() => make({...args, kernelRegularizer: {className: 'Dense', config: {units: 1}} as never})).toThrow(
        new RegExp(`^${context}: expected kernelRegularizer to be a regularizer \\(an instance, a name or ` +
        '\\{className, config\\}\\), got \\{"className":"Dense","config":\\{"units":1.*\\}, which makes a Dense, not a regularizer$'));
      expect(() => make({...args, biasRegularizer: 'NonNeg' as never})).toThrow(
        /expected biasRegularizer to be a regularizer .*got "NonNeg", which makes a NonNeg, not a regularizer/);
      expect(() => make({...args, activityRegularizer: 'NonNeg' as never})).toThrow(/expected activityRegularizer/);
      expect(() => make({...args, kernelConstraint: 'L1L2' as never})).toThrow(
        /expected kernelConstraint to be a constraint .*got "L1L2", which makes a L1L2, not a constraint/);
      expect(() => make({...args, biasConstraint: 'L1L2' as never})).toThrow(/expected biasConstraint/);
      expect(() => make({...args, kernelRegularizer: 'l1l2', kernelConstraint: 'nonNeg'})).not.toThrow();
    }
    for (const dilationRate of [1, [1, 1]] as Array<number | [number, number]>) {
      expect(spectralConv2d({filters: 2, kernelSize: 3, dilationRate}).getConfig().dilationRate).toEqual([1, 1]);
    }
    expect(() => spectralDense(null as never)).toThrow(/expected an arguments object, got null/);
  });
});

describe('spectral layers: leaks and backends', () => {
  afterAll(useCpu);

  const tiny = () => {
    const model = tfl.sequential({layers: [
      spectralDense({units: 8, inputShape: [2], orthonormalize: 'bjorck', bjorckSteps: 5,
        kernelInitializer: tfl.initializers.glorotUniform({seed: 11})}),
      splineActivation({size: 9, range: 1, maxSlope: 1, init: 'abs'}),
      spectralDense({units: 8, kernelInitializer: tfl.initializers.glorotUniform({seed: 12})}),
      groupSort({groupSize: 2}),
      spectralDense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 13})}),
    ]});
    model.compile({optimizer: tf.train.sgd(0.05), loss: losses.tauBinaryCrossentropy({tau: 8})});
    return model;
  };
  const data = () => sShape(64, 3);

  test('no tensor leaks over 100 batches of fit, predict and lipschitzBound', async () => {
    const model = tiny();
    const {xs, ys} = data();
    const counts: number[] = [];
    const probe = new tfl.CustomCallback({onBatchEnd: async () => {
      lipschitzBound(model);
      tf.dispose(model.predict(xs) as Tensor);
      counts.push(tf.memory().numTensors);
    }});
    await model.fit(xs, ys, {epochs: 1, batchSize: 4, verbose: 0, callbacks: [probe]});  // the optimizer's slots
    counts.length = 0;
    await model.fit(xs, ys, {epochs: 1, batchSize: 4, verbose: 0});
    const before = tf.memory().numTensors;
    for (let round = 0; round < 6; ++round) {
      await model.fit(xs, ys, {epochs: 1, batchSize: 4, verbose: 0, callbacks: [probe]});
    }
    expect(counts.length).toBe(96);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ys]);
    model.dispose();
  });

  test('wasm gives the cpu results (training steps, predictions, certified bound)', async () => {
    const run = async () => {
      const model = tiny();
      const {xs, ys} = data();
      await model.fit(xs, ys, {epochs: 2, batchSize: 16, verbose: 0, shuffle: false});
      const y = Array.from((model.predict(xs) as Tensor).dataSync());
      const bound = lipschitzBound(model).bound;
      tf.dispose([xs, ys]);
      model.dispose();
      return {y, bound};
    };
    await useCpu();
    const cpu = await run();
    expect(await tf.setBackend('wasm')).toBe(true);
    const wasm = await run();
    const scale = Math.max(...cpu.y.map(Math.abs));
    wasm.y.forEach((v, i) => expect(Math.abs(v - cpu.y[i]!)).toBeLessThan(1e-5 * scale));
    expect(Math.abs(wasm.bound - cpu.bound)).toBeLessThan(1e-5);
    expect(wasm.bound).toBeLessThanOrEqual(1 + 1e-6);
  });
});
