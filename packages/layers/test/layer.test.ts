/**
 * The SplineActivation layer: initialisation at the knots, models (Sequential, functional,
 * after Dense/Conv1D/Conv2D, any rank >= 2), training with fit, save/load, methods, errors,
 * leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {linearSpline, reluSlopes, splineGrid} from '@deepspline/core';
import {applyConstraints, constraintCallback, namedInit, SPLINE_INIT_NAMES, SplineActivation,
  splineActivation} from '@deepspline/layers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function values(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}

/** The values of a weight (getWeights returns the variables themselves: never dispose them). */
function peek(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

describe('initialisation', () => {
  const expected: Record<string, (x: number) => number> = {
    leaky_relu: (x) => (x >= 0 ? x : 0.01 * x),
    relu: (x) => Math.max(0, x),
    identity: (x) => x,
    abs: (x) => Math.abs(x),
    softplus: (x) => Math.log(1 + Math.exp(x)),
    tanh: (x) => Math.tanh(x),
  };
  test.each(Object.keys(expected))('%s: coefficients are the function at the knots', (name) => {
    const layer = splineActivation({size: 9, range: 2, init: name as 'relu'});
    layer.apply(tf.zeros([1, 3]));
    const c = peek(layer.getWeights()[0]);
    expect(layer.getWeights()[0].shape).toEqual([3, 9]);
    for (let i = 0; i < c.length; ++i) {
      const t = -2 + (i % 9) * 0.5;
      expect(c[i]).toBeCloseTo(expected[name](t), 6);
    }
  });
  test('even_odd: first half |x|, second half soft threshold 0.5 (reference)', () => {
    const layer = splineActivation({size: 5, range: 1, init: 'even_odd'});
    layer.apply(tf.zeros([1, 4]));
    expect(peek(layer.getWeights()[0])).toEqual([1, 0.5, 0, 0.5, 1, 1, 0.5, 0, 0.5, 1,
      -0.5, 0, 0, 0, 0.5, -0.5, 0, 0, 0, 0.5]);
  });
  test('a function, and an array of coefficients', () => {
    const f = splineActivation({size: 3, range: 1, init: (x) => 2 * x + 1});
    f.apply(tf.zeros([1, 2]));
    expect(peek(f.getWeights()[0])).toEqual([-1, 1, 3, -1, 1, 3]);
    const a = splineActivation({size: 3, range: 1, init: [3, 2, 1], shared: true});
    a.apply(tf.zeros([1, 2]));
    expect(peek(a.getWeights()[0])).toEqual([3, 2, 1]);
  });
  test('defaults: size 21, range 2, leaky_relu, per channel', () => {
    const layer = splineActivation();
    layer.apply(tf.zeros([1, 2]));
    expect(layer.grid).toEqual(splineGrid({size: 21, range: 2}));
    expect(layer.getWeights()[0].shape).toEqual([2, 21]);
    const out = values(layer.apply(tf.tensor2d([[-1, 3]])) as tf.Tensor);
    expect(out[0]).toBeCloseTo(-0.01, 7);
    expect(out[1]).toBeCloseTo(3, 6);   // extrapolated beyond the range exactly
    expect(namedInit('relu', 0, 1)(-1)).toBe(0);
    expect(SPLINE_INIT_NAMES).toContain('even_odd');
  });
});

describe('in models', () => {
  test('Sequential: dense -> spline -> dense trains with fit; loss drops, coefficients move, no leaks', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 8, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      splineActivation({size: 11, range: 1}),
      tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ]});
    model.compile({optimizer: tf.train.adam(0.01), loss: 'meanSquaredError'});
    const x = tf.randomUniform([128, 2], -1, 1, 'float32', 3);
    const y = tf.sum(tf.square(x), 1, true);
    const c0 = peek(model.layers[1].getWeights()[0]);
    await model.fit(x, y, {epochs: 1, batchSize: 32, verbose: 0});   // creates optimizer slots
    const before = tf.memory().numTensors;
    const h = await model.fit(x, y, {epochs: 40, batchSize: 32, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    const loss = h.history.loss as number[];
    expect(loss[loss.length - 1]).toBeLessThan(0.5 * loss[0]);
    const c1 = peek(model.layers[1].getWeights()[0]);
    expect(c1.some((v, i) => Math.abs(v - c0[i]) > 1e-3)).toBe(true);
    tf.dispose([x, y]);
    model.dispose();
  });

  test('serialization round trip: functional model, shared spline: same predictions and config', async () => {
    const input = tfl.input({shape: [3]});
    const h = tfl.layers.dense({units: 4}).apply(input) as tfl.SymbolicTensor;
    const s = splineActivation({size: 7, grid: 0.25, init: 'tanh', shared: true, name: 'act'})
      .apply(h) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({units: 2}).apply(s) as tfl.SymbolicTensor;
    const model = tfl.model({inputs: input, outputs: out});
    const x = tf.randomUniform([5, 3], -2, 2);
    const loaded = await roundTrip(model);
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
    const layer = loaded.getLayer('act') as SplineActivation;
    expect(layer).toBeInstanceOf(SplineActivation);
    expect(layer.getConfig()).toEqual(model.getLayer('act').getConfig());
    expect(layer.getConfig()).toMatchObject({size: 7, grid: 0.25, init: 'tanh', shared: true});
    expect(layer.getWeights()[0].shape).toEqual([1, 7]);
    x.dispose();
  });

  test('serialization round trip: keeps regularizer, constraint, maxSlope and a function init', async () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 3, inputShape: [2]}),
      splineActivation({size: 5, range: 1, init: (x) => x * x, coefficientsRegularizer: 'l1l2',
        coefficientsConstraint: 'nonNeg', maxSlope: 1.5, name: 'act'}),
    ]});
    const loaded = await roundTrip(model);
    const config = loaded.getLayer('act').getConfig();
    expect(config).toEqual(model.getLayer('act').getConfig());
    expect(config.init).toEqual([1, 0.25, 0, 0.25, 1]);
    expect(config.maxSlope).toBe(1.5);
    expect(config.coefficientsRegularizer).toMatchObject({className: 'L1L2'});
    expect(config.coefficientsConstraint).toMatchObject({className: 'NonNeg'});
    const x = tf.randomUniform([4, 2], -3, 3);
    expect(values(loaded.predict(x) as tf.Tensor)).toEqual(values(model.predict(x) as tf.Tensor));
    x.dispose();
  });

  test('after Conv1D and Conv2D (channels last), inputs of rank 3 and 4', () => {
    const m1 = tfl.sequential({layers: [
      tfl.layers.conv1d({filters: 5, kernelSize: 3, inputShape: [10, 2]}),
      splineActivation({size: 9, range: 1, init: 'abs'}),
    ]});
    const m2 = tfl.sequential({layers: [
      tfl.layers.conv2d({filters: 6, kernelSize: 3, inputShape: [8, 8, 3]}),
      splineActivation({size: 9, range: 1, init: 'abs'}),
      tfl.layers.flatten(),
      tfl.layers.dense({units: 2}),
    ]});
    for (const [m, shape] of [[m1, [2, 10, 2]], [m2, [2, 8, 8, 3]]] as Array<[tfl.Sequential, number[]]>) {
      const x = tf.randomUniform(shape, -1, 1);
      const conv = m.layers[0].apply(x) as tf.Tensor;
      const y = m.layers[1].apply(conv) as tf.Tensor;
      // abs inside the grid; linear extrapolation (slope ±1) outside: |v| everywhere
      expect(values(y)).toEqual(values(tf.abs(conv)).map((v) => expect.closeTo(v, 5)) as unknown as number[]);
      expect(m.layers[1].getWeights()[0].shape[0]).toBe(shape.length === 3 ? 5 : 6);
      tf.dispose([x, conv]);
    }
  });

  test('rank 5 input, and the layer equals the op on its coefficients', () => {
    const layer = splineActivation({size: 6, range: 1.5, init: 'softplus'});
    const x = tf.randomUniform([2, 3, 2, 2, 4], -3, 3);
    const y = layer.apply(x) as tf.Tensor;
    const c = layer.getWeights()[0];
    const z = linearSpline(x, c, {start: -1.5, step: 0.6});
    expect(c.isDisposed).toBe(false);
    expect(values(y)).toEqual(values(z));
    x.dispose();
  });

  test('rank 1 input is rejected by the input spec', () => {
    expect(() => splineActivation().apply(tf.zeros([3]))).toThrow(/expected min_ndim=2, found ndim=1/);
  });
});

