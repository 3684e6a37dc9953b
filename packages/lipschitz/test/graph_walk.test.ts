// The one graph walk (@deepspline/layers/internal's modelGraph) and its three clients on the
// same models: a nested model shared by two calls at another shape than it was built on, a
// layer shared by two calls feeding a merge, and two inputs. References, independent of the
// walk: the calls and shapes read off each model's definition by hand; tfjs's own predict of
// the original model (conversion and export must compute it); ml-matrix SVD of each call's
// explicit matrix at the shape of that call, combined by hand (the bound).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {exportToStandardLayers, isLayersModel, isSplineLayer, withSplineActivations} from '@deepspline/layers';
import {modelGraph} from '@deepspline/layers/internal';
import {lipschitzBound} from '@deepspline/lipschitz';
import {explicitMatrix, rng, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

/** Seeded uniform weights in [-1, 1] for every layer, nested ones included. */
function randomize(model: tfl.LayersModel, seed: number): void {
  const r = rng(seed);
  const next = model.getWeights().map((w) => tf.tensor(Array.from({length: w.size}, () => 2 * r() - 1), w.shape));
  model.setWeights(next);
  tf.dispose(next);
}

/** The exact 2-norm of `layer` (linear, no bias) at input shape `[1, ...shape]`. */
function normAt(layer: tfl.layers.Layer, shape: number[]): number {
  const {m, rows, cols} = explicitMatrix((x) => layer.apply(x) as Tensor, shape);
  return spectralNormSvd(m, rows, cols);
}

interface Fixture {
  name: string;
  build(): tfl.LayersModel;
  /** Every call, in an order where each comes after the calls it reads: name and input shapes. */
  calls: Array<[string, (number | null)[][]]>;
  /** Input shapes (no batch axis). */
  inputs: number[][];
  /** The 2-norm bound by hand from the exact norms of the calls. */
  bound(model: tfl.LayersModel): number;
}

const fixtures: Fixture[] = [{
  name: 'a nested block built on 2x2, called twice on 6x6',
  build() {
    const block = tfl.sequential({name: 'block', layers: [
      tfl.layers.conv2d({name: 'conv', filters: 1, kernelSize: 3, padding: 'same', useBias: false, inputShape: [2, 2, 1]}),
      tfl.layers.activation({name: 'relu', activation: 'relu'})]});
    const x = tfl.input({shape: [6, 6, 1], name: 'x'});
    const y = block.apply(block.apply(x)) as tfl.SymbolicTensor;
    const flat = tfl.layers.flatten({name: 'flatten'}).apply(y);
    const out = tfl.layers.dense({name: 'out', units: 2, useBias: false}).apply(flat) as tfl.SymbolicTensor;
    return tfl.model({inputs: x, outputs: out});
  },
  calls: [['x', []], ['block/conv', [[null, 6, 6, 1]]], ['block/relu', [[null, 6, 6, 1]]],
    ['block/conv', [[null, 6, 6, 1]]], ['block/relu', [[null, 6, 6, 1]]], ['flatten', [[null, 6, 6, 1]]],
    ['out', [[null, 36]]]],
  inputs: [[6, 6, 1]],
  bound(model) {
    const conv = (model.layers[1] as tfl.Sequential).layers[0]!;
    return normAt(conv, [6, 6, 1]) ** 2 * normAt(model.getLayer('out'), [36]);
  },
}, {
  name: 'a layer shared by two calls, both feeding an Add',
  build() {
    const x = tfl.input({shape: [3], name: 'x'});
    const shared = tfl.layers.dense({name: 'shared', units: 3, activation: 'relu', useBias: false});
    const a = shared.apply(x) as tfl.SymbolicTensor;
    const b = shared.apply(a) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({name: 'sum'}).apply([a, b]);
    const out = tfl.layers.dense({name: 'out', units: 1, useBias: false}).apply(sum) as tfl.SymbolicTensor;
    return tfl.model({inputs: x, outputs: out});
  },
  calls: [['x', []], ['shared', [[null, 3]]], ['shared', [[null, 3]]], ['sum', [[null, 3], [null, 3]]],
    ['out', [[null, 3]]]],
  inputs: [[3]],
  bound(model) {
    const s = normAt(tfl.layers.dense({units: 3, useBias: false, weights: model.getLayer('shared').getWeights()}), [3]);
    return normAt(model.getLayer('out'), [3]) * (s + s * s);
  },
}, {
  name: 'two inputs, concatenated',
  build() {
    const x1 = tfl.input({shape: [2], name: 'x1'});
    const x2 = tfl.input({shape: [3], name: 'x2'});
    const a = tfl.layers.dense({name: 'a', units: 3, activation: 'relu', useBias: false}).apply(x1);
    const c = tfl.layers.concatenate({name: 'cat'}).apply([a as tfl.SymbolicTensor, x2]);
    const out = tfl.layers.dense({name: 'out', units: 1, useBias: false}).apply(c) as tfl.SymbolicTensor;
    return tfl.model({inputs: [x1, x2], outputs: out});
  },
  calls: [['x1', []], ['x2', []], ['a', [[null, 2]]], ['cat', [[null, 3], [null, 3]]], ['out', [[null, 6]]]],
  inputs: [[2], [3]],
  bound(model) {
    const a = normAt(tfl.layers.dense({units: 3, useBias: false, weights: model.getLayer('a').getWeights()}), [2]);
    return normAt(model.getLayer('out'), [6]) * Math.sqrt(a * a + 1);  // |(A x1, x2)| <= sqrt(|A|^2 + 1) |(x1, x2)|
  },
}];

describe.each(fixtures)('$name', (fixture) => {
  let model: tfl.LayersModel;
  let xs: Tensor[];
  beforeAll(() => {
    model = fixture.build();
    randomize(model, 7);
    xs = fixture.inputs.map((shape, i) => tf.randomUniform([5, ...shape], -2, 2, 'float32', 11 + i));
  });
  afterAll(() => {
    tf.dispose(xs);
    model.dispose();
  });
  const predict = (m: tfl.LayersModel) => (m.predict(xs.length === 1 ? xs[0]! : xs) as Tensor).arraySync() as number[][];
  const expectClose = (got: number[][], want: number[][]) =>
    got.flat().forEach((v, i) => expect(v).toBeCloseTo(want.flat()[i]!, 4));

  test('the walk: every call, with the shapes it is called at, nested models opened', () => {
    const graph = modelGraph(model, 'test');
    expect(graph.nodes.map((n) => [n.name, n.inputShapes])).toEqual(fixture.calls);
    expect(graph.inputs).toHaveLength(fixture.inputs.length);
  });

  test('withSplineActivations: the same function, nested models kept, shared layers shared', () => {
    const converted = withSplineActivations(model);
    expectClose(predict(converted), predict(model));
    const walked = modelGraph(converted, 'test').nodes;
    // every ReLU call of the original is a spline call of the conversion
    const relus = fixture.calls.filter(([name]) => /relu|shared|^a$/.test(name)).length;
    expect(walked.filter((n) => isSplineLayer(n.layer))).toHaveLength(relus);
    expect(converted.layers.some(isLayersModel)).toBe(model.layers.some(isLayersModel));
    converted.dispose();
  });

  test('exportToStandardLayers of the conversion: the same function, nested models inlined', () => {
    const converted = withSplineActivations(model);
    const exported = exportToStandardLayers(converted);
    expectClose(predict(exported), predict(model));
    expect(exported.layers.some(isLayersModel)).toBe(false);
    exported.dispose();
    converted.dispose();
  });

  test('lipschitzBound: one factor per call, combined as the graph says', () => {
    const {bound} = lipschitzBound(model, {norm: 2});
    const want = fixture.bound(model);
    expect(bound).toBeGreaterThanOrEqual(want * (1 - 1e-6));
    expect(bound).toBeLessThan(want * (1 + 1e-3));
  });
});
