// certifiedRadius on squashed outputs, certifiedAccuracy against an attack, the 'paper'
// methods, and the clear errors of the certificate functions.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {splineActivation} from '@deepspline/layers';
import {certifiedAccuracy, certifiedAccuracyAsync, certifiedRadius, certifiedRadiusAsync, lipschitzBound,
  lipschitzCallback, losses, spectralConv2d, spectralDense} from '@deepspline/lipschitz';
import {bv2Js, rng, rowsOf, spectralNormSvd, useCpu} from './helpers.js';

beforeAll(useCpu);

function seeded(model: tfl.LayersModel, seed: number): void {
  const r = rng(seed);
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0 || layer.getClassName() === 'SplineActivation') continue;
    const next = ws.map((w) => tf.tensor(Array.from({length: w.size}, () => 2 * r() - 1), w.shape));
    layer.setWeights(next);
    tf.dispose(next);
  }
}

const kernelNorm = (layer: tfl.layers.Layer) => {
  const k = layer.getWeights()[0]!;
  return spectralNormSvd(k.dataSync(), k.shape[0]!, k.shape[1]!);
};

describe('certifiedRadius on sigmoid and softmax outputs certifies the logits', () => {
  const x = () => tf.tensor2d([[0.3, -0.2], [-0.5, 0.9], [0.1, 0.1], [-0.7, -0.4]]);

  // the logit where the output crosses probability t: sigmoid log(t / (1 - t)); tfjs's
  // hardSigmoid clip(0.2 z + 0.5, 0, 1): (t - 0.5) / 0.2
  const logitAt = {sigmoid: (t: number) => Math.log(t / (1 - t)), hardSigmoid: (t: number) => (t - 0.5) / 0.2};
  test.each([['sigmoid', 'fused'], ['sigmoid', 'layer'], ['hardSigmoid', 'fused'], ['hardSigmoid', 'layer']] as const)(
      '%s (%s): class is p > 0.5, radius |logit| / L_logit, a probability threshold mapped to the logit',
      (activation, how) => {
    const model = tfl.sequential({layers: how === 'fused' ?
      [tfl.layers.dense({units: 1, inputShape: [2], activation})] :
      [tfl.layers.dense({units: 1, inputShape: [2]}), tfl.layers.activation({activation})]});
    seeded(model, 3);
    const xs = x();
    const [w0, w1] = model.layers[0]!.getWeights()[0]!.dataSync();
    const b = model.layers[0]!.getWeights()[1]!.dataSync()[0]!;
    const L = Math.hypot(w0!, w1!);
    const points = xs.arraySync() as number[][];
    const before = tf.memory().numTensors;
    const res = certifiedRadius(model, xs);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.scores).toBe('logits');
    expect(Math.abs(res.bound - L) / L).toBeLessThan(1e-9);
    points.forEach(([p, q], i) => {
      const logit = w0! * p! + w1! * q! + b;
      expect(res.predicted[i]).toBe(logit > 0 ? 1 : 0);
      expect(res.radius[i]).toBeCloseTo(Math.abs(logit) / L, 5);
    });
    expect(new Set(res.predicted).size).toBe(2);  // a 0.5 threshold, not 0 on the probability
    const z = logitAt[activation](0.7);
    const t = certifiedRadius(model, xs, {threshold: 0.7});
    points.forEach(([p, q], i) => {
      const logit = w0! * p! + w1! * q! + b;
      expect(t.predicted[i]).toBe(logit > z ? 1 : 0);
      expect(t.radius[i]).toBeCloseTo(Math.abs(logit - z) / L, 5);
    });
    expect(() => certifiedRadius(model, xs, {threshold: 1.5})).toThrow(/expected 0 < threshold < 1, got 1.5/);
    expect(() => certifiedRadius(model, xs, {threshold: 0})).toThrow(/expected 0 < threshold < 1, got 0/);
    xs.dispose();
    model.dispose();
  });

  test('softmax: margins of the logits over sqrt(2) L_logit', () => {
    const model = tfl.sequential({layers: [
      tfl.layers.dense({units: 6, inputShape: [2], activation: 'tanh'}),
      tfl.layers.dense({units: 3, activation: 'softmax'})]});
    seeded(model, 4);
    const xs = x();
    const logitsModel = tfl.sequential({layers: [
      tfl.layers.dense({units: 6, inputShape: [2], activation: 'tanh'}), tfl.layers.dense({units: 3})]});
    logitsModel.setWeights(model.getWeights());
    const logits = (logitsModel.predict(xs) as Tensor).arraySync() as number[][];
    const L = kernelNorm(model.layers[0]!) * kernelNorm(model.layers[1]!);
    const res = certifiedRadius(model, xs);
    expect(res.scores).toBe('logits');
    logits.forEach((row, i) => {
      const sorted = [...row].sort((a, b) => b - a);
      expect(res.predicted[i]).toBe(row.indexOf(sorted[0]!));
      expect(res.radius[i]).toBeCloseTo((sorted[0]! - sorted[1]!) / (Math.SQRT2 * L), 5);
    });
    xs.dispose();
    model.dispose();
    logitsModel.dispose();
  });
});

