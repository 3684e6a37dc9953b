import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import {SplineActivation, withSplineActivations} from '../src/index.js';
import type {WithSplineActivationsArgs} from '../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic uniform inputs in [-scale, scale]. */
function inputs(shape: number[], scale: number, seed: number): tf.Tensor {
  return tf.randomUniform(shape, -scale, scale, 'float32', seed);
}

/** max |a - b| / max(1, |a|) over all elements. */
function maxRelDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.div(tf.abs(tf.sub(a, b)), tf.maximum(1, tf.abs(a)))).dataSync()[0]);
}

function expectSamePredictions(a: tfl.LayersModel, b: tfl.LayersModel, x: tf.Tensor, tol = 1e-5) {
  const ya = a.predict(x) as tf.Tensor;
  const yb = b.predict(x) as tf.Tensor;
  expect(yb.shape).toEqual(ya.shape);
  // Guard against a vacuous comparison: the outputs really vary over the inputs.
  expect(tf.tidy(() => tf.moments(ya).variance.dataSync()[0])).toBeGreaterThan(1e-6);
  expect(maxRelDiff(ya, yb)).toBeLessThan(tol);
  tf.dispose([ya, yb]);
}

const splines = (m: tfl.LayersModel) => m.layers.filter((l) => l instanceof SplineActivation) as SplineActivation[];

/** Randomizes every weight of a model (so biases and alphas are not trivially zero). */
function randomizeWeights(model: tfl.LayersModel, seed: number) {
  model.layers.forEach((layer, i) => {
    const ws = layer.getWeights();
    if (ws.length === 0) return;
    const next = ws.map((w, j) => tf.randomUniform(w.shape, -0.8, 0.8, 'float32', seed + 10 * i + j));
    layer.setWeights(next);
    tf.dispose(next);
  });
}

