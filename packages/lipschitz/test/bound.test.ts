import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {empiricalLipschitz, lipschitzBound, registerLipschitzRule} from '@deepspline/lipschitz';
import {bv2Js, explicitMatrix, rng, rowColSums, rowsOf, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** Sets every weight of the model to uniform random values in [-1, 1] (seeded). */
function randomizeWeights(model: tfl.LayersModel, seed: number, scale = 1): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const next = ws.map((w) => tf.tensor(Array.from({length: w.size}, () => scale * (2 * r() - 1)), w.shape));
    layer.setWeights(next);
    tf.dispose(next);
  }
}

/** The linear part (no bias, no activation) of a single layer as a function on [1, ...inShape]. */
function singleLayerModel(layer: tfl.layers.Layer, inShape: number[]): tfl.Sequential {
  return tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: inShape}), layer]});
}

describe('lipschitzBound: dense layers', () => {
  test('norm 2 equals the true spectral norm (Jacobi on W^T W, float64) to 1e-4', () => {
    for (const [i, o, seed] of [[7, 5, 1], [5, 7, 2], [20, 3, 3], [1, 6, 4], [16, 16, 5]]) {
      const model = tfl.sequential({layers: [tfl.layers.dense({units: o!, inputShape: [i!]})]});
      randomizeWeights(model, seed!);
      const k = model.layers[0]!.getWeights()[0]!;
      const truth = spectralNormSvd(k.dataSync(), i!, o!);
      const {bound} = lipschitzBound(model, {norm: 2});
      expect(Math.abs(bound - truth)).toBeLessThan(1e-4 * Math.max(1, truth));
      expect(bound).toBeLessThanOrEqual(truth * (1 + 1e-6));
      model.dispose();
    }
  });

  test('norms 1 and Infinity equal the exact sums of the explicit matrix of x -> layer(x)', () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [6], useBias: false})]});
    randomizeWeights(model, 11);
    // The matrix acting on column vectors, built by applying the layer to basis vectors:
    // independent of how the kernel is laid out.
    const {m, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, [6]);
    const {inf, one} = rowColSums(m, rows, cols);
    expect(rel(lipschitzBound(model, {norm: Infinity}).bound, inf)).toBeLessThan(1e-6);
    expect(rel(lipschitzBound(model, {norm: 1}).bound, one)).toBeLessThan(1e-6);
    expect(inf).not.toBeCloseTo(one, 3);  // the test distinguishes the two
    model.dispose();
  });

  test('fused activations multiply by their constants', () => {
    for (const [activation, c] of [['sigmoid', 0.25], ['tanh', 1], ['relu', 1], ['softmax', 0.5],
      ['selu', 1.0507009873554805 * 1.6732632423543772], ['hardSigmoid', 0.2]] as const) {
      const model = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [4], activation})]});
      randomizeWeights(model, 5);
      const k = model.layers[0]!.getWeights()[0]!;
      expect(rel(lipschitzBound(model).bound, c * spectralNormSvd(k.dataSync(), 4, 3))).toBeLessThan(1e-6);
      model.dispose();
    }
  });
});

