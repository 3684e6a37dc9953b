import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {STANDARD_LAYER_CLASSES, exportToStandardLayers, registerStandardExport,
  splineActivation, standardExportNames} from '../src/index.js';
import {predictionRelError, randomizeSplines} from '@deepspline/testing';
import {KERAS_LAYERS} from './keras_layers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The exported model's error relative to the output scale on `x` (checked `<= tol`). */
function expectSame(original: tfl.LayersModel, exported: tfl.LayersModel, x: tf.Tensor, tol = 1e-5): number {
  const err = predictionRelError(original, exported, x);
  expect(err).toBeLessThanOrEqual(tol);
  return err;
}

/** Inputs `[n, ...shape]`: uniform in [-scale, scale]. */
const uniform = (shape: number[], scale: number, seed: number) => tf.randomUniform(shape, -scale, scale, 'float32', seed);

/** Inputs whose every value is a knot of the grid {size, range} (and the two ends). */
function onKnots(shape: number[], size: number, range: number, seed: number): tf.Tensor {
  return tf.tidy(() => {
    const k = tf.randomUniform(shape, 0, size, 'int32', seed);
    return tf.add(-range, tf.mul(tf.cast(k, 'float32'), 2 * range / (size - 1)));
  });
}

const classNames = (m: tfl.LayersModel) => m.layers.map((l) => l.getClassName());