describe('no leak when the output activation is fused into a spectral layer', () => {
  const models: [string, () => tfl.LayersModel, Tensor[]][] = [
    ['spectralDense sigmoid', () => tfl.sequential({layers: [
      spectralDense({units: 1, inputShape: [2], activation: 'sigmoid', orthonormalize: 'bjorck'})]}),
    [tf.tensor2d([[0.3, -0.2], [-0.5, 0.9]]), tf.tensor1d([1, 0])]],
    ['spectralConv2d softmax', () => tfl.sequential({layers: [
      spectralConv2d({filters: 3, kernelSize: 3, inputShape: [3, 3, 1], activation: 'softmax'})]}),
    [tf.randomUniform([2, 3, 3, 1], -1, 1, 'float32', 1), tf.tensor1d([2, 0])]],
  ];
  test.each(models)('%s: certifiedRadius, certifiedAccuracy (sync and async) over 101 calls each', async (_what, build, [x, y]) => {
    const model = build();
    certifiedRadius(model, x!);  // the model's own cached kernels are made once
    const before = tf.memory().numTensors;
    for (let i = 0; i < 101; ++i) {
      certifiedRadius(model, x!);
      certifiedAccuracy(model, x!, y!);
      await certifiedRadiusAsync(model, x!);
      await certifiedAccuracyAsync(model, x!, y!);
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x!, y!]);
    model.dispose();
  });
});