describe('lipschitzBound: convolutions and pooling on the explicit operator', () => {
  /**
   * `matrixFree`: also check the matrix-free path (convolutions: the kernel's Fourier symbol;
   * average pooling: its own float64 rule), a proven bound. `product`: the layer is a product of two operators (depthwise
   * then pointwise), so the 1 and Inf bounds are `|A| |B| >= |A B|`, upper bounds, not equal.
   */
  interface OperatorCase {
    name: string;
    make: () => tfl.layers.Layer;
    inShape: number[];
    matrixFree?: boolean;
    product?: boolean;
  }
  const cases: OperatorCase[] = [
    {name: 'conv2d valid', make: () => tfl.layers.conv2d({filters: 3, kernelSize: 3, useBias: false}), inShape: [5, 5, 2]},
    {name: 'conv2d same stride 2', make: () => tfl.layers.conv2d({filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same', useBias: false}), inShape: [6, 5, 2], matrixFree: true},
    {name: 'conv2d dilated', make: () => tfl.layers.conv2d({filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', useBias: false}), inShape: [5, 5, 1]},
    {name: 'conv1d same', make: () => tfl.layers.conv1d({filters: 3, kernelSize: 3, padding: 'same', useBias: false}), inShape: [8, 2]},
    {name: 'conv1d strided dilated', make: () => tfl.layers.conv1d({filters: 2, kernelSize: 3, dilationRate: 2, useBias: false}), inShape: [9, 2]},
    {name: 'depthwise dilated', make: () => tfl.layers.depthwiseConv2d({kernelSize: 2, dilationRate: 2, useBias: false}), inShape: [5, 5, 2]},
    {name: 'conv2d strided', make: () => tfl.layers.conv2d({filters: 2, kernelSize: 3, strides: [2, 1], useBias: false}), inShape: [7, 5, 2]},
    {name: 'depthwise', make: () => tfl.layers.depthwiseConv2d({kernelSize: 3, depthMultiplier: 2, padding: 'same', useBias: false}), inShape: [4, 4, 2]},
    {name: 'separable', make: () => tfl.layers.separableConv2d({filters: 3, kernelSize: 2, useBias: false}), inShape: [4, 4, 2], product: true},
    {name: 'avgpool2d', make: () => tfl.layers.averagePooling2d({poolSize: 3, strides: 2}), inShape: [6, 6, 1]},
    {name: 'avgpool2d same', make: () => tfl.layers.averagePooling2d({poolSize: 2, strides: 1, padding: 'same'}), inShape: [4, 4, 1], matrixFree: true},
    {name: 'avgpool1d', make: () => tfl.layers.averagePooling1d({poolSize: 3, strides: 1}), inShape: [6, 2]},
  ];
  test.each(cases)('$name: norm 2 = largest singular value, 1 / Inf = exact sums (bounds for products)', ({make, inShape, matrixFree, product}) => {
    const model = singleLayerModel(make(), inShape);
    randomizeWeights(model, 21);
    const {m, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, inShape);
    const truth2 = spectralNormSvd(m, rows, cols);
    const {inf, one} = rowColSums(m, rows, cols);
    const before = tf.memory().numTensors;
    const b2 = lipschitzBound(model, {norm: 2}).bound;
    const bInf = lipschitzBound(model, {norm: Infinity}).bound;
    const b1 = lipschitzBound(model, {norm: 1}).bound;
    expect(tf.memory().numTensors).toBe(before);
    expect(rel(b2, truth2)).toBeLessThan(1e-6);
    if (matrixFree) {
      const free = lipschitzBound(model, {norm: 2, powerIteration: {explicitLimit: 0}}).bound;
      expect(free).toBeGreaterThanOrEqual(truth2);
      expect(free / truth2).toBeLessThan(1.1);
    }
    if (product) {
      expect(bInf).toBeGreaterThanOrEqual(inf * (1 - 1e-6));
      expect(b1).toBeGreaterThanOrEqual(one * (1 - 1e-6));
    } else {
      expect(rel(bInf, inf)).toBeLessThan(1e-5);
      expect(rel(b1, one)).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  test('max pooling: m^(1/p) with m overlapping windows, and >= the empirical value', () => {
    const model = singleLayerModel(tfl.layers.maxPooling2d({poolSize: 3, strides: 1}), [5, 5, 1]);
    expect(lipschitzBound(model, {norm: 1}).bound).toBe(9);
    expect(lipschitzBound(model, {norm: 2}).bound).toBeGreaterThanOrEqual(3);  // sqrt(9), rounded up
    expect(lipschitzBound(model, {norm: 2}).bound).toBeLessThan(3 * (1 + 1e-14));
    expect(lipschitzBound(model, {norm: Infinity}).bound).toBe(1);
    const x = tf.randomUniform([8, 5, 5, 1], -1, 1, 'float32', 3);
    for (const norm of [1, 2, Infinity]) {
      expect(empiricalLipschitz(model, x, {norm}).value).toBeLessThanOrEqual(lipschitzBound(model, {norm}).bound + 1e-6);
    }
    x.dispose();
    model.dispose();
  });
});

describe('lipschitzBound: other layers', () => {
  test('BatchNormalization, PReLU, LeakyReLU, ELU, spline factors', () => {
    const spline = splineActivation({size: 7, range: 1, init: [0, 0.1, 0.5, 0, -1, 1.5, 1.6]});
    const model = tfl.sequential({layers: [
      tfl.layers.batchNormalization({inputShape: [3]}),
      tfl.layers.leakyReLU({alpha: 1.5}),
      tfl.layers.elu(),
      tfl.layers.prelu({alphaInitializer: tfl.initializers.constant({value: -2.5})}),
      spline,
      tfl.layers.activation({activation: 'sigmoid'}),
      tfl.layers.dropout({rate: 0.5}),
    ]});
    const bn = model.layers[0]!;
    const [gamma, beta, mean, variance] = [[1, -3, 2], [0, 0, 0], [0, 1, 2], [0.5, 4, 1]].map((v) => tf.tensor1d(v));
    bn.setWeights([gamma!, beta!, mean!, variance!]);
    tf.dispose([gamma!, beta!, mean!, variance!]);
    const bnFactor = Math.max(1 / Math.sqrt(0.5 + 1e-3), 3 / Math.sqrt(4 + 1e-3), 2 / Math.sqrt(1 + 1e-3));
    // spline slopes: step 1/3, differences 0.1,0.4,-0.5,-1,2.5,0.1 -> max 2.5 / (1/3) = 7.5
    const splineFactor = 7.5;
    const {bound, layers} = lipschitzBound(model, {norm: 2});
    const factors = Object.fromEntries(layers.map((l) => [l.className, l.factor]));
    expect(rel(factors['BatchNormalization']!, bnFactor)).toBeLessThan(1e-6);
    expect(factors['LeakyReLU']).toBe(1.5);
    expect(factors['ELU']).toBe(1);
    expect(rel(factors['PReLU']!, 2.5)).toBeLessThan(1e-7);
    expect(rel(factors['SplineActivation']!, splineFactor)).toBeLessThan(1e-5);
    expect(factors['Activation']).toBe(0.25);
    expect(factors['Dropout']).toBe(1);
    expect(rel(bound, bnFactor * 1.5 * 2.5 * splineFactor * 0.25)).toBeLessThan(1e-5);
    model.dispose();
  });

  test('a maxSlope spline contributes its clipped slopes, not its stored ones', () => {
    // Same coefficients as above (stored max slope 7.5), evaluated with slopes clipped to 0.5.
    const spline = splineActivation({size: 7, range: 1, init: [0, 0.1, 0.5, 0, -1, 1.5, 1.6], maxSlope: 0.5});
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2]}), spline]});
    const factor = lipschitzBound(model).layers.find((l) => l.className === 'SplineActivation')!.factor;
    expect(factor).toBeLessThanOrEqual(0.5);
    expect(factor).toBeGreaterThan(0.5 * (1 - 1e-4));
    model.dispose();
  });

  test('functional graphs: Add sums branch bounds, Concatenate combines per norm', () => {
    const input = tfl.input({shape: [4]});
    const d1 = tfl.layers.dense({units: 3, useBias: false});
    const d2 = tfl.layers.dense({units: 3, useBias: false});
    const a = d1.apply(input) as tfl.SymbolicTensor;
    const b = d2.apply(input) as tfl.SymbolicTensor;
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate().apply([a, sum]) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: cat});
    randomizeWeights(model, 8);
    const s1 = spectralNormSvd(d1.getWeights()[0]!.dataSync(), 4, 3);
    const s2 = spectralNormSvd(d2.getWeights()[0]!.dataSync(), 4, 3);
    const {bound, layers} = lipschitzBound(model, {norm: 2});
    expect(rel(bound, Math.sqrt(s1 ** 2 + (s1 + s2) ** 2))).toBeLessThan(1e-6);
    expect(layers.find((l) => l.className === 'Add')!.combine).toBe('sum');
    const x = tf.randomUniform([10, 4], -1, 1, 'float32', 1);
    for (const norm of [1, 2, Infinity]) {
      expect(empiricalLipschitz(model, x, {norm}).value).toBeLessThanOrEqual(lipschitzBound(model, {norm}).bound * (1 + 1e-6));
    }
    x.dispose();
    model.dispose();
  });

  test('nested models are walked (layer names prefixed)', () => {
    const inner = tfl.sequential({name: 'inner', layers: [tfl.layers.dense({units: 3, inputShape: [4], activation: 'sigmoid'})]});
    const outer = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [2]}), inner,
      tfl.layers.dense({units: 2, activation: 'tanh'})]});
    randomizeWeights(inner, 1);
    randomizeWeights(outer, 2);
    const k0 = outer.layers[0]!.getWeights()[0]!.dataSync();
    const k1 = inner.layers[0]!.getWeights()[0]!.dataSync();
    const k2 = outer.layers[2]!.getWeights()[0]!.dataSync();
    const {bound, layers} = lipschitzBound(outer);
    expect(rel(bound, spectralNormSvd(k0, 2, 4) * 0.25 * spectralNormSvd(k1, 4, 3) *
      spectralNormSvd(k2, 3, 2))).toBeLessThan(1e-6);
    expect(layers.some((l) => l.name.startsWith('inner/'))).toBe(true);
    outer.dispose();
  });

  test("'paper' is prod max|W| times prod sum BV2 (independent float64)", () => {
    const s1 = splineActivation({size: 9, range: 2, init: 'softplus'});
    const s2 = splineActivation({size: 5, range: 1, init: 'tanh'});
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 4, inputShape: [3]}), s1, tfl.layers.dense({units: 2}), s2,
      tfl.layers.dense({units: 1}),
    ]});
    randomizeWeights(model, 77);
    let expected = 1;
    for (const layer of model.layers) {
      const w = layer.getWeights()[0]!;
      if (layer instanceof SplineActivation) {
        const {start, step} = layer.grid;
        expected *= rowsOf(w).reduce((acc, row) => acc + bv2Js(row, start, step), 0);
      } else {
        expected *= Math.max(...Array.from(w.dataSync(), Math.abs));
      }
    }
    const result = lipschitzBound(model, {method: 'paper'});
    expect(result.method).toBe('paper');
    expect(rel(result.bound, expected)).toBeLessThan(1e-5);
    model.dispose();
  });

  test('unsupported layers and bad options are clear errors', () => {
    const m1 = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2]}), tfl.layers.layerNormalization()]});
    expect(() => lipschitzBound(m1)).toThrow(/unsupported layer 'layer_normalization\w*' \(class LayerNormalization\)/);
    const m2 = tfl.sequential({layers: [tfl.layers.thresholdedReLU({inputShape: [2]})]});
    expect(() => lipschitzBound(m2)).toThrow(/unsupported layer .*ThresholdedReLU/);
    const m3 = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2], activation: 'logSoftmax' as never})]});
    expect(() => lipschitzBound(m3)).toThrow(/unsupported activation 'logSoftmax'/);
    const input = tfl.input({shape: [2]});
    const m4 = tfl.model({inputs: input, outputs: tfl.layers.multiply().apply([input, input]) as tfl.SymbolicTensor});
    expect(() => lipschitzBound(m4)).toThrow(/unsupported layer .*Multiply/);
    expect(() => lipschitzBound(m1, {norm: 3})).toThrow(/expected norm to be 1, 2 or Infinity, got 3/);
    expect(() => lipschitzBound(m1, {method: 'exact' as never})).toThrow(/expected method 'operator', 'paper', 'paperOnOutput', got "exact"/);
    expect(() => lipschitzBound({} as never)).toThrow(/expected a tfjs-layers model/);
    const m5 = tfl.sequential({layers: [tfl.layers.conv2d({filters: 1, kernelSize: 2, inputShape: [null, null, 1] as never})]});
    expect(() => lipschitzBound(m5)).toThrow(/needs a fully known input shape/);
    [m1, m2, m3, m4, m5].forEach((m) => m.dispose());
  });
});

