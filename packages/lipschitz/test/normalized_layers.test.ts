/**
 * deel-lip's normalised linear layers: FrobeniusDense, FrobeniusConv2D,
 * SpectralConv2DTranspose, PadConv2D. The certified factor against ml-matrix's SVD (and the
 * row/column sums) of the explicit matrix of the layer's map (basis inputs pushed through the
 * model, bias removed) and against an attack; the constant by construction; values against
 * float64 references; save/load; export; memory; bad arguments.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {FrobeniusConv2D, FrobeniusDense, PadConv2D, SpectralConv2DTranspose, frobeniusConv2d, frobeniusDense,
  lipschitzBound, padConv2d, spectralConv2dTranspose} from '../src/index.js';
import {linearPartMatrix, rng, rowColSums, spectralNormSvd, useCpu} from './helpers.js';
import {alone, attack, exportStandard, maxDifference, predictFn, roundTrip} from './toolkit_helpers.js';

beforeAll(useCpu);

interface Case { name: string, make: () => tfl.layers.Layer, inShape: number[], byConstruction?: number }

const cases: Case[] = [
  {name: 'frobeniusDense disjoint (default), 5 units', make: () => frobeniusDense({units: 5}), inShape: [7]},
  {name: 'frobeniusDense whole kernel, lipschitz 2', make: () => frobeniusDense({units: 4, disjointNeurons: false, lipschitz: 2}),
    inShape: [6], byConstruction: 2},
  {name: 'frobeniusDense one unit', make: () => frobeniusDense({units: 1}), inShape: [9], byConstruction: 1},
  {name: 'frobeniusConv2d 3x3 same', make: () => frobeniusConv2d({filters: 3, kernelSize: 3, padding: 'same'}), inShape: [5, 6, 2],
    byConstruction: 1},
  {name: 'frobeniusConv2d 2x3 stride 2 valid, lipschitz 0.5',
    make: () => frobeniusConv2d({filters: 2, kernelSize: [2, 3], strides: 2, padding: 'valid', lipschitz: 0.5}), inShape: [6, 7, 2],
    byConstruction: 0.5},
  {name: 'spectralConv2dTranspose 3x3 stride 2 same', make: () => spectralConv2dTranspose({filters: 3, kernelSize: 3, strides: 2,
    padding: 'same'}), inShape: [3, 4, 2], byConstruction: 1},
  {name: 'spectralConv2dTranspose 2x2 stride 1 valid, bjorck', make: () => spectralConv2dTranspose({filters: 2, kernelSize: 2,
    padding: 'valid', orthonormalize: 'bjorck'}), inShape: [4, 3, 3], byConstruction: 1},
  {name: 'spectralConv2dTranspose 3x2 stride [2, 1] same, lipschitz 3', make: () => spectralConv2dTranspose({filters: 2,
    kernelSize: [3, 2], strides: [2, 1], padding: 'same', lipschitz: 3}), inShape: [3, 3, 2], byConstruction: 3},
  ...(['same', 'valid', 'constant', 'reflect', 'symmetric', 'circular'] as const).map((padding) => ({
    name: `padConv2d ${padding} 3x3`, make: () => padConv2d({filters: 2, kernelSize: 3, padding}), inShape: [4, 5, 2]})),
  {name: 'padConv2d circular 3x5 stride 2', make: () => padConv2d({filters: 2, kernelSize: [3, 5], strides: 2, padding: 'circular'}),
    inShape: [5, 6, 1]},
  {name: 'padConv2d reflect on a 2-wide axis (pixels copied 3 times)',
    make: () => padConv2d({filters: 1, kernelSize: 3, padding: 'reflect'}), inShape: [2, 4, 1]},
];

/** Random weights (kernel ~ N(0, 1), bias uniform) so that no two layers look alike. */
function randomize(layer: tfl.layers.Layer, seed: number): void {
  const r = rng(seed);
  const weights = layer.getWeights().map((w) => {
    const values = Float32Array.from({length: w.size}, () => (w.shape.length === 1 ? r() - 0.5 : Math.sqrt(-2 * Math.log(1 - r())) *
      Math.cos(2 * Math.PI * r())));
    return tf.tensor(values, w.shape);
  });
  layer.setWeights(weights);
  tf.dispose(weights);
}

