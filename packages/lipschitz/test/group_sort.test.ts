import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import {GroupSort, empiricalLipschitz, groupSort, lipschitzBound, lipschitzRule} from '@deepspline/lipschitz';
import {rng, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

/** Independent reference: sort each group of `g` consecutive values ascending (float64). */
function groupSortJs(x: ArrayLike<number>, g: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i += g) {
    out.push(...Array.from(x).slice(i, i + g).sort((a, b) => a - b));
  }
  return out;
}

function randomTensor(shape: number[], seed: number, scale = 1): Tensor {
  const r = rng(seed);
  return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => scale * (2 * r() - 1)), shape);
}

/** Applies a standalone layer to a concrete tensor. */
function run(layer: tfl.layers.Layer, x: Tensor): Tensor {
  return layer.apply(x) as Tensor;
}

describe('groupSort: forward', () => {
  test.each([
    [2, [5, 12]], [3, [5, 12]], [4, [5, 12]], [12, [5, 12]], [3, [2, 3, 3, 6]], [2, [1, 2]],
  ])('groupSize %d on shape %j equals a float64 sort of each group', (g, shape) => {
    const x = randomTensor(shape, 10 * g + shape.length);
    const y = run(groupSort({groupSize: g}), x);
    expect(y.shape).toEqual(shape);
    expect(Array.from(y.dataSync())).toEqual(groupSortJs(x.dataSync(), g));
    tf.dispose([x, y]);
  });

  test.each([2, 4])('groupSize %d: infinities, signed zeros and ties sort as a float64 sort does', (g) => {
    const values = [Infinity, -Infinity, -Infinity, Infinity, Infinity, Infinity, -0, 0, 0, -0, 5, 5, -3, Infinity,
      -Infinity, 2, 1e38, -1e38, 3e38, 3e38];
    const x = tf.tensor2d(values, [1, values.length]);
    const y = run(groupSort({groupSize: g}), x);
    // Object.is tells -0 from 0: the sort is stable, so equal values keep their slots
    expect(Array.from(y.dataSync()).map((v) => Object.is(v, -0) ? '-0' : v)).toEqual(
      groupSortJs(Float32Array.from(values), g).map((v) => Object.is(v, -0) ? '-0' : v));
    tf.dispose([x, y]);
  });

  test('a NaN anywhere in a group makes every output of that group NaN, for every groupSize', () => {
    const layer4 = groupSort({groupSize: 4});
    const example = tf.tensor2d([[3, NaN, 1, 2, 4, -1, 0, 2]]);
    const y4 = run(layer4, example);
    expect(Array.from(y4.dataSync())).toEqual([NaN, NaN, NaN, NaN, -1, 0, 2, 4]);
    tf.dispose([example, y4]);
    for (const g of [2, 3, 4, 6, 12]) {
      const layer = groupSort({groupSize: g});
      for (let j = 0; j < g; ++j) {
        const values = Array.from(randomTensor([2, 12], 70 + g).dataSync());
        values[j] = NaN;  // in the first group of the first row
        const x = tf.tensor2d(values, [2, 12]);
        const y = run(layer, x);
        const expected = groupSortJs(values, g).map((v, i) => (i < g ? NaN : v));
        expect([g, j, Array.from(y.dataSync())]).toEqual([g, j, expected]);
        tf.dispose([x, y]);
      }
    }
    // MaxMin is (min, max): tfjs's own minimum and maximum propagate NaN the same way.
    const pairs = tf.tensor2d([[NaN, 1], [1, NaN], [NaN, NaN], [2, 1]]);
    const [a, b] = tf.split(pairs, 2, 1);
    const tfjs = tf.concat([tf.minimum(a!, b!), tf.maximum(a!, b!)], 1);
    const y2 = run(groupSort(), pairs);
    expect(Array.from(y2.dataSync())).toEqual(Array.from(tfjs.dataSync()));
    tf.dispose([pairs, a!, b!, tfjs, y2]);
  });

  test('the default groupSize is 2 (MaxMin: each pair becomes (min, max))', () => {
    const layer = groupSort();
    expect(layer.groupSize).toBe(2);
    const x = tf.tensor2d([[3, -1, 0, 0, -2, 5]]);
    const y = run(layer, x);
    expect(Array.from(y.dataSync())).toEqual([-1, 3, 0, 0, -2, 5]);
    tf.dispose([x, y]);
  });

  test('is 1-Lipschitz in the l1, l2 and l_inf norms on random pairs', () => {
    const layer = groupSort({groupSize: 3});
    const x = randomTensor([200, 6], 1);
    const z = randomTensor([200, 6], 2);
    const [fx, fz] = [run(layer, x), run(layer, z)];
    const [a, b, c, d] = [x.arraySync(), z.arraySync(), fx.arraySync(), fz.arraySync()] as number[][][];
    const norm = (v: number[], p: number) => (p === Infinity ? Math.max(...v.map(Math.abs)) :
      v.reduce((s, e) => s + Math.abs(e) ** p, 0) ** (1 / p));
    for (let i = 0; i < 200; ++i) {
      for (const p of [1, 2, Infinity]) {
        const dIn = norm(a[i]!.map((e, j) => e - b[i]![j]!), p);
        const dOut = norm(c[i]!.map((e, j) => e - d[i]![j]!), p);
        expect(dOut).toBeLessThanOrEqual(dIn * (1 + 1e-6));
      }
    }
    tf.dispose([x, z, fx, fz]);
  });
});