describe('exportToStandardLayers: SplineActivation', () => {
  it('a dense spline network: only standard layers, same predictions inside, on the knots and far outside the grid', () => {
    const before = tf.memory().numTensors;
    const m = tfl.sequential({layers: [
      splineActivation({inputShape: [6], size: 21, range: 1, name: 'first'}),  // sees the inputs themselves
      tfl.layers.dense({units: 8}),
      splineActivation({size: 11, range: 2}),
      tfl.layers.dense({units: 3}),
      splineActivation({size: 5, range: 1, shared: true, maxSlope: 0.5}),
    ]});
    randomizeSplines(m, 1);
    const e = exportToStandardLayers(m);
    for (const cls of classNames(e)) expect(KERAS_LAYERS.has(cls)).toBe(true);
    expect(classNames(e)).not.toContain('SplineActivation');
    const errors: number[] = [];
    for (const x of [uniform([64, 6], 1, 2), onKnots([64, 6], 21, 1, 3), uniform([64, 6], 1e4, 4),
      tf.fill([2, 6], -1e4), tf.fill([2, 6], 1e4)]) {
      errors.push(expectSame(m, e, x));
      x.dispose();
    }
    m.dispose();
    e.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('after Conv1D, Conv2D and DepthwiseConv2D (rank 3 and 4), per-channel and shared', () => {
    const before = tf.memory().numTensors;
    const input = tfl.input({shape: [8, 8, 2]});
    let h = tfl.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same'}).apply(input) as tfl.SymbolicTensor;
    h = splineActivation({size: 21, range: 1}).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.depthwiseConv2d({kernelSize: 3}).apply(h) as tfl.SymbolicTensor;
    h = splineActivation({size: 9, range: 2, shared: true}).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.reshape({targetShape: [36, 4]}).apply(h) as tfl.SymbolicTensor;
    h = tfl.layers.conv1d({filters: 3, kernelSize: 3}).apply(h) as tfl.SymbolicTensor;
    h = splineActivation({size: 7, grid: 0.5, init: 'abs'}).apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.flatten().apply(h) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: out});
    randomizeSplines(m, 10);
    const e = exportToStandardLayers(m);
    for (const cls of classNames(e)) expect(KERAS_LAYERS.has(cls)).toBe(true);
    for (const [scale, seed] of [[1, 11], [1e4, 12]]) {
      const x = uniform([4, 8, 8, 2], scale!, seed!);
      expectSame(m, e, x);
      x.dispose();
    }
    m.dispose();
    e.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('one unknown spatial dimension (variable-length Conv1D) is fine; two are an error naming the shape', () => {
    const seq = tfl.sequential({layers: [tfl.layers.conv1d({inputShape: [null, 2], filters: 3, kernelSize: 2}),
      splineActivation({size: 5, range: 1})]});
    randomizeSplines(seq, 20);
    const e = exportToStandardLayers(seq);
    for (const len of [5, 9]) {
      const x = uniform([2, len, 2], 3, len);
      expectSame(seq, e, x);
      x.dispose();
    }
    const two = tfl.sequential({layers: [splineActivation({inputShape: [null, null, 3], size: 5, name: 'img_spline'})]});
    expect(() => exportToStandardLayers(two)).toThrow(
      /SplineActivation 'img_spline' has input shape \[null,null,null,3\].*at most one unknown/);
    [seq, e, two].forEach((m) => m.dispose());
  });

  it('leaves out units whose weight is exactly 0 in every channel', () => {
    // relu on a grid with exact float32 knots: zero left of 0, one bend at 0.
    const m = tfl.sequential({layers: [splineActivation({inputShape: [4], size: 9, range: 2, init: 'relu'})]});
    const units = (e: tfl.LayersModel) => e.layers.find((l) => l.getClassName() === 'DepthwiseConv2D')!.getWeights()[0]!.shape[1];
    const hats = exportToStandardLayers(m);
    expect(units(hats)).toBe(1);  // one knot, no hat: the right ramp (the left one has slope 0)
    const ramps = exportToStandardLayers(m, {splineForm: 'ramps'});
    expect(units(ramps)).toBe(1);  // ReLU(x - 0) alone
    const x = uniform([16, 4], 10, 30);
    expectSame(m, hats, x);
    expectSame(m, ramps, x);
    x.dispose();
    [m, hats, ramps].forEach((l) => l.dispose());
  });

  it("the ramp form: fewer layers, exact for smooth splines; a bad splineForm is an error", () => {
    const m = tfl.sequential({layers: [tfl.layers.dense({units: 8, inputShape: [3]}),
      splineActivation({size: 21, range: 1, init: 'softplus'}), splineActivation({size: 9, shared: true, init: 'tanh'})]});
    const e = exportToStandardLayers(m, {splineForm: 'ramps'});
    expect(classNames(e)).not.toContain('Minimum');
    for (const [scale, seed] of [[1, 70], [1e4, 71]]) {
      const x = uniform([64, 3], scale!, seed!);
      expectSame(m, e, x);
      x.dispose();
    }
    expect(() => exportToStandardLayers(m, {splineForm: 'bumps' as never})).toThrow(
      /expected splineForm 'hats' or 'ramps', got "bumps"/);
    [m, e].forEach((l) => l.dispose());
  });

  it('the hat form stays exact for rough splines with many knots', () => {
    const m = tfl.sequential({layers: [splineActivation({inputShape: [16], size: 101, range: 2})]});
    randomizeSplines(m, 80);
    const e = exportToStandardLayers(m);
    for (const x of [uniform([64, 16], 2, 81), onKnots([64, 16], 101, 2, 82), uniform([64, 16], 1e4, 83)]) {
      expectSame(m, e, x);
      x.dispose();
    }
    [m, e].forEach((l) => l.dispose());
  });
});

describe('exportToStandardLayers: models', () => {
  it('functional models with branches and nested Sequential models are inlined, names kept', () => {
    const inner = tfl.sequential({name: 'inner', layers: [tfl.layers.dense({units: 5, inputShape: [4], name: 'inner_dense'}),
      splineActivation({size: 11, range: 1, name: 'inner_spline'})]});
    const input = tfl.input({shape: [4], name: 'x'});
    const a = inner.apply(input) as tfl.SymbolicTensor;
    const b = splineActivation({size: 7, range: 1, name: 'side'}).apply(input) as tfl.SymbolicTensor;
    const merged = tfl.layers.concatenate({name: 'cat'}).apply([a, b]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({units: 2, name: 'head'}).apply(merged) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: out, name: 'branchy'});
    randomizeSplines(inner, 40);
    randomizeSplines(m, 41);
    const e = exportToStandardLayers(m);
    expect(e.name).toBe('branchy_standard');
    const names = e.layers.map((l) => l.name);
    expect(names).toEqual(expect.arrayContaining(['x', 'inner_dense', 'inner_spline', 'side', 'cat', 'head']));
    expect(new Set(names).size).toBe(names.length);
    expect(classNames(e)).not.toContain('Sequential');
    const x = uniform([32, 4], 3, 42);
    expectSame(m, e, x);
    x.dispose();
    [m, e].forEach((l) => l.dispose());  // m disposes inner
  });

  it('copies every weight: changing or disposing the original leaves the export as it was', () => {
    const m = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2]}), splineActivation({size: 5}),
      tfl.layers.dense({units: 1})]});
    const e = exportToStandardLayers(m);
    const x = uniform([8, 2], 2, 50);
    const want = e.predict(x) as tf.Tensor;
    const originals = new Set(m.weights.map((w) => w.read().id));
    for (const w of e.weights) expect(originals.has(w.read().id)).toBe(false);
    m.layers.forEach((l) => l.setWeights(l.getWeights().map((w) => tf.onesLike(w))));
    m.dispose();
    const got = e.predict(x) as tf.Tensor;
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(want, got))).dataSync()[0])).toBe(0);
    tf.dispose([x, want, got]);
    e.dispose();
  });

  it('names a layer it cannot convert, and what it expected', () => {
    class Scale extends tfl.layers.Layer {
      static className = 'Scale';
      override call(x: tf.Tensor | tf.Tensor[]) { return tf.mul(Array.isArray(x) ? x[0]! : x, 2); }
    }
    tf.serialization.registerClass(Scale);
    const m = tfl.sequential({layers: [new Scale({inputShape: [2], name: 'twice'})]});
    expect(() => exportToStandardLayers(m)).toThrow(
      /layer 'twice' is a Scale, which is not a standard tfjs-layers\/Keras layer and has no registered export; expected one of Activation, .*registerStandardExport \(SplineActivation/);
    registerStandardExport('Scale', (layer, [x], context) => {
      const dense = tfl.layers.dense({units: 2, useBias: false, name: context.uniqueName(layer.name)});
      const y = dense.apply(x!) as tfl.SymbolicTensor;
      const k = tf.mul(tf.eye(2), 2);
      dense.setWeights([k]);
      k.dispose();
      return y;
    });
    expect(standardExportNames()).toContain('Scale');
    const e = exportToStandardLayers(m);
    expect(e.layers.map((l) => `${l.getClassName()}:${l.name}`)).toEqual(['InputLayer:twice_input', 'Dense:twice']);
    const x = uniform([3, 2], 1, 60);
    expectSame(m, e, x, 0);
    x.dispose();
    expect(() => exportToStandardLayers({} as tfl.LayersModel)).toThrow(/expected a tf.LayersModel or tf.Sequential, got/);
    expect(() => registerStandardExport('X', 3 as never)).toThrow(/expected an exporter function .* for 'X', got 3/);
    [m, e].forEach((l) => l.dispose());
  });

  it('a failing export disposes every layer it built, over repeated calls', () => {
    class Twice extends tfl.layers.Layer {
      static className = 'Twice';
      override call(x: tf.Tensor | tf.Tensor[]) { return tf.mul(Array.isArray(x) ? x[0]! : x, 2); }
    }
    tf.serialization.registerClass(Twice);
    const input = tfl.input({shape: [3]});
    const h = splineActivation({size: 7}).apply(tfl.layers.dense({units: 4}).apply(input)) as tfl.SymbolicTensor;
    const side = tfl.layers.dense({units: 2}).apply(h) as tfl.SymbolicTensor;
    const bad = new Twice({name: 'twice_late'}).apply(h) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: [side, bad]});
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; ++i) expect(() => exportToStandardLayers(m)).toThrow(/layer 'twice_late' is a Twice/);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('rejects a standard layer whose config holds a non-standard class', () => {
    // tfjs-layers does not export its Regularizer base class; getRegularizer checks instanceof.
    const Base = Object.getPrototypeOf(tfl.regularizers.l1l2().constructor) as new () => object;
    class Custom extends Base {
      static className = 'MyRegularizer';
      apply(x: tf.Tensor) { return tf.sum(x); }
      getConfig() { return {}; }
      getClassName() { return 'MyRegularizer'; }
    }
    tf.serialization.registerClass(Custom as never);
    const reg = new Custom() as never;
    const m = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2], name: 'reg_dense',
      kernelRegularizer: reg})]});
    const before = tf.memory().numTensors;
    expect(() => exportToStandardLayers(m)).toThrow(/holds classes that are not standard .*MyRegularizer at modelTopology.*/);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });

  it('lists the standard classes it clones', () => {
    for (const cls of ['Dense', 'Conv2D', 'DepthwiseConv2D', 'PReLU', 'Permute', 'Reshape', 'Cropping2D',
      'Minimum', 'Maximum', 'Concatenate']) {
      expect(STANDARD_LAYER_CLASSES).toContain(cls);
    }
    expect(STANDARD_LAYER_CLASSES).not.toContain('SplineActivation');
  });
});
