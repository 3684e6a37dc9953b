// Nested models: each call is bounded at the shape it is called with, and the output
// activation of a certified model is found through nested models and shape-only layers.
// References: the exact norms of the explicit linear map (ml-matrix SVD for norm 2, row and
// column sums for 1 and Infinity) and empiricalLipschitz (a lower bound).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {certifiedAccuracy, certifiedRadius, empiricalLipschitz, lipschitzBound,
  spectralConv2d} from '@deepspline/lipschitz';
import {explicitMatrix, rng, rowColSums, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/**
 * Sets every weight of every layer (nested ones included) to seeded uniform values in [-1, 1],
 * or in [0, 1] when `positive` (then a border-clipped kernel has a visibly smaller norm).
 */
function randomize(model: tfl.LayersModel, seed: number, positive = false): void {
  const r = rng(seed);
  const ws = model.getWeights();
  const next = ws.map((w) => tf.tensor(Array.from({length: w.size}, () => (positive ? r() : 2 * r() - 1)), w.shape));
  model.setWeights(next);
  tf.dispose(next);
}

/** The exact norms (1, 2, Infinity) of a linear model's explicit matrix on `[1, ...inShape]`. */
function exactNorms(model: tfl.LayersModel, inShape: number[]): Record<number, number> {
  const {m: data, rows, cols} = explicitMatrix((x) => model.predict(x) as Tensor, inShape);
  const {one, inf} = rowColSums(data, rows, cols);
  return {1: one, 2: spectralNormSvd(data, rows, cols), Infinity: inf};
}

/** A bias-free 3x3 'same' conv block built on a 2x2 input. */
function smallBlock(name: string, filters = 1): tfl.Sequential {
  return tfl.sequential({name, layers: [tfl.layers.conv2d({filters, kernelSize: 3, padding: 'same',
    useBias: false, inputShape: [2, 2, 1]})]});
}

describe('a nested model is bounded at the shape each call gives it', () => {
  test('a conv block built on 2x2, called on 12x12: the bound is the exact norm at 12x12', () => {
    const block = smallBlock('block');
    const input = tfl.input({shape: [12, 12, 1]});
    const model = tfl.model({inputs: input, outputs: block.apply(input) as tfl.SymbolicTensor});
    block.setWeights([tf.ones([3, 3, 1, 1])]);
    const exact = exactNorms(model, [12, 12, 1]);
    expect(exact.Infinity).toBeCloseTo(9, 5);  // all nine taps inside a 12x12 image
    for (const norm of [1, 2, Infinity] as const) {
      const {bound} = lipschitzBound(model, {norm});
      expect(bound).toBeGreaterThanOrEqual(exact[norm] * (1 - 1e-6));
      expect(rel(bound, exact[norm])).toBeLessThan(1e-4);
    }
    model.dispose();
  });

  test('random kernels, the block called twice (12x12 and 6x6) and nested twice deep', () => {
    const block = smallBlock('block', 2);
    const inner = tfl.sequential({name: 'outer_block', layers: [
      tfl.layers.conv2d({filters: 2, kernelSize: 3, padding: 'same', useBias: false, inputShape: [3, 3, 2]}),
      smallBlockOn2(),
    ]});
    function smallBlockOn2(): tfl.Sequential {
      return tfl.sequential({name: 'deep', layers: [tfl.layers.conv2d({filters: 1, kernelSize: 2, strides: 2,
        padding: 'valid', useBias: false, inputShape: [2, 2, 2]})]});
    }
    const input = tfl.input({shape: [12, 12, 1]});
    const a = block.apply(input) as tfl.SymbolicTensor;
    const pooled = tfl.layers.averagePooling2d({poolSize: 2}).apply(a) as tfl.SymbolicTensor;
    const b = tfl.layers.conv2d({filters: 1, kernelSize: 1, useBias: false}).apply(pooled) as tfl.SymbolicTensor;
    const c = block.apply(b) as tfl.SymbolicTensor;
    const out = inner.apply(c) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: out});
    randomize(model, 5, true);
    const exact = exactNorms(model, [12, 12, 1]);
    for (const norm of [1, 2, Infinity] as const) {
      const {bound} = lipschitzBound(model, {norm});
      expect(bound).toBeGreaterThanOrEqual(exact[norm] * (1 - 1e-6));
    }
    model.dispose();
  });

  test('a spectralConv2d block certifies at least what empiricalLipschitz finds', () => {
    const block = tfl.sequential({name: 'spectral_block', layers: [
      spectralConv2d({filters: 2, kernelSize: 3, padding: 'same', useBias: false, inputShape: [2, 2, 1]}),
      spectralConv2d({filters: 1, kernelSize: 3, padding: 'same', useBias: false})]});
    const input = tfl.input({shape: [12, 12, 1]});
    const model = tfl.model({inputs: input, outputs: block.apply(input) as tfl.SymbolicTensor});
    const kernels = [0, 1].map((seed) => {
      const r = rng(40 + seed);
      return block.layers[seed]!.getWeights().map((w) =>
        tf.tensor(Array.from({length: w.size}, () => 2 * r() - 1), w.shape));
    });
    block.layers.forEach((layer, i) => layer.setWeights(kernels[i]!));
    tf.dispose(kernels.flat());
    const x = tf.randomUniform([4, 12, 12, 1], -1, 1, 'float32', 3);
    const empirical = empiricalLipschitz(model, x, {norm: 2}).value;
    const exact = exactNorms(model, [12, 12, 1])[2];
    const {bound} = lipschitzBound(model, {norm: 2});
    expect(exact).toBeGreaterThanOrEqual(empirical * (1 - 1e-5));
    expect(bound).toBeGreaterThanOrEqual(exact * (1 - 1e-6));
    x.dispose();
    model.dispose();
  });

  test('a nested model called at a shape one of its layers cannot take is refused, naming the layer', () => {
    const block = tfl.sequential({name: 'head', layers: [tfl.layers.flatten({inputShape: [2, 2, 1]}),
      tfl.layers.dense({units: 3, name: 'fc'})]});
    const input = tfl.input({shape: [12, 12, 1]});
    const model = tfl.model({inputs: input, outputs: block.apply(input) as tfl.SymbolicTensor});
    expect(() => model.predict(tf.zeros([1, 12, 12, 1]))).toThrow(/expected axis -1 of input shape to have value 4/);
    expect(() => lipschitzBound(model)).toThrow(/layer 'head\/fc' \(Dense\) cannot be called on input shape \[null,144\], where its nested model is called \(it was built on \[null,4\]\)/);
    model.dispose();
  });
});