describe('groupSort: gradient', () => {
  test.each([2, 3, 4])('groupSize %d: the gradient equals central finite differences', (g) => {
    const layer = groupSort({groupSize: g});
    const n = 4 * g;
    const x = randomTensor([2, n], 20 + g);
    const w = randomTensor([2, n], 30 + g);
    const wData = w.dataSync();
    const f = (t: Tensor) => tf.sum(tf.mul(run(layer, t), w));
    // The output is a permutation of the input: f from it in float64 has no float32 rounding.
    const f64 = (values: Float32Array) => tf.tidy(() => {
      const y = run(layer, tf.tensor(values, [2, n])).dataSync();
      return Array.from(y).reduce((s, v, i) => s + v * wData[i]!, 0);
    });
    const grad = tf.grad(f)(x);
    const g32 = grad.dataSync();
    const base = x.dataSync();
    const h = 1e-3;  // smaller than the gaps within the groups: no reordering
    for (let i = 0; i < base.length; ++i) {
      const plus = Float32Array.from(base);
      const minus = Float32Array.from(base);
      plus[i] = base[i]! + h;
      minus[i] = base[i]! - h;
      const fd = (f64(plus) - f64(minus)) / (plus[i]! - minus[i]!);
      expect(Math.abs(g32[i]! - fd)).toBeLessThan(1e-5);
    }
    tf.dispose([x, w, grad]);
  });

  test.each([2, 3])('groupSize %d: at ties the Jacobian is still a permutation', (g) => {
    const layer = groupSort({groupSize: g});
    const x = tf.tensor2d([Array.from({length: g}, () => 0.5)]);  // one group, all equal
    const rows: number[][] = [];
    for (let j = 0; j < g; ++j) {
      const e = tf.oneHot(tf.tensor1d([j], 'int32'), g);
      const grad = tf.grad((t: Tensor) => tf.sum(tf.mul(run(layer, t), e)))(x);
      rows.push(Array.from(grad.dataSync()));
      tf.dispose([e, grad]);
    }
    for (const row of rows) expect([...row].sort()).toEqual([...Array(g - 1).fill(0), 1]);
    for (let i = 0; i < g; ++i) expect(rows.reduce((s, row) => s + row[i]!, 0)).toBe(1);
    x.dispose();
  });
});

describe('groupSort: validation', () => {
  test.each([
    [{groupSize: 1}, 'groupSort: expected groupSize to be an integer >= 2, got 1'],
    [{groupSize: 2.5}, 'groupSort: expected groupSize to be an integer >= 2, got 2.5'],
    [{groupSize: '2'}, 'groupSort: expected groupSize to be an integer >= 2, got "2"'],
    [{groupSize: NaN}, 'groupSort: expected groupSize to be an integer >= 2, got NaN'],
    [null, 'groupSort: expected an arguments object, got null'],
    [[2], 'groupSort: expected an arguments object, got [2]'],
  ])('rejects %j', (args, message) => {
    expect(() => groupSort(args as never)).toThrow(message);
  });

  test('a groupSize that does not divide the channels fails at build, naming both', () => {
    expect(() => tfl.sequential({layers: [tfl.layers.dense({units: 5, inputShape: [2]}),
      groupSort({groupSize: 2, name: 'gs'})]})).toThrow(
      "groupSort 'gs': expected groupSize 2 to divide the number of channels (the last axis of " +
      'the input), got 5 channels');
    expect(() => groupSort({groupSize: 4}).apply(tf.zeros([1, 3, 6]))).toThrow('got 6 channels');
  });

  test('an unknown channel count fails at build', () => {
    const input = tfl.input({shape: [null as unknown as number]});
    expect(() => groupSort({name: 'gs2'}).apply(input)).toThrow(
      "groupSort 'gs2': the last axis of the input (channels) must have a known size; got input shape [null,null]");
  });
});