describe('clear errors', () => {
  const model = () => tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [2]})]});

  test('certifiedRadius: null options, an empty batch, a non-finite bound', () => {
    const m = model();
    const xs = tf.tensor2d([[1, 2]]);
    expect(() => certifiedRadius(m, xs, null as never)).toThrow(/certifiedRadius: expected an options object, got null/);
    expect(() => certifiedRadius(m, tf.zeros([0, 2]))).toThrow(/expected at least one point, got x of shape \[0,2\]/);
    const deep = tfl.sequential({layers: Array.from({length: 9}, (_, i) =>
      tfl.layers.dense({units: 2, inputShape: i === 0 ? [2] : undefined, useBias: false,
        kernelInitializer: tfl.initializers.constant({value: 1e37})}))});
    expect(() => certifiedRadius(deep, xs)).toThrow(/the computed Lipschitz bound is Infinity/);
    expect(() => certifiedAccuracy(m, xs, tf.tensor1d([1]), {epsilons: [-1]})).toThrow(/expected epsilons as a non-empty array of finite numbers >= 0, got \[-1\]/);
    expect(() => certifiedAccuracy(m, xs, tf.tensor1d([1, 0]))).toThrow(/expected 1 labels/);
    m.dispose();
  });

  test('certifiedAccuracy: an all-zero or tied one-hot row, NaN or other binary labels name the row', () => {
    const m = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2]})]});
    const xs = tf.tensor2d([[1, 2], [0, 1], [3, 1]]);
    expect(() => certifiedAccuracy(m, xs, tf.tensor2d([[0, 1, 0], [0, 0, 0], [1, 0, 0]]))).toThrow(
      /certifiedAccuracy: expected one-hot label rows with one largest entry > 0; row 1 is \[0,0,0\]/);
    expect(() => certifiedAccuracy(m, xs, tf.tensor2d([[0, 1, 0], [0, 1, 0], [0.5, 0, 0.5]]))).toThrow(
      /row 2 is \[0.5,0,0.5\]/);
    expect(() => certifiedAccuracy(m, xs, tf.tensor2d([[0, 1, 0], [0, NaN, 1], [1, 0, 0]]))).toThrow(/row 1 is \[0,NaN,1\]/);
    const b = tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [2]})]});
    expect(() => certifiedAccuracy(b, xs, tf.tensor1d([1, NaN, 0]))).toThrow(
      /certifiedAccuracy: expected binary labels 0 or 1 \(or -1 or 1\); label 1 is NaN/);
    expect(() => certifiedAccuracy(b, xs, tf.tensor1d([1, 0.5, 0]))).toThrow(/label 1 is 0.5/);
    expect(certifiedAccuracy(b, xs, tf.tensor1d([1, -1, 0])).correct).toHaveLength(3);
    [m, b].forEach((model) => model.dispose());
    xs.dispose();
  });

  test('lipschitzBound names the layer whose weights are NaN or Infinite', () => {
    for (const bad of [NaN, Infinity]) {
      const m = tfl.sequential({layers: [tfl.layers.dense({units: 3, inputShape: [2], name: `bad_${String(bad)}`})]});
      const k = tf.tensor2d([[1, bad, 0], [0, 1, 0]]);
      m.layers[0]!.setWeights([k, tf.zeros([3])]);
      for (const norm of [1, 2, Infinity]) {
        expect(() => lipschitzBound(m, {norm})).toThrow(new RegExp(`layer 'bad_${String(bad)}' \\(Dense\\) has Lipschitz factor (NaN|Infinity); expected a finite number >= 0`));
      }
      m.dispose();
    }
  });

  test('lipschitzCallback: print must be a function, verbose a boolean', () => {
    expect(() => lipschitzCallback({print: 5 as never, verbose: true})).toThrow(/expected print to be a function \(message: string\) => void, got 5/);
    expect(() => lipschitzCallback({verbose: 'yes' as never})).toThrow(/expected verbose to be a boolean, got "yes"/);
  });
});

test("'paper' is the reference's number before the output sigmoid; 'paperOnOutput' multiplies the 1/4 in", () => {
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 4, inputShape: [2], useBias: false}),
    splineActivation({size: 9, range: 1, init: 'tanh'}),
    tfl.layers.dense({units: 1, activation: 'sigmoid'}),
  ]});
  seeded(model, 9);
  const spline = model.layers[1]!;
  const grid = (spline as unknown as {grid: {range: number, step: number}}).grid;
  const bv = rowsOf(spline.getWeights()[0]!).reduce((s, c) => s + bv2Js(c, -grid.range, grid.step), 0);
  const maxAbs = (l: tfl.layers.Layer) => Math.max(...Array.from(l.getWeights()[0]!.dataSync(), Math.abs));
  const reference = maxAbs(model.layers[0]!) * bv * maxAbs(model.layers[2]!);
  const paper = lipschitzBound(model, {method: 'paper'});
  const onOutput = lipschitzBound(model, {method: 'paperOnOutput'});
  expect(Math.abs(paper.bound - reference) / reference).toBeLessThan(1e-5);
  expect(Math.abs(onOutput.bound - reference / 4) / reference).toBeLessThan(1e-5);
  expect(paper.method).toBe('paper');
  expect(onOutput.method).toBe('paperOnOutput');
  model.dispose();
});