describe('certified factor against the explicit map', () => {
  test.each(cases)('$name', ({make, inShape, byConstruction}) => {
    const layer = make();
    const model = alone(layer, inShape);
    // keep the normalising vector of spectral layers (weight 'u'); randomize the kernel and bias
    const r = rng(11);
    const weights = layer.getWeights().map((w, i) => (layer.weights[i]!.name.endsWith('/u') ? tf.clone(w) :
      tf.tensor(Float32Array.from({length: w.size}, () => 2 * r() - 1), w.shape)));
    layer.setWeights(weights);
    tf.dispose(weights);
    const {m, rows, cols} = linearPartMatrix(predictFn(model), inShape);
    const sums = rowColSums(m, rows, cols);
    const exact: Record<number, number> = {2: spectralNormSvd(m, rows, cols), 1: sums.one, [Infinity]: sums.inf};
    for (const p of [2, 1, Infinity] as const) {
      const bound = lipschitzBound(model, {norm: p}).bound;
      // never below the exact norm of the float32 map (2^-22: its float32 evaluation), and
      // tight: the exact matrix's norm for maps this small
      expect(bound).toBeGreaterThanOrEqual(exact[p] * (1 - 2 ** -22));
      // (l1, l-inf: sums the backend adds in float32 are rounded up by (terms + 2) 2^-23)
      expect(bound).toBeLessThanOrEqual(exact[p] * (1 + (p === 2 ? 1e-6 : 1e-4)) + 1e-12);
    }
    if (byConstruction != null) expect(exact[2]).toBeLessThanOrEqual(byConstruction * (1 + 1e-5));
    // the attack's lower bound (on the affine map) stays below
    expect(attack(predictFn(model), inShape, 2, 5, 10)).toBeLessThanOrEqual(lipschitzBound(model, {norm: 2}).bound * (1 + 1e-5));
    model.dispose();
  });

  test('frobeniusDense disjoint: every column has norm lipschitz, the layer can exceed it (sqrt(units) at most)', () => {
    const layer = frobeniusDense({units: 4, lipschitz: 1.5, kernelInitializer: 'ones'});
    const model = alone(layer, [3]);
    const w = layer.effectiveKernel();
    const cols = (w.arraySync() as number[][]).reduce((acc, row) => acc.map((s, j) => s + row[j]! ** 2), [0, 0, 0, 0]);
    cols.forEach((s) => expect(Math.sqrt(s)).toBeCloseTo(1.5, 6));
    // all columns equal: ||W||_2 = 1.5 sqrt(4)
    expect(lipschitzBound(model).bound).toBeCloseTo(3, 5);
    w.dispose();
    model.dispose();
  });

  test('spectralConv2dTranspose computes tf.conv2dTranspose with its effective kernel; training normalises too', () => {
    const layer = spectralConv2dTranspose({filters: 2, kernelSize: 3, strides: 2, padding: 'same'});
    const model = alone(layer, [3, 3, 2]);
    randomize(layer, 3);
    const x = tf.randomUniform([2, 3, 3, 2], -1, 1, 'float32', 1);
    const k = layer.effectiveKernel();
    const bias = tf.clone(layer.getWeights()[1]!);
    const expected = tf.add(tf.conv2dTranspose(x as tf.Tensor4D, k, [2, 6, 6, 2], 2, 'same'), bias);
    expect(maxDifference(model, model, x)).toBe(0);
    const y = model.predict(x) as Tensor;
    expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]).toBeLessThan(1e-6);
    const train = layer.apply(x, {training: true}) as Tensor;
    expect(tf.max(tf.abs(tf.sub(train, expected))).dataSync()[0]).toBeLessThan(0.05 * tf.max(tf.abs(expected)).dataSync()[0]!);
    tf.dispose([x, bias, expected, y, train]);
    model.dispose();
  });

  test('padConv2d trains with the gradient of its map: the reflected copies count (tfjs 4.22 MirrorPad drops them)', () => {
    for (const padding of ['reflect', 'symmetric', 'circular', 'constant'] as const) {
      const layer = padConv2d({filters: 1, kernelSize: 3, padding, useBias: false});
      const model = alone(layer, [3, 4, 1]);
      const {m, rows, cols} = linearPartMatrix(predictFn(model), [3, 4, 1]);
      // d sum(f(x)) / dx = the column sums of the explicit matrix
      const g = tf.grad((x: Tensor) => tf.sum(layer.apply(x) as Tensor))(tf.zeros([1, 3, 4, 1])).dataSync();
      for (let j = 0; j < cols; ++j) {
        let sum = 0;
        for (let i = 0; i < rows; ++i) sum += m[i * cols + j]!;
        expect([padding, j, g[j]! ]).toEqual([padding, j, expect.closeTo(sum, 5)]);
      }
      model.dispose();
    }
  });

  test("padConv2d pads as deel-lip (tf.pad's modes): against a float64 reference", () => {
    const x = Float32Array.from({length: 3 * 4}, (_, i) => i + 1);
    const ref = (mode: 'reflect' | 'symmetric' | 'circular' | 'constant', r: number, c: number) => {
      const idx = (i: number, n: number) => mode === 'circular' ? (i + n) % n : mode === 'reflect' ?
        (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i) : (i < 0 ? -i - 1 : i >= n ? 2 * n - 1 - i : i);
      if (mode === 'constant' && (r < 0 || r >= 3 || c < 0 || c >= 4)) return 0;
      return x[idx(r, 3) * 4 + idx(c, 4)]!;
    };
    for (const mode of ['reflect', 'symmetric', 'circular', 'constant'] as const) {
      const layer = padConv2d({filters: 1, kernelSize: 3, padding: mode, useBias: false, kernelInitializer: 'ones'});
      const model = alone(layer, [3, 4, 1]);
      const padded = layer.pad(tf.tensor4d(x, [1, 3, 4, 1])).arraySync() as number[][][][];
      for (let r = -1; r < 4; ++r) for (let c = -1; c < 5; ++c) expect([mode, r, c, padded[0]![r + 1]![c + 1]![0]]).toEqual([mode, r, c, ref(mode, r, c)]);
      model.dispose();
    }
  });
});