describe('groupSort: in models', () => {
  function model(groupSize: number): tfl.Sequential {
    return tfl.sequential({layers: [
      tfl.layers.dense({units: 6, inputShape: [3]}),
      groupSort({groupSize}),
      tfl.layers.dense({units: 4}),
      groupSort({groupSize: 4}),
      tfl.layers.dense({units: 1}),
    ]});
  }

  test('serialization round trip: same class, config and predictions', async () => {
    const m = model(3);
    let saved: tf.io.ModelArtifacts | undefined;
    await m.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    expect(JSON.stringify(saved!.modelTopology)).toContain('"class_name":"GroupSort"');
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    const layers = loaded.layers.filter((l) => l instanceof GroupSort) as GroupSort[];
    expect(layers.map((l) => l.groupSize)).toEqual([3, 4]);
    expect(layers.map((l) => l.name)).toEqual(m.layers.filter((l) => l instanceof GroupSort).map((l) => l.name));
    const x = randomTensor([16, 3], 5);
    const [a, b] = [m.predict(x) as Tensor, loaded.predict(x) as Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    m.dispose();
    loaded.dispose();
  });

  test('lipschitzBound: GroupSort counts 1, the bound is the product of the dense norms', () => {
    expect(lipschitzRule('GroupSort')).toBeDefined();
    const m = model(2);
    const dense = m.layers.filter((l) => l.getClassName() === 'Dense');
    const norms = dense.map((l) => {
      const k = l.getWeights()[0]!;
      return spectralNormSvd(k.dataSync(), k.shape[0]!, k.shape[1]!);
    });
    const result = lipschitzBound(m, {norm: 2});
    expect(result.layers.filter((l) => l.className === 'GroupSort').map((l) => l.factor)).toEqual([1, 1]);
    const product = norms.reduce((a, b) => a * b, 1);
    expect(Math.abs(result.bound - product) / product).toBeLessThan(1e-4);
    // Any valid bound is at least the empirical constant.
    const x = randomTensor([32, 3], 6);
    expect(empiricalLipschitz(m, x, {norm: 2}).value).toBeLessThanOrEqual(result.bound * (1 + 1e-5));
    x.dispose();
    m.dispose();
  });

  test('no tensors leak from apply or from its gradient', () => {
    for (const g of [2, 3]) {
      const layer = groupSort({groupSize: g});
      const x = randomTensor([4, 6], 7);
      run(layer, x).dispose();  // builds the layer (it has no weights)
      const before = tf.memory().numTensors;
      const y = run(layer, x);
      expect(tf.memory().numTensors).toBe(before + 1);
      y.dispose();
      const grad = tf.grad((t: Tensor) => tf.sum(run(layer, t)))(x);
      expect(tf.memory().numTensors).toBe(before + 1);
      tf.dispose([grad, x]);
    }
  });

  test.each([2, 3])('trains inside model.fit (groupSize %d): the loss decreases', async (g) => {
    const m = model(g);
    m.compile({optimizer: tf.train.adam(0.02), loss: 'meanSquaredError'});
    const x = randomTensor([64, 3], 8);
    const y = tf.tidy(() => tf.abs(tf.sum(x, 1, true)));  // |x1 + x2 + x3|: needs the nonlinearity
    const history = await m.fit(x, y, {epochs: 30, batchSize: 16, verbose: 0});
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]!).toBeLessThan(0.5 * loss[0]!);
    tf.dispose([x, y]);
    m.dispose();
  });
});

describe('groupSort: wasm backend', () => {
  afterAll(useCpu);

  test('gives the cpu outputs and gradients, bit for bit', async () => {
    const cases = [2, 3].map((g) => ({g, x: Array.from(randomTensor([3, 6], 40 + g).dataSync()),
      w: Array.from(randomTensor([3, 6], 50 + g).dataSync())}));
    for (const {x} of cases) x[7] = NaN;  // a group with a NaN: all NaN on both backends
    const evaluate = () => cases.map(({g, x, w}) => tf.tidy(() => {
      const layer = groupSort({groupSize: g});
      const xt = tf.tensor2d(x, [3, 6]);
      const wt = tf.tensor2d(w, [3, 6]);
      const grad = tf.grad((t: Tensor) => tf.sum(tf.mul(run(layer, t), wt)))(xt);
      return [Array.from(run(layer, xt).dataSync()), Array.from(grad.dataSync())];
    }));
    const cpu = evaluate();
    expect(await tf.setBackend('wasm')).toBe(true);
    expect(evaluate()).toEqual(cpu);
  });
});