describe('withSplineActivations on Sequential models', () => {
  function reluZoo() {
    const m = tfl.sequential({name: 'zoo'});
    m.add(tfl.layers.dense({units: 6, inputShape: [3], activation: 'relu', name: 'd1'}));
    m.add(tfl.layers.dense({units: 5, name: 'd2'}));
    m.add(tfl.layers.activation({activation: 'relu', name: 'act'}));
    m.add(tfl.layers.dense({units: 5, name: 'd3'}));
    m.add(tfl.layers.leakyReLU({alpha: 0.2, name: 'leaky'}));
    m.add(tfl.layers.dense({units: 4, name: 'd4'}));
    m.add(tfl.layers.prelu({name: 'prelu'}));
    m.add(tfl.layers.dense({units: 2, activation: 'tanh', name: 'out'}));
    randomizeWeights(m, 1);
    return m;
  }

  it('replaces every ReLU-family activation and keeps the other layers', () => {
    const m = reluZoo();
    const s = withSplineActivations(m);
    expect(s).toBeInstanceOf(tfl.Sequential);
    expect(s.layers.map((l) => l.getClassName())).toEqual(['Dense', 'SplineActivation', 'Dense',
      'SplineActivation', 'Dense', 'SplineActivation', 'Dense', 'SplineActivation', 'Dense']);
    expect(s.layers.map((l) => l.name)).toEqual(['d1', 'd1_spline', 'd2', 'act_spline', 'd3',
      'leaky_spline', 'd4', 'prelu_spline', 'out']);
    expect(s.getLayer('d1').getConfig().activation).toBe('linear');
    expect(s.getLayer('out').getConfig().activation).toBe('tanh');
    m.dispose();
    s.dispose();
  });

  it('computes the same outputs inside and far outside the grid (relu, leaky relu, PReLU)', () => {
    const m = reluZoo();
    const s = withSplineActivations(m, {size: 11, range: 1});
    for (const [scale, seed] of [[0.5, 1], [1, 2], [20, 3]] as const) {
      const x = inputs([256, 3], scale, seed);
      expectSamePredictions(m, s, x);
      x.dispose();
    }
    m.dispose();
    s.dispose();
  });

  it('writes the activation values at the knots (independent formula) and copies weights', () => {
    const m = reluZoo();
    const s = withSplineActivations(m, {size: 21, range: 2});
    const alpha = Array.from(m.getLayer('prelu').getWeights()[0].dataSync());
    const knots = Array.from({length: 21}, (_, k) => -2 + k * 0.2);
    const coeffs = (name: string) => s.getLayer(name).getWeights()[0].arraySync() as number[][];
    const close = (got: number[], want: number[]) =>
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    for (const row of coeffs('d1_spline')) close(row, knots.map((t) => Math.max(t, 0)));
    for (const row of coeffs('leaky_spline')) close(row, knots.map((t) => (t >= 0 ? t : 0.2 * t)));
    coeffs('prelu_spline').forEach((row, n) =>
      close(row, knots.map((t) => (t >= 0 ? t : alpha[n] * t))));
    expect(coeffs('prelu_spline').length).toBe(4);
    for (const name of ['d1', 'd2', 'd3', 'd4', 'out']) {
      const a = m.getLayer(name).getWeights();
      const b = s.getLayer(name).getWeights();
      expect(b.length).toBe(a.length);
      a.forEach((w, i) => expect(Array.from(b[i].dataSync())).toEqual(Array.from(w.dataSync())));
    }
    m.dispose();
    s.dispose();
  });

  it('returns independent weights: training the new model leaves the original unchanged', async () => {
    const m = reluZoo();
    const before = m.getWeights().map((w) => Array.from(w.dataSync()));
    const s = withSplineActivations(m);
    s.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});
    const x = inputs([32, 3], 1, 4);
    const y = inputs([32, 2], 1, 5);
    await s.fit(x, y, {epochs: 2, batchSize: 8, verbose: 0});
    expect(m.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    expect(Array.from(s.getLayer('d1').getWeights()[0].dataSync())).not.toEqual(before[0]);
    tf.dispose([x, y]);
    m.dispose();
    s.dispose();
  });

  it('handles ReLU(maxValue) and relu6 exactly when the clip value is a knot or outside the grid', () => {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({units: 8, inputShape: [2], activation: 'relu6', name: 'a'}));
    m.add(tfl.layers.dense({units: 8, name: 'b'}));
    m.add(tfl.layers.reLU({maxValue: 1.5, name: 'clip'}));
    m.add(tfl.layers.dense({units: 1, name: 'c'}));
    randomizeWeights(m, 2);
    // Spacing 0.5 on [-8, 8]: 1.5 and 6 are knots; the spline equals both everywhere.
    const s = withSplineActivations(m, {size: 33, range: 8});
    const x = inputs([256, 2], 30, 6);
    expectSamePredictions(m, s, x);
    // No range or grid: relu6 (not a knot of the default [-2, 2]) gets 6 on its second-to-last
    // knot, 1.5 (not a knot either) likewise; a relu keeps the default grid.
    const autoModel = withSplineActivations(m);
    const auto = splines(autoModel);
    expect(auto.map((l) => [l.size, l.grid.range])).toEqual([[21, 6 * 20 / 18], [21, 1.5 * 20 / 18]]);
    auto.forEach((l) => expect(l.grid.start + 19 * l.grid.step).toBeCloseTo(l === auto[0] ? 6 : 1.5, 12));
    // Range 2 (spacing 0.2): 6 lies outside, 1.5 is not a knot -> clear errors.
    expect(() => withSplineActivations(m, {range: 2})).toThrow(/relu6 activation of layer 'a' bends at 6, which is not a knot below the last one of the grid \[-2, 2\]/);
    expect(() => withSplineActivations(m, {size: 33, range: 6})).toThrow(/bends at 6, which is not a knot below the last one.*e\.g\. range 6\.4 for size 33/);
    const clipOnly = tfl.sequential({layers: [tfl.layers.reLU({maxValue: 1.5, inputShape: [4]})]});
    expect(() => withSplineActivations(clipOnly, {range: 2})).toThrow(/bends at 1.5, which lies inside the grid \[-2, 2\] but not on a knot/);
    tf.dispose(x);
    [m, s, autoModel, clipOnly].forEach((model) => model.dispose());
  });

  it('reproduces every ReLU-family activation far outside the grid, as tfjs\'s own layers', () => {
    // Values around both bends and far beyond any grid, in every channel (rows are rotations).
    const values = [-1e6, -100, -7, -6, -1.5, -0.35, -0.1, 0, 0.1, 0.35, 1, 1.5, 2.5, 5.99, 6,
      6.01, 7, 100, 1e6, 3];
    const rows = values.map((_, r) => values.map((__, c) => values[(r + c) % values.length]));
    const x = tf.tensor2d(rows);
    const cases: Array<[string, () => tfl.layers.Layer, number]> = [
      ['relu6', () => tfl.layers.activation({activation: 'relu6', inputShape: [20]}), 21],
      ['ReLU maxValue 6', () => tfl.layers.reLU({maxValue: 6, inputShape: [20]}), 21],
      ['ReLU maxValue 1.5', () => tfl.layers.reLU({maxValue: 1.5, inputShape: [20]}), 21],
      ['ReLU maxValue 0.35', () => tfl.layers.reLU({maxValue: 0.35, inputShape: [20]}), 21],
      ['ReLU maxValue 2 (the default range)', () => tfl.layers.reLU({maxValue: 2, inputShape: [20]}), 21],
      ['ReLU maxValue 0', () => tfl.layers.reLU({maxValue: 0, inputShape: [20]}), 21],
      ['ReLU maxValue Infinity', () => tfl.layers.reLU({maxValue: Infinity, inputShape: [20]}), 21],
      ['relu6, size 5', () => tfl.layers.activation({activation: 'relu6', inputShape: [20]}), 5],
      ['ReLU', () => tfl.layers.reLU({inputShape: [20]}), 21],
      ['relu', () => tfl.layers.activation({activation: 'relu', inputShape: [20]}), 21],
      ['LeakyReLU 0.2', () => tfl.layers.leakyReLU({alpha: 0.2, inputShape: [20]}), 21],
      ['LeakyReLU 1.5', () => tfl.layers.leakyReLU({alpha: 1.5, inputShape: [20]}), 21],
      ['PReLU', () => tfl.layers.prelu({inputShape: [20],
        alphaInitializer: tfl.initializers.randomUniform({minval: -2, maxval: 2, seed: 3})}), 21],
      ['Dense relu6', () => tfl.layers.dense({units: 20, inputShape: [20], activation: 'relu6',
        kernelInitializer: tfl.initializers.identity({gain: 1})}), 21],
    ];
    const failures: string[] = [];
    for (const [label, make, size] of cases) {
      const m = tfl.sequential({layers: [make()]});
      try {
        const s = withSplineActivations(m, {size});
        const want = m.predict(x) as tf.Tensor;
        const got = s.predict(x) as tf.Tensor;
        const diff = maxRelDiff(want, got);
        if (!(diff <= 1e-6)) failures.push(`${label}: max relative difference ${diff}`);
        tf.dispose([want, got]);
        s.dispose();
      } catch (e) {
        failures.push(`${label}: ${(e as Error).message}`);
      }
      m.dispose();
    }
    x.dispose();
    expect(failures).toEqual([]);
  });

  it('refuses a ReLU maxValue that tfjs\'s own ReLU fails on', () => {
    for (const maxValue of [-1, NaN]) {
      const m = tfl.sequential({layers: [tfl.layers.reLU({maxValue, inputShape: [3]})]});
      expect(() => withSplineActivations(m)).toThrow(new RegExp(`layer '${m.layers[0].name}' \\(ReLU\\) has ` +
        `maxValue ${maxValue}; expected a number >= 0`));
    }
  });

  it('gives one spline layer per activation with the requested settings and fresh regularizers', () => {
    const m = reluZoo();
    const s = withSplineActivations(m, {size: 15, range: 3, coefficientsRegularizer: tfl.regularizers.l2({l2: 0.01}),
      maxSlope: 5});
    const layers = splines(s);
    expect(layers.length).toBe(4);
    for (const l of layers) {
      expect(l.size).toBe(15);
      expect(l.grid.range).toBe(3);
      expect(l.maxSlope).toBe(5);
      expect(l.coefficientsRegularizer?.getClassName()).toBe('L1L2');
      expect(l.coefficientsRegularizer?.getConfig()).toEqual({l1: 0, l2: 0.01});
    }
    expect(new Set(layers.map((l) => l.coefficientsRegularizer)).size).toBe(4);
    let calls = 0;
    const s2 = withSplineActivations(m, {coefficientsRegularizer: () => { ++calls; return tfl.regularizers.l1(); }});
    expect(calls).toBe(4);
    [m, s, s2].forEach((model) => model.dispose());
  });

  it('learnableScale: every new layer gets a scale weight of ones, and the model computes the same function', () => {
    const m = reluZoo();
    const s = withSplineActivations(m, {size: 21, range: 3, learnableScale: true});
    const layers = splines(s);
    expect(layers.length).toBe(4);
    for (const l of layers) {
      expect(l.learnableScale).toBe(true);
      expect(Array.from(l.getWeights()[1]!.dataSync()).every((v) => v === 1)).toBe(true);
    }
    const x = inputs([32, 3], 2, 4);
    expectSamePredictions(m, s, x);
    x.dispose();
    [m, s].forEach((model) => model.dispose());
  });

  it('uses an unregistered regularizer instance as is, even one named like an Object member', () => {
    const m = reluZoo();
    // A real tfjs Regularizer subclass (tfjs accepts no look-alike), never registered.
    const Base = Object.getPrototypeOf(tfl.regularizers.l1l2().constructor) as new () => object;
    class Unregistered extends Base {
      apply(x: tf.Tensor) { return tf.sum(x); }
      getConfig() { return {}; }
      getClassName() { return 'toString'; }
    }
    const reg = new Unregistered();
    const s = withSplineActivations(m, {coefficientsRegularizer: reg as never});
    for (const l of splines(s)) expect(l.coefficientsRegularizer).toBe(reg);
    [m, s].forEach((model) => model.dispose());
  });

  it('respects filter and does not leak tensors', () => {
    const m = reluZoo();
    const before = tf.memory().numTensors;
    const s = withSplineActivations(m, {filter: (l) => l.name !== 'leaky'});
    expect(s.layers.map((l) => l.name)).toContain('leaky');
    expect(splines(s).length).toBe(3);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});