describe("a certified model's output activation is found through nested models and shape-only layers", () => {
  const points = [[0.3, -0.2], [-0.5, 0.9], [0.1, 0.1], [-0.7, -0.4], [4, 4], [-4, -4], [4, -4], [-4, 4]];
  /** Logits `x W + b` of a [2, units] Dense, in float64 from its float32 weights. */
  function logitsOf(dense: tfl.layers.Layer): number[][] {
    const [w, b] = dense.getWeights().map((t) => Array.from(t.dataSync()));
    const units = b!.length;
    return points.map(([p, q]) => Array.from({length: units}, (_, j) => p! * w![j]! + q! * w![units + j]! + b![j]!));
  }
  function kernelNorm(dense: tfl.layers.Layer): number {
    const k = dense.getWeights()[0]!;
    return spectralNormSvd(k.dataSync(), k.shape[0]!, k.shape[1]!);
  }

  /** Binary models whose sigmoid (fused or a layer) is inside a nested model or before Reshape/Flatten. */
  const binary: [string, (dense: tfl.layers.Layer) => tfl.LayersModel][] = [
    ['fused, inside a nested Sequential', (dense) => {
      const inner = tfl.sequential({name: 'inner', layers: [tfl.layers.inputLayer({inputShape: [2]}), dense]});
      const input = tfl.input({shape: [2]});
      return tfl.model({inputs: input, outputs: inner.apply(input) as tfl.SymbolicTensor});
    }],
    ['a layer, inside a model nested twice, then Flatten', (dense) => {
      const deep = tfl.sequential({name: 'deep', layers: [tfl.layers.inputLayer({inputShape: [2]}), dense,
        tfl.layers.activation({activation: 'sigmoid'})]});
      const mid = tfl.sequential({name: 'mid', layers: [tfl.layers.inputLayer({inputShape: [2]}), deep,
        tfl.layers.reshape({targetShape: [1, 1]})]});
      return tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [2]}), mid, tfl.layers.flatten()]});
    }],
    ['fused, then Reshape, Dropout and Permute', (dense) => tfl.sequential({layers: [
      tfl.layers.inputLayer({inputShape: [2]}), dense, tfl.layers.reshape({targetShape: [1, 1]}),
      tfl.layers.dropout({rate: 0.5}), tfl.layers.permute({dims: [2, 1]})]})],
  ];

  test.each(binary)('sigmoid %s: classes p > 0.5, radii |logit| / L, a wrong model is 0 %% accurate', (_how, build) => {
    const sigmoidDense = build === binary[1]![1];
    const dense = tfl.layers.dense({units: 1, activation: sigmoidDense ? 'linear' : 'sigmoid'});
    const model = build(dense);
    randomize(model, 11);
    const logits = logitsOf(dense).map((row) => row[0]!);
    const L = kernelNorm(dense);
    const xs = tf.tensor2d(points);
    const res = certifiedRadius(model, xs);
    expect(res.scores).toBe('logits');
    expect(Math.abs(res.bound - L) / L).toBeLessThan(1e-6);
    logits.forEach((z, i) => {
      expect(res.predicted[i]).toBe(z > 0 ? 1 : 0);
      expect(res.radius[i]).toBeCloseTo(Math.abs(z) / L, 5);
    });
    expect(new Set(res.predicted).size).toBe(2);
    // labels that contradict every prediction: nothing is accurate, nothing certified
    const wrong = tf.tensor1d(logits.map((z) => (z > 0 ? 0 : 1)));
    const acc = certifiedAccuracy(model, xs, wrong, {epsilons: [0, 0.1, 0.2]});
    expect(acc.accuracy).toEqual([0, 0, 0]);
    tf.dispose([xs, wrong]);
    model.dispose();
  });

  test('softmax inside a nested model, then Reshape and Flatten: margins of the logits over sqrt(2) L', () => {
    const dense = tfl.layers.dense({units: 3, activation: 'softmax'});
    const inner = tfl.sequential({name: 'inner', layers: [tfl.layers.inputLayer({inputShape: [2]}), dense]});
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [2]}), inner,
      tfl.layers.reshape({targetShape: [3, 1]}), tfl.layers.flatten()]});
    randomize(model, 12);
    const xs = tf.tensor2d(points);
    const res = certifiedRadius(model, xs);
    const L = kernelNorm(dense);
    expect(res.scores).toBe('logits');
    logitsOf(dense).forEach((row, i) => {
      const sorted = [...row].sort((a, b) => b - a);
      expect(res.predicted[i]).toBe(row.indexOf(sorted[0]!));
      expect(res.radius[i]).toBeCloseTo((sorted[0]! - sorted[1]!) / (Math.SQRT2 * L), 5);
    });
    xs.dispose();
    model.dispose();
  });

  test('a softmax that does not cover the whole output is refused, naming the layer', () => {
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [2]}),
      tfl.layers.reshape({targetShape: [2, 2]}), tfl.layers.dense({units: 3, activation: 'softmax', name: 'rows'}),
      tfl.layers.flatten()]});
    const xs = tf.tensor2d(points);
    expect((model.predict(xs) as Tensor).shape).toEqual([points.length, 6]);
    expect(() => certifiedRadius(model, xs)).toThrow(/the model's output is a softmax over axis 2 of shape \[null,2,3\] \(layer 'rows'\)/);
    xs.dispose();
    model.dispose();
  });

  test('a shared output layer (the same layer object called twice) is certified at the call that gives the output', () => {
    const dense = tfl.layers.dense({units: 1, activation: 'sigmoid'});
    const sig = tfl.layers.activation({activation: 'sigmoid', name: 'shared_sigmoid'});
    const input = tfl.input({shape: [2]});
    const other = tfl.input({shape: [1]});
    sig.apply(other);  // an earlier call elsewhere: the layer now has two inbound nodes
    const fusedOther = tfl.input({shape: [2]});
    dense.apply(fusedOther);
    const linear = tfl.layers.dense({units: 1});
    const plain = tfl.model({inputs: input, outputs: sig.apply(linear.apply(input)) as tfl.SymbolicTensor});
    const fused = tfl.model({inputs: input, outputs: dense.apply(input) as tfl.SymbolicTensor});
    for (const [model, layer] of [[plain, linear], [fused, dense]] as const) {
      randomize(model, 13);
      const xs = tf.tensor2d(points);
      const res = certifiedRadius(model, xs);
      const L = kernelNorm(layer);
      logitsOf(layer).forEach((row, i) => {
        expect(res.predicted[i]).toBe(row[0]! > 0 ? 1 : 0);
        expect(res.radius[i]).toBeCloseTo(Math.abs(row[0]!) / L, 5);
      });
      xs.dispose();
      model.dispose();
    }
  });
});

test("'paper' leaves out the output sigmoid also inside a nested model and before Reshape", () => {
  const first = tfl.layers.dense({units: 4, inputShape: [3], useBias: false});
  const last = tfl.layers.dense({units: 1, activation: 'sigmoid', useBias: false});
  const inner = tfl.sequential({name: 'head', layers: [tfl.layers.inputLayer({inputShape: [4]}), last]});
  const model = tfl.sequential({layers: [first, inner, tfl.layers.reshape({targetShape: [1, 1]})]});
  randomize(model, 14);
  const maxAbs = (l: tfl.layers.Layer) => Math.max(...Array.from(l.getWeights()[0]!.dataSync(), Math.abs));
  const reference = maxAbs(first) * maxAbs(last);
  expect(rel(lipschitzBound(model, {method: 'paper'}).bound, reference)).toBeLessThan(1e-6);
  expect(rel(lipschitzBound(model, {method: 'paperOnOutput'}).bound, reference / 4)).toBeLessThan(1e-6);
  model.dispose();
});