describe('lipschitzBound: what a registered rule returns is checked', () => {
  /** An identity layer whose rule returns whatever the test puts in `returned`. */
  class RuleProbe extends tfl.layers.Layer {
    static className = 'RuleProbe';
    override call(inputs: Tensor | Tensor[]): Tensor {
      return Array.isArray(inputs) ? inputs[0]! : inputs;
    }
  }
  let returned: unknown = 1;
  registerLipschitzRule('RuleProbe', () => returned as number);

  test.each([
    ['a string', '2', /the Lipschitz rule registered for class RuleProbe returned "2" for layer 'probe'; expected a finite number >= 0, or \{factor, rescale\?\}/],
    ['undefined', undefined, /the Lipschitz rule registered for class RuleProbe returned undefined for layer 'probe'/],
    ['an object without factor', {bound: 1}, /returned \{factor: undefined, rescale: undefined\} for layer 'probe'/],
    ['a string factor', {factor: '1'}, /returned \{factor: "1", rescale: undefined\} for layer 'probe'/],
    ['a rescale that is no function', {factor: 1, rescale: 2}, /returned \{factor: 1, rescale: 2\} for layer 'probe'/],
    ['a negative number', -1, /layer 'probe' \(RuleProbe\) has Lipschitz factor -1; expected a finite number >= 0 \(the rule registered for class RuleProbe returned it\)/],
    ['NaN', NaN, /layer 'probe' \(RuleProbe\) has Lipschitz factor NaN; expected a finite number >= 0 \(the rule registered for class RuleProbe returned it; are the weights NaN or Infinite\?\)/],
    ['Infinity in an object', {factor: Infinity}, /has Lipschitz factor Infinity; expected a finite number >= 0/],
  ])('%s', (_what, value, message) => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]}), new RuleProbe({name: 'probe'})]});
    returned = value;
    expect(() => lipschitzBound(model)).toThrow(message);
    returned = {factor: 0.5};
    expect(lipschitzBound(model).layers.find((l) => l.name === 'probe')?.factor).toBe(0.5);
    model.dispose();
  });
});