describe('withSplineActivations on functional and convolutional models', () => {
  it('rebuilds a branching graph with a shared layer', () => {
    const input = tfl.input({shape: [4], name: 'in'});
    const h = tfl.layers.dense({units: 6, activation: 'relu', name: 'h'}).apply(input) as tfl.SymbolicTensor;
    const shared = tfl.layers.dense({units: 6, name: 'shared'});
    const a = tfl.layers.leakyReLU({alpha: 0.1, name: 'la'}).apply(shared.apply(h)) as tfl.SymbolicTensor;
    const b = shared.apply(tfl.layers.dense({units: 6, name: 'pre_b'}).apply(h)) as tfl.SymbolicTensor;
    const sum = tfl.layers.add({name: 'sum'}).apply([a, b]) as tfl.SymbolicTensor;
    const act = tfl.layers.activation({activation: 'relu', name: 'sum_relu'}).apply(sum) as tfl.SymbolicTensor;
    const cat = tfl.layers.concatenate({name: 'cat'}).apply([act, h]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({units: 3, name: 'out'}).apply(cat) as tfl.SymbolicTensor;
    const m = tfl.model({inputs: input, outputs: [out, act], name: 'graph'});
    randomizeWeights(m, 3);
    const s = withSplineActivations(m, {size: 9, range: 0.5});
    expect(s).not.toBeInstanceOf(tfl.Sequential);
    expect(s.outputs.length).toBe(2);
    expect(splines(s).map((l) => l.name).sort()).toEqual(['h_spline', 'la_spline', 'sum_relu_spline']);
    // The shared Dense stays one layer with one set of weights, applied twice.
    expect(s.layers.filter((l) => l.name === 'shared').length).toBe(1);
    for (const [scale, seed] of [[0.3, 11], [10, 12]] as const) {
      const x = inputs([128, 4], scale, seed);
      const ya = m.predict(x) as tf.Tensor[];
      const yb = s.predict(x) as tf.Tensor[];
      ya.forEach((t, i) => expect(maxRelDiff(t, yb[i])).toBeLessThan(1e-5));
      tf.dispose([x, ...ya, ...yb]);
    }
    m.dispose();
    s.dispose();
  });

  it('converts a small conv net (Conv2D relu, PReLU with shared spatial axes, nested model)', () => {
    const m = tfl.sequential({name: 'cnn'});
    m.add(tfl.layers.conv2d({filters: 4, kernelSize: 3, inputShape: [8, 8, 2], activation: 'relu', name: 'c1'}));
    m.add(tfl.layers.maxPooling2d({poolSize: 2, name: 'pool'}));
    m.add(tfl.layers.depthwiseConv2d({kernelSize: 2, activation: 'relu', name: 'dw'}));
    m.add(tfl.layers.prelu({sharedAxes: [1, 2], name: 'p'}));
    m.add(tfl.layers.flatten({name: 'flat'}));
    const head = tfl.sequential({name: 'head', layers: [
      tfl.layers.dense({units: 5, inputShape: [16], activation: 'relu', name: 'hd'}),
      tfl.layers.dense({units: 2, name: 'ho'}),
    ]});
    m.add(head);
    randomizeWeights(m, 4);
    randomizeWeights(head, 5);
    const s = withSplineActivations(m, {size: 21, range: 1});
    expect(s.layers.map((l) => l.name)).toEqual(['c1', 'c1_spline', 'pool', 'dw', 'dw_spline',
      'p_spline', 'flat', 'head_spline']);
    for (const [scale, seed] of [[0.5, 21], [30, 22]] as const) {
      const x = inputs([16, 8, 8, 2], scale, seed);
      expectSamePredictions(m, s, x);
      x.dispose();
    }
    m.dispose();
    s.dispose();
  });

  it('throws clear errors for unsupported cases', () => {
    const conv = tfl.sequential({layers: [tfl.layers.conv2d({filters: 2, kernelSize: 1, inputShape: [2, 4, 4],
      dataFormat: 'channelsFirst', activation: 'relu'})]});
    expect(() => withSplineActivations(conv)).toThrow(/channelsFirst/);
    const prelu = tfl.sequential({layers: [tfl.layers.prelu({inputShape: [3, 2]})]});
    randomizeWeights(prelu, 6);
    expect(() => withSplineActivations(prelu)).toThrow(/varies along axes other than the last/);
    const thr = tfl.sequential({layers: [tfl.layers.thresholdedReLU({inputShape: [3]})]});
    expect(() => withSplineActivations(thr)).toThrow(/ThresholdedReLU.*discontinuous/);
    const rnn = tfl.sequential({layers: [tfl.layers.simpleRNN({units: 2, inputShape: [3, 2], activation: 'relu',
      recurrentInitializer: 'glorotUniform'})]});
    expect(() => withSplineActivations(rnn)).toThrow(/SimpleRNN.*'relu' internally/);
    expect(() => withSplineActivations(rnn, {filter: () => false})).not.toThrow();
    const dense = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [3], activation: 'relu'})]});
    expect(() => withSplineActivations(dense, {size: 20})).toThrow(/odd size.*got size 20/);
    const p2 = tfl.sequential({layers: [tfl.layers.prelu({inputShape: [3]})]});
    randomizeWeights(p2, 7);
    expect(() => withSplineActivations(p2, {shared: true})).toThrow(/shared is true/);
    const unbuilt = tfl.sequential();
    expect(() => withSplineActivations(unbuilt)).toThrow(/not built/);
    expect(() => withSplineActivations({} as tfl.LayersModel)).toThrow(/expected a tf.LayersModel/);
    [conv, prelu, thr, rnn, dense, p2].forEach((model) => model.dispose());
  });

  it('frees the layers it built when it refuses a model (no leaked tensors)', () => {
    const channelsFirst = () => tfl.layers.conv2d({filters: 2, kernelSize: 1, dataFormat: 'channelsFirst',
      activation: 'relu'});
    // Functional: the first conv and its spline are built before the channelsFirst conv is reached.
    const inp = tfl.input({shape: [4, 4, 2]});
    const a = tfl.layers.conv2d({filters: 2, kernelSize: 1, activation: 'relu'}).apply(inp) as tfl.SymbolicTensor;
    const functional = tfl.model({inputs: inp, outputs: channelsFirst().apply(a) as tfl.SymbolicTensor});
    // Sequential and functional models whose first layer is a nested model (converted, so built).
    const nested = () => tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [4, 4, 2],
      activation: 'relu'})]});
    const sequential = tfl.sequential({layers: [nested(), channelsFirst()]});
    const inp2 = tfl.input({shape: [4, 4, 2]});
    const b = nested().apply(inp2) as tfl.SymbolicTensor;
    const late = tfl.model({inputs: inp2, outputs: tfl.layers.reLU({maxValue: 6}).apply(b) as tfl.SymbolicTensor});
    const cases: Array<[tfl.LayersModel, WithSplineActivationsArgs, RegExp]> = [
      [functional, {}, /channelsFirst/], [sequential, {}, /channelsFirst/],
      [late, {range: 2}, /bends at 6, which is not a knot below the last one/],
    ];
    for (const [model, args, message] of cases) {
      const before = tf.memory().numTensors;
      expect(() => withSplineActivations(model, args)).toThrow(message);
      expect([model.name, tf.memory().numTensors - before]).toEqual([model.name, 0]);
    }
    [functional, sequential, late].forEach((model) => model.dispose());
  });

  it('shared: true makes one spline per layer (one coefficient row) that computes the same', () => {
    const m = tfl.sequential({layers: [
      tfl.layers.dense({units: 5, inputShape: [3], activation: 'relu', name: 'd1'}),
      tfl.layers.dense({units: 4, name: 'd2'}),
      tfl.layers.leakyReLU({alpha: 0.2, name: 'leaky'}),
      tfl.layers.dense({units: 3, name: 'd3'}),
      tfl.layers.prelu({name: 'prelu'}),
      tfl.layers.dense({units: 2, name: 'out'}),
    ]});
    randomizeWeights(m, 11);
    // One alpha for every channel: a PReLU that one shared spline can reproduce.
    const alpha = tf.fill([3], 0.35);
    m.getLayer('prelu').setWeights([alpha]);
    const s = withSplineActivations(m, {size: 11, range: 1, shared: true});
    const found = splines(s);
    expect(found.map((l) => l.name)).toEqual(['d1_spline', 'leaky_spline', 'prelu_spline']);
    for (const l of found) {
      expect(l.getConfig().shared).toBe(true);
      expect(l.getWeights()[0]!.shape).toEqual([1, 11]);
    }
    for (const [scale, seed] of [[0.5, 1], [20, 2]] as const) {
      const x = inputs([256, 3], scale, seed);
      expectSamePredictions(m, s, x);
      x.dispose();
    }
    alpha.dispose();
    m.dispose();
    s.dispose();
  });

  it('serialization round trip: a converted model saves and loads', async () => {
    const m = tfl.sequential({layers: [
      tfl.layers.dense({units: 4, inputShape: [2], activation: 'relu'}),
      tfl.layers.prelu({}),
      tfl.layers.dense({units: 1}),
    ]});
    randomizeWeights(m, 8);
    const s = withSplineActivations(m, {size: 7, range: 1});
    let artifacts: tf.io.ModelArtifacts | undefined;
    await s.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    const x = inputs([64, 2], 3, 31);
    expectSamePredictions(m, loaded, x);
    x.dispose();
    [m, s, loaded].forEach((model) => model.dispose());
  });
});