test('certifiedAccuracy: counts only points a PGD attack cannot flip, and agrees with an independent bound', async () => {
  const r = rng(21);
  const pts = Array.from({length: 200}, () => [2 * r() - 1, 2 * r() - 1]);
  const lab = pts.map(([p, q]) => (p! * p! + q! * q! < 2 / Math.PI ? 1 : 0));
  const xs = tf.tensor2d(pts);
  const ys = tf.tensor2d(lab, [200, 1]);
  const model = tfl.sequential({layers: [
    spectralDense({units: 16, inputShape: [2], orthonormalize: 'bjorck', kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
    splineActivation({size: 21, range: 1, maxSlope: 1, init: 'abs'}),
    spectralDense({units: 1, orthonormalize: 'bjorck', kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
  ]});
  model.compile({optimizer: tf.train.adam(0.02), loss: losses.tauBinaryCrossentropy({tau: 16})});
  await model.fit(xs, ys, {epochs: 15, batchSize: 20, verbose: 0});
  const epsilons = [0, 0.02, 0.05, 0.1];
  const result = certifiedAccuracy(model, xs, ys, {epsilons});
  expect(result.cleanAccuracy).toBeGreaterThan(0.8);
  expect(result.accuracy[0]).toBe(result.cleanAccuracy);
  for (let i = 1; i < epsilons.length; ++i) expect(result.accuracy[i]!).toBeLessThanOrEqual(result.accuracy[i - 1]!);
  expect(result.accuracy[2]!).toBeGreaterThan(0.2);  // something is certified at 0.05
  // independent: logits from predict, L from SVDs of the layers' kernels and the spline's slopes
  const logits = Array.from((model.predict(xs) as Tensor).dataSync());
  const L = lipschitzBound(model).bound;
  epsilons.forEach((e, j) => {
    const share = logits.filter((f, i) => (f > 0 ? 1 : 0) === lab[i] && Math.abs(f) / L >= e).length / 200;
    expect(Math.abs(result.accuracy[j]! - share)).toBeLessThan(1e-9);
  });
  // PGD on the logit towards the other side, inside the l2 ball of each certified radius
  let flipped = 0;
  let moved = 0;
  const certified = result.radii.radius.map((rad, i) => ({rad, i})).filter(({rad, i}) => result.correct[i] && rad >= 0.05);
  for (const {i} of certified.slice(0, 40)) {
    const p = tf.tensor2d([pts[i]!]);
    const sign = result.radii.predicted[i] === 1 ? 1 : -1;
    const eps = 0.05;
    let z: Tensor = tf.clone(p);
    const f = (v: Tensor) => tf.mul(tf.sum(model.apply(v) as Tensor), sign) as tf.Scalar;
    const start = f(z).dataSync()[0]!;
    for (let step = 0; step < 20; ++step) {
      const next = tf.tidy(() => {
        const g = tf.grad(f)(z);
        const stepped = tf.sub(z, tf.mul(tf.div(g, tf.add(tf.norm(g), 1e-12)), eps / 4));
        const d = tf.sub(stepped, p);
        const n = tf.norm(d).dataSync()[0]!;
        return n > eps ? tf.add(p, tf.mul(d, eps / n)) : stepped;
      });
      z.dispose();
      z = next;
    }
    const end = f(z).dataSync()[0]!;
    if (end <= 0) ++flipped;
    if (end < start - 1e-3) ++moved;
    tf.dispose([p, z]);
  }
  expect(certified.length).toBeGreaterThan(10);
  expect(flipped).toBe(0);
  expect(moved).toBeGreaterThan(certified.slice(0, 40).length / 2);  // the attack does push towards the boundary
  tf.dispose([xs, ys]);
  model.dispose();
});