describe('lipschitzBound: spline and batch-norm factors are certificates', () => {
  test('never below the float64 slope max |c[k+1] - c[k]| / step of the float32 coefficients', () => {
    // Random float32 coefficients on a grid whose step is not a float32 number: the float32
    // slope (core's splineLipschitz) rounds below the exact one for some of them.
    const layer = splineActivation({size: 7, range: 0.3, inputShape: [5]});
    const model = tfl.sequential({layers: [layer]});
    const r = rng(21);
    let roundedBelow = 0;
    for (let trial = 0; trial < 200; ++trial) {
      const c = Float32Array.from({length: 5 * 7}, () => 4 * r() - 2);
      const t = tf.tensor2d(c, [5, 7]);
      layer.setCoefficients(t);
      t.dispose();
      let exact = 0;
      for (let row = 0; row < 5; ++row) {
        for (let k = 0; k < 6; ++k) exact = Math.max(exact, Math.abs(c[row * 7 + k + 1]! - c[row * 7 + k]!) / layer.step);
      }
      const float32 = layer.lipschitz();
      if (Math.max(...Array.from(float32.dataSync())) < exact) roundedBelow++;
      float32.dispose();
      const {bound} = lipschitzBound(model);
      expect(bound).toBeGreaterThanOrEqual(exact);
      expect(bound).toBeLessThanOrEqual(exact * (1 + 1e-14));
    }
    expect(roundedBelow).toBeGreaterThan(10);  // the test tells the two apart
    model.dispose();
  });

  test('BatchNormalization: never below max |gamma| / sqrt(variance + epsilon) in float64', () => {
    const layer = tfl.layers.batchNormalization({inputShape: [6], epsilon: 1e-3});
    const model = tfl.sequential({layers: [layer]});
    const r = rng(22);
    let roundedBelow = 0;
    for (let trial = 0; trial < 200; ++trial) {
      const gamma = Float32Array.from({length: 6}, () => 4 * r() - 2);
      const variance = Float32Array.from({length: 6}, () => 3 * r());
      const weights = [tf.tensor1d(gamma), tf.zeros([6]), tf.zeros([6]), tf.tensor1d(variance)];
      layer.setWeights(weights);
      tf.dispose(weights);
      let exact = 0;
      for (let i = 0; i < 6; ++i) exact = Math.max(exact, Math.abs(gamma[i]!) / Math.sqrt(variance[i]! + 1e-3));
      const float32 = tf.tidy(() => tf.max(tf.div(tf.abs(tf.tensor1d(gamma)), tf.sqrt(tf.add(tf.tensor1d(variance), 1e-3))))
        .dataSync()[0]!);
      if (float32 < exact) roundedBelow++;
      const {layers} = lipschitzBound(model);
      const factor = layers.find((l) => l.className === 'BatchNormalization')!.factor;
      expect(factor).toBeGreaterThanOrEqual(exact);
      expect(factor).toBeLessThanOrEqual(exact * (1 + 1e-14));
    }
    expect(roundedBelow).toBeGreaterThan(10);  // the float32 formula would not be a certificate
    model.dispose();
  });
});