describe('methods', () => {
  const layer = splineActivation({size: 7, range: 1.5, init: 'relu', name: 'm'});
  beforeAll(() => { layer.apply(tf.zeros([1, 2])); });

  test('knots, reluSlopes, tv2, bv2, lipschitz, activeKnots, curves', () => {
    expect(values(layer.knots())).toEqual([-1.5, -1, -0.5, 0, 0.5, 1, 1.5]);
    const a = layer.reluSlopes();
    expect(a.shape).toEqual([2, 5]);
    // ReLU: one kink of slope change 1 at 0 → a = 1/T * T? a_k = (c[k-1]-2c[k]+c[k+1])/T = 0.5/0.5
    expect(values(a)).toEqual([0, 0, 1, 0, 0, 0, 0, 1, 0, 0]);
    expect(values(layer.tv2())).toEqual([1, 1]);
    expect(values(layer.bv2())).toEqual([2, 2]);         // TV2 + |relu(0)| + |relu(1)|
    expect(values(layer.lipschitz())).toEqual([1, 1]);
    expect(values(layer.activeKnots(0.5))).toEqual([1, 1]);
    const {x, y} = layer.curves(9, 0);
    expect(values(x)).toEqual([-1.5, -1.125, -0.75, -0.375, 0, 0.375, 0.75, 1.125, 1.5]);
    expect(values(y).slice(0, 9)).toEqual([0, 0, 0, 0, 0, 0.375, 0.75, 1.125, 1.5]);
  });

  test('sparsify removes small kinks and keeps large ones', () => {
    const l = splineActivation({size: 7, range: 1.5, init: (x) => Math.max(0, x) + 0.01 * Math.abs(x - 0.5)});
    l.apply(tf.zeros([1, 1]));
    expect(values(l.activeKnots(0))).toEqual([2]);
    const before = tf.memory().numTensors;
    expect(l.sparsify(0)).toBe(2);
    expect(l.sparsify(0.1)).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    const a = values(reluSlopes(l.getWeights()[0] as tf.Tensor2D, 0.5));
    expect(a.map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0, 0, 1, 0, 0]);
  });

  test('maxSlope: the layer evaluates with clipped slopes', () => {
    const l = splineActivation({size: 5, range: 1, init: (x) => 3 * x, maxSlope: 2});
    const y = values(l.apply(tf.tensor2d([[-1], [0], [1]])) as tf.Tensor);
    // clipSlopes keeps a float32 rounding margin below maxSlope (core README, Derived quantities)
    expect(y.map((v) => Math.round(v * 1e4) / 1e4)).toEqual([-2, 0, 2]);
    const lip = values(l.lipschitz())[0]!;
    expect(lip).toBeLessThanOrEqual(2);
    expect(lip).toBeGreaterThan(2 * (1 - 1e-5));
  });

  test('no leaks in the methods', () => {
    const before = tf.memory().numTensors;
    tf.dispose([layer.knots(), layer.reluSlopes(), layer.tv2(), layer.bv2(), layer.lipschitz(),
      layer.activeKnots(), layer.effectiveCoefficients()]);
    const {x, y} = layer.curves();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('methods before build say so', () => {
    expect(() => splineActivation({name: 'fresh'}).tv2()).toThrow(
      "splineActivation 'fresh': the layer is not built yet; call it on an input or build its model first");
  });
});

describe('constraints', () => {
  test('fit ignores weight constraints; constraintCallback applies them after every batch', async () => {
    const make = () => {
      const m = tfl.sequential({layers: [
        tfl.layers.dense({units: 4, inputShape: [2], kernelInitializer: tfl.initializers.glorotUniform({seed: 5})}),
        splineActivation({size: 5, range: 1, init: 'identity', coefficientsConstraint: 'nonNeg'}),
        tfl.layers.dense({units: 1, kernelInitializer: tfl.initializers.glorotUniform({seed: 6})}),
      ]});
      m.compile({optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError'});
      return m;
    };
    const x = tf.randomUniform([64, 2], -1, 1, 'float32', 9);
    const y = tf.mul(tf.sum(x, 1, true), -3);
    const plain = make();
    await plain.fit(x, y, {epochs: 3, batchSize: 16, verbose: 0});
    const constrained = make();
    await constrained.fit(x, y, {epochs: 3, batchSize: 16, verbose: 0, callbacks: [constraintCallback()]});
    // the identity init already has negative coefficients; nonNeg must clear them
    expect(Math.min(...peek(constrained.layers[1].getWeights()[0]))).toBeGreaterThanOrEqual(0);
    expect(Math.min(...peek(plain.layers[1].getWeights()[0]))).toBeLessThan(0);
    tf.dispose([x, y]);
  });

  test('maxNorm: projects the init and applyConstraints; setWeights stores values as given; no leaks', () => {
    const before = tf.memory().numTensors;
    const layer = splineActivation({size: 3, range: 1, init: [3, 0, 4],
      coefficientsConstraint: tfl.constraints.maxNorm({maxValue: 1, axis: 1})});
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [1]}), layer]});
    const norm = () => Math.hypot(...peek(layer.getWeights()[0]));
    expect(norm()).toBeCloseTo(1, 6);
    const given = tf.tensor2d([[6, 0, 8]]);
    layer.setWeights([given]);
    expect(peek(layer.getWeights()[0])).toEqual([6, 0, 8]);
    expect(applyConstraints(model)).toBe(1);
    expect(norm()).toBeCloseTo(1, 6);
    given.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('bad arguments', () => {
  test.each<[string, object, RegExp | string]>([
    ['size < 3', {size: 2}, 'splineActivation: expected size to be an integer >= 3, got 2'],
    ['size not an integer', {size: 7.5}, /expected size to be an integer >= 3, got 7.5/],
    ['size a string', {size: '21'}, /expected size to be an integer >= 3, got "21"/],
    ['range 0', {range: 0}, 'splineActivation: expected range > 0, got 0'],
    ['range negative', {range: -1}, /expected range > 0, got -1/],
    ['range NaN', {range: NaN}, /expected range to be a finite number, got NaN/],
    ['grid Infinity', {grid: Infinity}, /expected grid to be a finite number, got Infinity/],
    ['grid 0', {grid: 0}, /expected grid > 0, got 0/],
    ['range and grid', {range: 1, grid: 0.1}, /give either range or grid, not both \(got range 1 and grid 0.1\)/],
    ['unknown init', {init: 'swish'}, /unknown init "swish"; expected one of leaky_relu, relu, identity, abs, even_odd, softplus, tanh/],
    ['init array of wrong length', {size: 3, init: [1, 2]}, /expected init as an array of 3 finite numbers/],
    ['maxSlope 0', {maxSlope: 0}, /expected maxSlope > 0, got 0/],
    ['shared not boolean', {shared: 'yes'}, /expected shared to be a boolean, got "yes"/],
    ['unknown regularizer', {coefficientsRegularizer: 'l3'}, /unknown regularizer class "l3"/],
    ['a lipschitz constraint without its import', {coefficientsConstraint: 'SpectralConstraint'},
      /unknown constraint class "SpectralConstraint"; it is registered by @deepspline\/lipschitz: import/],
    ['a lipschitz regularizer without its import', {coefficientsRegularizer: {className: 'OrthDenseRegularizer', config: {}}},
      /unknown regularizer class "OrthDenseRegularizer"; it is registered by @deepspline\/lipschitz: import/],
    ['range whose knot span overflows', {range: 1e308},
      /splineActivation: expected range <= 8.988465674311579e\+307 .*got 1e\+308/],
    ['grid whose range overflows', {grid: 1e308},
      /splineActivation: expected grid \* \(size - 1\) <= .* for size 21; got grid 1e\+308/],
    ...['constructor', 'toString', '__proto__', 'hasOwnProperty'].flatMap((name) => [
      [`regularizer named ${name}`, {coefficientsRegularizer: name},
        `splineActivation: unknown regularizer class "${name}"`],
      [`regularizer of class ${name}`, {coefficientsRegularizer: {className: name, config: {}}},
        `splineActivation: unknown regularizer class "${name}"`],
      [`constraint named ${name}`, {coefficientsConstraint: name},
        `splineActivation: unknown constraint class "${name}"`],
      [`constraint of class ${name}`, {coefficientsConstraint: {className: name, config: {}}},
        `splineActivation: unknown constraint class "${name}"`],
    ] as Array<[string, object, string]>),
  ])('%s', (_name, args, message) => {
    expect(() => splineActivation(args as object)).toThrow(message);
  });

  // What a user meets reloading a TV(2)-regularized model with only @deepspline/layers imported.
  test.each([
    ['TV2', 'regularizer', {coefficientsRegularizer: {className: 'TV2', config: {lambda: 1e-4}}}],
    ['BV2', 'regularizer', {coefficientsRegularizer: 'BV2'}],
  ])('a saved %s %s names @deepspline/lipschitz and lists the few known classes', (name, kind, args) => {
    expect(() => splineActivation(args as object)).toThrow(`splineActivation: unknown ${kind} class "${name}"; ` +
      "it is registered by @deepspline/lipschitz: import '@deepspline/lipschitz' before creating or loading the " +
      `model (known ${kind} classes: L1L2)`);
  });

  test('an unknown class of someone else\'s says how to register it and lists the known classes of its kind', () => {
    expect(() => splineActivation({coefficientsConstraint: {className: 'Mine', config: {}}})).toThrow(
      'splineActivation: unknown constraint class "Mine"; register it with tf.serialization.registerClass ' +
      '(known constraint classes: MaxNorm, MinMaxNorm, NonNeg, UnitNorm)');
  });

  test.each([[null, 'null'], [42, '42'], ['relu', '"relu"'], [[1, 2], '[1,2]']])(
    'arguments %p instead of an object', (args, shown) => {
      const message = `splineActivation: expected an arguments object, got ${shown}`;
      expect(() => new SplineActivation(args as object)).toThrow(message);
      expect(() => splineActivation(args as object)).toThrow(message);
    });

  test('unknown channel count without shared', () => {
    const input = tfl.input({shape: [null as unknown as number]});
    expect(() => splineActivation({name: 'u'}).apply(input)).toThrow(
      /'u': the last axis of the input \(channels\) must have a known size unless shared is true/);
  });

  test('non-float input reaches the op error', () => {
    const layer = splineActivation();
    expect(() => layer.apply(tf.tensor2d([[1, 2]], [1, 2], 'int32'))).toThrow(
      /expected x to be a float32 tensor, got dtype "int32"/);
  });
});