describe('save/load, export, memory, errors', () => {
  test.each(cases)('round trip: $name', async ({make, inShape}) => {
    const layer = make();
    const model = alone(layer, inShape);
    randomize(layer, 7);
    const loaded = await roundTrip(model, layer.getClassName());
    expect(loaded.layers[1]!.getConfig()).toEqual(layer.getConfig());
    const x = tf.randomUniform([3, ...inShape], -1, 1, 'float32', 2);
    expect(maxDifference(model, loaded, x)).toBe(0);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  test.each(cases)('exportToStandardLayers: $name, same outputs', ({make, inShape}) => {
    const layer = make();
    const model = alone(layer, inShape);
    randomize(layer, 9);
    const exported = exportStandard(model);
    const x = tf.randomUniform([3, ...inShape], -1, 1, 'float32', 4);
    expect(maxDifference(model, exported, x)).toBeLessThanOrEqual(1e-6);
    x.dispose();
    model.dispose();
    exported.dispose();
  });

  test('no tensors left behind by predict, training calls and bounds', () => {
    for (const {make, inShape} of cases) {
      const layer = make();
      const model = alone(layer, inShape);
      const x = tf.randomUniform([2, ...inShape]);
      tf.dispose(model.predict(x) as Tensor);  // the first call caches the spectral layers' kernels
      const before = tf.memory().numTensors;
      tf.dispose(model.predict(x) as Tensor);
      tf.dispose(layer.apply(x, {training: true}) as Tensor);
      for (const p of [1, 2, Infinity] as const) lipschitzBound(model, {norm: p});
      expect([layer.name, tf.memory().numTensors]).toEqual([layer.name, before]);
      x.dispose();
      model.dispose();
    }
  });

  test('bad arguments get clear errors', () => {
    expect(() => frobeniusDense({units: 2, lipschitz: -1})).toThrow('frobeniusDense: expected lipschitz > 0, got -1');
    expect(() => frobeniusDense({units: 2, disjointNeurons: 'yes' as never})).toThrow(
      'frobeniusDense: expected disjointNeurons to be a boolean, got "yes"');
    expect(() => frobeniusConv2d({filters: 2, kernelSize: 3, dilationRate: 2})).toThrow('frobeniusConv2d: expected dilationRate 1');
    expect(() => spectralConv2dTranspose({filters: 2, kernelSize: 3, dataFormat: 'channelsFirst'})).toThrow(
      'spectralConv2dTranspose: expected dataFormat \'channelsLast\', got "channelsFirst"');
    expect(() => spectralConv2dTranspose({filters: 2, kernelSize: 3, powerIterations: 0})).toThrow(
      'spectralConv2dTranspose: expected powerIterations to be an integer >= 1, got 0');
    expect(() => padConv2d({filters: 2, kernelSize: 3, padding: 'wrap' as never})).toThrow(
      'padConv2d: expected padding one of same, valid, constant, reflect, symmetric, circular, got "wrap"');
    const model = alone(padConv2d({filters: 1, kernelSize: 5, padding: 'reflect', name: 'p'}), [2, 6, 1]);
    expect(() => model.predict(tf.zeros([1, 2, 6, 1]))).toThrow("padConv2d 'p': padding 'reflect' by 2 needs an axis of at least 3, got 2");
    model.dispose();
    expect(() => frobeniusDense(undefined as never)).toThrow('frobeniusDense: expected an arguments object, got undefined');
  });

  test('classes are exported for instanceof', () => {
    expect(frobeniusDense({units: 1})).toBeInstanceOf(FrobeniusDense);
    expect(frobeniusConv2d({filters: 1, kernelSize: 1})).toBeInstanceOf(FrobeniusConv2D);
    expect(spectralConv2dTranspose({filters: 1, kernelSize: 1})).toBeInstanceOf(SpectralConv2DTranspose);
    expect(padConv2d({filters: 1, kernelSize: 1})).toBeInstanceOf(PadConv2D);
  });
});
