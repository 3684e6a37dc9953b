/**
 * The proximal Adam TV(2) solver `tv2ProximalOptimizer`: one step against the algorithm
 * written out in float64 (ReLU coordinates, Adam, diagonal prox), exact zeros after fit,
 * knots falling with lambda, the l1 optimality condition, composition with maxSlope, the
 * constrain callback, save/load and every tfjs optimizer, optimizer weights, no leaks, clear errors.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {tv2} from '@deepspline/core';
import {splineActivation} from '@deepspline/layers';
import {lipschitzBound, lipschitzCallback, modelActiveKnots, sparsify, splineLayers, tv2Prox,
  tv2ProximalOptimizer, tv2Regularizer} from '@deepspline/lipschitz';
import {rng, rowsOf, useCpu} from './helpers.js';
import {data, exactKnots, expectScaledAndSparse, net, stored} from './prox_fixtures.js';

beforeAll(useCpu);

async function train(model: tfl.LayersModel, lambda: number, {epochs = 10, inner = tf.train.adam(0.01) as tf.Optimizer,
    callbacks = [] as tfl.Callback[], factor = 0.1, metric = 'relu' as 'relu' | 'values'} = {}): Promise<tf.Optimizer> {
  const {x, y} = data();
  const optimizer = tv2ProximalOptimizer(model, inner, {lambda, splineLearningRateFactor: factor, metric});
  model.compile({optimizer, loss: 'binaryCrossentropy'});
  await model.fit(x, y, {epochs, batchSize: 20, shuffle: false, verbose: 0, callbacks});
  tf.dispose([x, y]);
  return optimizer;
}

/** Proximal Adam steps of one spline written out in float64, from the float32 inputs. */
function reference(c: number[], grads: number[][], T: number, eta: number, lambda: number,
    refitFrom = Infinity, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const K = c.length;
  // u = (c0, c1, a_1..a_{K-2}), c_k = c0 + k (c1 - c0) + T sum_{j<k} (k - j) a_j
  const u = [c[0]!, c[1]!];
  for (let k = 1; k < K - 1; ++k) u.push((c[k - 1]! - 2 * c[k]! + c[k + 1]!) / T);
  // dc_k / du_i, written out
  const dc = (k: number, i: number) => (i === 0 ? 1 - k : i === 1 ? k : T * Math.max(k - (i - 1), 0));
  const m = new Array(K).fill(0);
  const v = new Array(K).fill(0);
  const frozen = u.map(() => false);
  grads.forEach((g, step) => {
    const t = step + 1;
    // from refitFrom on, a slope that was 0 then stays 0 and the others are not shrunk
    if (step === refitFrom) u.forEach((ui, i) => { frozen[i] = i >= 2 && ui === 0; });
    for (let i = 0; i < K; ++i) {
      let gu = 0;
      for (let k = 0; k < K; ++k) gu += dc(k, i) * g[k]!;
      m[i] = b1 * m[i] + (1 - b1) * gu;
      v[i] = b2 * v[i] + (1 - b2) * gu * gu;
      const denom = Math.sqrt(v[i] / (1 - b2 ** t)) + eps;
      u[i] -= eta * (m[i] / (1 - b1 ** t)) / denom;
      if (frozen[i]) u[i] = 0;
      else if (i >= 2 && step < refitFrom) u[i] = Math.sign(u[i]) * Math.max(Math.abs(u[i]) - eta * lambda / denom, 0);
    }
  });
  return c.map((_, k) => u.reduce((s, ui, i) => s + dc(k, i) * ui, 0));
}

/**
 * Steps of metric 'values' on one spline written out in float64, from the float32 inputs: Adam
 * on c, each a_k soft-thresholded by lambda (D[k-1] + 4 D[k] + D[k+1]) / T^2 (from step
 * refitFrom on, 0-based: a removed a_k stays 0, the others are kept as they are), c0 and c1
 * kept, then the affine part of the change chosen in the metric diag(D). Returns the values and
 * which knots are removed.
 */
function valuesReference(row: number[], grads: number[][], T: number, eta: number, lambda: number,
    refitFrom = Infinity): {c: number[], removed: boolean[]} {
  const c = [...row];
  const m = c.map(() => 0);
  const v = c.map(() => 0);
  let removed = c.slice(2).map(() => false);
  let frozen = removed;
  grads.forEach((g, step) => {
    const t = step + 1;
    const D = c.map((_, i) => {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!;
      return eta / (Math.sqrt(v[i]! / (1 - 0.999 ** t)) + 1e-8);
    });
    const z = c.map((ci, i) => ci - D[i]! * m[i]! / (1 - 0.9 ** t));
    // soft-threshold each a_k, keep c0 and c1, rebuild
    const a = z.slice(1, -1).map((_, k) => (z[k]! - 2 * z[k + 1]! + z[k + 2]!) / T);
    // from refitFrom on, the knots removed then stay 0 and the others are kept
    if (step === refitFrom) frozen = removed;
    const shrunk = a.map((ak, k) => (step >= refitFrom ? (frozen[k] ? 0 : ak) :
      Math.sign(ak) * Math.max(Math.abs(ak) - lambda * (D[k]! + 4 * D[k + 1]! + D[k + 2]!) / T ** 2, 0)));
    removed = shrunk.map((x) => x === 0);
    c[0] = z[0]!;
    c[1] = z[1]!;
    for (let k = 2; k < c.length; ++k) c[k] = 2 * c[k - 1]! - c[k - 2]! + T * shrunk[k - 2]!;
    // then the affine function alpha + beta k that minimizes sum_k (c[k] - z[k])^2 / D[k]
    // (normal equations, 2 x 2); it leaves every a_k as it is
    const w = D.map((x) => 1 / x);
    const r = c.map((ck, k) => z[k]! - ck);
    const S = (f: (k: number) => number) => w.reduce((s, wk, k) => s + wk * f(k), 0);
    const [s0, s1, s2, r0, r1] = [S(() => 1), S((k) => k), S((k) => k * k), S((k) => r[k]!), S((k) => k * r[k]!)];
    const alpha = (s2 * r0 - s1 * r1) / (s0 * s2 - s1 * s1);
    const beta = (s0 * r1 - s1 * r0) / (s0 * s2 - s1 * s1);
    for (let k = 0; k < c.length; ++k) c[k] += alpha + beta * k;
  });
  return {c, removed};
}

/**
 * A dense layer and a 9-knot ReLU spline; the solver with `options` around SGD(0.05) applies
 * two random coefficient gradients (from `seed`). The coefficients before (`c0`) and after (`got`).
 */
function twoSteps(seed: number, options: Parameters<typeof tv2ProximalOptimizer>[2]) {
  const layer = splineActivation({size: 9, range: 1, init: 'relu'});
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]}), layer]});
  const c0 = rowsOf(layer.getWeights()[0]!);
  const r = rng(seed);
  const grads = [0, 1].map(() => c0.map((row) => row.map(() => 2 * r() - 1)));
  const optimizer = tv2ProximalOptimizer(model, tf.train.sgd(0.05), options);
  const name = (layer.weights[0]!.read() as tf.Variable).name;
  for (const g of grads) {
    const tensor = tf.tensor2d(g);
    optimizer.applyGradients({[name]: tensor});
    tensor.dispose();
  }
  return {layer, model, optimizer, c0, grads, got: rowsOf(layer.getWeights()[0]!)};
}

test('two steps match proximal Adam in the ReLU coordinates, written out in float64', () => {
  const {layer, model, optimizer, c0, grads, got} = twoSteps(11, {lambda: 0.3, splineLearningRateFactor: 0.4,
    metric: 'relu'});
  c0.forEach((row, ch) => {
    const want = reference(row, grads.map((g) => g[ch]!), layer.step, 0.02, 0.3);
    want.forEach((w, k) => expect(Math.abs(got[ch]![k]! - w)).toBeLessThan(1e-5));
    // the prox removed knots, and the float32 coefficients have them exactly 0
    const a = want.slice(1, -1).map((_, k) => (want[k]! - 2 * want[k + 1]! + want[k + 2]!) / layer.step);
    const zeros = a.filter((x) => Math.abs(x) < 1e-9).length;
    expect(zeros).toBeGreaterThan(0);
    expect(exactKnots([got[ch]!])).toBe(a.length - zeros);
  });
  expect(optimizer.iterations).toBe(2);
  optimizer.dispose();
  model.dispose();
});

test("metric 'values': two steps match Adam on c, the soft-threshold by lambda (D[k-1] + 4 D[k] + D[k+1]) / T^2 and the affine part in the metric, in float64", () => {
  const {layer, model, optimizer, c0, grads, got} = twoSteps(12, {lambda: 0.02, splineLearningRateFactor: 0.4});
  expect(optimizer.metric).toBe('values');
  let removed = 0;
  c0.forEach((row, ch) => {
    const {c, removed: zeros} = valuesReference(row, grads.map((g) => g[ch]!), layer.step, 0.02, 0.02);
    removed += zeros.filter(Boolean).length;
    c.forEach((w, k) => expect(Math.abs(got[ch]![k]! - w)).toBeLessThan(1e-5));
  });
  expect(removed).toBeGreaterThan(0);
  expect(exactKnots(got)).toBe(2 * 7 - removed);
  optimizer.dispose();
  model.dispose();
});

test("metric 'values': exact zeros after fit, knots falling with lambda", async () => {
  const counts: number[] = [];
  for (const lambda of [0, 1e-5, 1e-4, 1e-3]) {
    const model = net();
    (await train(model, lambda, {metric: 'values', factor: 1})).dispose();
    const exact = exactKnots(stored(model));
    expect(modelActiveKnots(model).total).toBe(exact);
    counts.push(exact);
    model.dispose();
  }
  for (let i = 1; i < counts.length; ++i) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]!);
  expect(counts[counts.length - 1]).toBeLessThan(counts[0]! / 4);
});

test('after fit, the removed knots are exactly 0; counts agree', async () => {
  const model = net();
  const optimizer = await train(model, 1e-2);
  const exact = exactKnots(stored(model));
  expect(exact).toBeGreaterThan(0);
  expect(exact).toBeLessThan(6 * 19 / 2);
  expect(modelActiveKnots(model).total).toBe(exact);
  optimizer.dispose();
  model.dispose();
});

test('exact knots fall with lambda', async () => {
  const counts: number[] = [];
  for (const lambda of [0, 1e-3, 3e-3, 1e-2, 3e-2]) {
    const model = net();
    (await train(model, lambda)).dispose();
    counts.push(exactKnots(stored(model)));
    model.dispose();
  }
  for (let i = 1; i < counts.length; ++i) expect(counts[i]).toBeLessThanOrEqual(counts[i - 1]!);
  expect(counts[counts.length - 1]).toBeLessThan(counts[0]! / 4);
});

test('with maxSlope: the clipped splines keep the zeros and stay 1-Lipschitz', async () => {
  const model = net({maxSlope: 1, init: 'abs'});
  const optimizer = await train(model, 3e-3);
  const eff = splineLayers(model).flatMap(({layer}) => {
    const c = layer.effectiveCoefficients();
    const rows = rowsOf(c);
    c.dispose();
    return rows;
  });
  expect(exactKnots(eff)).toBeLessThanOrEqual(exactKnots(stored(model)));
  expect(exactKnots(eff)).toBeLessThan(6 * 19 / 2);
  expect(modelActiveKnots(model).total).toBe(exactKnots(eff));
  for (const c of eff) for (let k = 0; k + 1 < c.length; ++k) expect(Math.abs(c[k + 1]! - c[k]!) / 0.1).toBeLessThanOrEqual(1);
  optimizer.dispose();
  model.dispose();
});

test('with the constrain callback and after save/load: bound <= target, zeros exact, same predictions', async () => {
  const model = net();
  const optimizer = await train(model, 1e-2, {callbacks: [lipschitzCallback({mode: 'constrain', target: 1})]});
  expect(lipschitzBound(model).bound).toBeLessThanOrEqual(1);
  const exact = exactKnots(stored(model));
  expect(exact).toBeLessThan(6 * 19 / 2);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  const {x} = data(5);
  const before = Array.from((model.predict(x) as tf.Tensor).dataSync());
  expect(exactKnots(stored(loaded))).toBe(exact);
  expect(sparsify(loaded, 0).total).toBe(exact);
  expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(before);
  tf.dispose(x);
  optimizer.dispose();
  model.dispose();
  loaded.dispose();
});

test('every tfjs optimizer trains the other weights exactly as it would alone; a schedule sets its rate', () => {
  const makers: Array<[string, () => tf.Optimizer]> = [
    ['sgd', () => tf.train.sgd(0.5)], ['momentum', () => tf.train.momentum(0.2, 0.9)],
    ['adagrad', () => tf.train.adagrad(0.1)], ['adadelta', () => tf.train.adadelta(1)],
    ['adam', () => tf.train.adam(0.01)], ['adamax', () => tf.train.adamax(0.01)],
    ['rmsprop', () => tf.train.rmsprop(0.01)],
  ];
  const {x, y} = data();
  for (const [name, make] of makers) {
    const a = net();
    const b = net();
    b.setWeights(a.getWeights());
    const wrapped = tv2ProximalOptimizer(a, make(), {lambda: 1e-3});
    const alone = make();
    const loss = (m: tfl.LayersModel) => () => tf.losses.sigmoidCrossEntropy(y, m.apply(x) as tf.Tensor) as tf.Scalar;
    const vars = (m: tfl.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
    const dense = (m: tfl.LayersModel) => m.trainableWeights.filter((w) => !w.name.includes('act')).map((w) => Array.from(w.read().dataSync()));
    for (let i = 0; i < 3; ++i) {
      if (i === 2) {
        wrapped.learningRate = 0.5 * wrapped.learningRate;
        (alone as unknown as {learningRate: number}).learningRate *= 0.5;
      }
      tf.dispose(wrapped.minimize(loss(a), true, vars(a))!);
      // the lone optimizer sees the same dense variables (the spline gradient is not used)
      tf.dispose(alone.minimize(loss(b), true, vars(b).filter((v) => !v.name.includes('act')))!);
      b.getLayer('act').setWeights(a.getLayer('act').getWeights());
    }
    expect([name, dense(a)]).toEqual([name, dense(b)]);
    expect([name, stored(a).flat().every(Number.isFinite)]).toEqual([name, true]);
    expect(wrapped.iterations).toBe(3);
    wrapped.dispose();
    alone.dispose();
    a.dispose();
    b.dispose();
  }
  tf.dispose([x, y]);
});

test('getWeights / setWeights carry the spline moments: a restored copy steps identically', async () => {
  const a = net();
  const b = net();
  b.setWeights(a.getWeights());
  const opt = await train(a, 3e-3, {epochs: 1});
  b.setWeights(a.getWeights());
  const copy = tv2ProximalOptimizer(b, tf.train.adam(0.01), {lambda: 3e-3, splineLearningRateFactor: 0.1, metric: 'relu'});
  const weights = await opt.getWeights();
  // tf.variable names differ between the models: map a's variable names to b's
  const names = new Map(a.weights.map((w, i) => [(w.read() as tf.Variable).name, (b.weights[i]!.read() as tf.Variable).name]));
  await copy.setWeights(weights.map(({name, tensor}) => {
    const [variable, suffix] = [name.replace(/\/[^/]*$/, ''), name.slice(name.lastIndexOf('/'))];
    return {name: names.has(variable) ? names.get(variable)! + suffix : name, tensor};
  }));
  const {x, y} = data(8);
  for (const [m, o] of [[a, opt], [b, copy]] as const) {
    tf.dispose(o.minimize(() => tf.losses.sigmoidCrossEntropy(y, m.apply(x) as tf.Tensor) as tf.Scalar, true,
      m.trainableWeights.map((w) => w.read() as tf.Variable))!);
  }
  expect(stored(b)).toEqual(stored(a));
  tf.dispose([x, y]);
  opt.dispose();
  copy.dispose();
  a.dispose();
  b.dispose();
});

test('no leak over 120 batches (with and without the refit)', async () => {
  for (const refitAfterSteps of [undefined, 5]) {
    const model = net({maxSlope: 2});
    const {x, y} = data();
    const optimizer = tv2ProximalOptimizer(model, tf.train.adam(0.01), {lambda: 3e-3, refitAfterSteps});
    model.compile({optimizer, loss: 'binaryCrossentropy'});
    await model.fit(x, y, {epochs: 1, batchSize: 20, verbose: 0});  // creates the moments (and the refit's thresholds)
    const before = tf.memory().numTensors;
    await model.fit(x, y, {epochs: 12, batchSize: 20, verbose: 0});
    expect(tf.memory().numTensors).toBe(before);
    optimizer.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
    tf.dispose([x, y]);
    model.dispose();
  }
});

test('lambda may change between steps (a schedule, the demo\'s slider): the next steps use it', async () => {
  const model = net();
  const {x, y} = data();
  const optimizer = tv2ProximalOptimizer(model, tf.train.adam(0.01), {lambda: 0});
  model.compile({optimizer, loss: 'binaryCrossentropy'});
  await model.fit(x, y, {epochs: 3, batchSize: 20, shuffle: false, verbose: 0});
  const dense = exactKnots(stored(model));
  expect(dense).toBeGreaterThan(60);
  optimizer.lambda = 0.05;
  expect(optimizer.lambda).toBe(0.05);
  expect(optimizer.getConfig().lambda).toBe(0.05);
  await model.fit(x, y, {epochs: 3, batchSize: 20, shuffle: false, verbose: 0});
  expect(exactKnots(stored(model))).toBeLessThan(dense / 2);
  expect(() => { optimizer.lambda = -1; }).toThrow('tv2ProximalOptimizer: expected lambda >= 0, got -1');
  expect(() => { optimizer.lambda = NaN; }).toThrow('tv2ProximalOptimizer: expected lambda to be a finite number, got NaN');
  expect(optimizer.lambda).toBe(0.05);
  optimizer.dispose();
  tf.dispose([x, y]);
  model.dispose();
});

test("metric 'values': a knot removed where the loss does not look leaves the spline where it does (the linear part set in the metric)", () => {
  // One spline, linear plus a knot of slope change 1 at t_2 = -0.8; gradients 1 on c[10..20]
  // (inputs >= 0, where "the data" is) and 1e-4 on c[0..9]. Adam's first step moves every
  // value by -eta exactly (m_hat / sqrt(v_hat) = sign(g)), so the slopes are unchanged; the
  // threshold at knot 2 (D = eta / 1e-4 there) removes the knot. Keeping c[0], c[1] fixed
  // would move the values right of t_2 by its ramp, (k - 2) T, up to 1.8 at c[20].
  const layer = splineActivation({size: 21, range: 1});
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [1]}), layer]});
  const T = layer.step;
  const before = Array.from({length: 21}, (_, k) => -1 + k * T + Math.max(k - 2, 0) * T);
  layer.setWeights([tf.tensor2d([before])]);
  const eta = 0.01;
  const optimizer = tv2ProximalOptimizer(model, tf.train.sgd(eta), {lambda: 1e-3});
  const g = tf.tensor2d([before.map((_, k) => (k >= 10 ? 1 : 1e-4))]);
  optimizer.applyGradients({[(layer.weights[0]!.read() as tf.Variable).name]: g});
  const after = rowsOf(layer.getWeights()[0]!)[0]!;
  expect(Math.abs(after[1]! - 2 * after[2]! + after[3]!)).toBe(0);   // the knot is gone, exactly
  expect(exactKnots([after])).toBe(0);
  // where the gradient is, the values moved by Adam's step (-eta) and almost nothing else
  for (let k = 10; k <= 20; ++k) expect(Math.abs(after[k]! - (before[k]! - eta))).toBeLessThan(2e-3);
  g.dispose();
  optimizer.dispose();
  model.dispose();
});

test('warmupSteps, rampSteps: the threshold is 0 for warmupSteps spline steps, then rises linearly to lambda', () => {
  // Same gradients into two solvers: one with warmupSteps 2, rampSteps 4; one whose lambda is
  // set by hand before each step to 0, 0, lambda / 4, lambda / 2, 3 lambda / 4, lambda, lambda.
  const build = () => {
    const layer = splineActivation({size: 9, range: 1, init: 'relu'});
    return {layer, model: tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]}), layer]})};
  };
  const a = build();
  const b = build();
  b.layer.setWeights(a.layer.getWeights());
  const lambda = 0.05;
  const warm = tv2ProximalOptimizer(a.model, tf.train.sgd(0.05), {lambda, warmupSteps: 2, rampSteps: 4});
  const byHand = tv2ProximalOptimizer(b.model, tf.train.sgd(0.05), {lambda: 0});
  expect(warm.getConfig()).toMatchObject({warmupSteps: 2, rampSteps: 4});
  const r = rng(13);
  const shares = [0, 0, 0.25, 0.5, 0.75, 1, 1];
  const knots: number[] = [];
  for (const share of shares) {
    const grad = tf.tensor2d([0, 1].map(() => Array.from({length: 9}, () => 2 * r() - 1)));
    byHand.lambda = lambda * share;
    warm.applyGradients({[(a.layer.weights[0]!.read() as tf.Variable).name]: grad});
    byHand.applyGradients({[(b.layer.weights[0]!.read() as tf.Variable).name]: grad});
    grad.dispose();
    const got = rowsOf(a.layer.getWeights()[0]!);
    expect(got).toEqual(rowsOf(b.layer.getWeights()[0]!));
    knots.push(exactKnots(got));
  }
  expect(knots[1]).toBe(14);                        // no knot removed during the warm-up
  expect(knots[knots.length - 1]).toBeLessThan(14); // then the prox removes some
  [warm, byHand].forEach((o) => o.dispose());
  [a.model, b.model].forEach((m) => m.dispose());
});

test('refitAfterSteps: from that step on, removed knots stay exactly 0 and the others take the plain Adam step, against float64 write-outs of both metrics', () => {
  for (const metric of ['relu', 'values'] as const) {
    const layer = splineActivation({size: 9, range: 1, init: 'relu'});
    const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]}), layer]});
    const c0 = rowsOf(layer.getWeights()[0]!);
    const r = rng(14);
    const grads = [0, 1, 2, 3, 4].map(() => c0.map((row) => row.map(() => 2 * r() - 1)));
    const lambda = metric === 'relu' ? 0.3 : 0.02;
    const optimizer = tv2ProximalOptimizer(model, tf.train.sgd(0.05), {lambda, splineLearningRateFactor: 0.4, metric,
      refitAfterSteps: 2});
    expect(optimizer.refitAfterSteps).toBe(2);
    expect(optimizer.getConfig()).toMatchObject({refitAfterSteps: 2});
    const name = (layer.weights[0]!.read() as tf.Variable).name;
    let afterTwo: number[][] = [];
    grads.forEach((g, step) => {
      const tensor = tf.tensor2d(g);
      optimizer.applyGradients({[name]: tensor});
      tensor.dispose();
      if (step === 1) afterTwo = rowsOf(layer.getWeights()[0]!);
    });
    const got = rowsOf(layer.getWeights()[0]!);
    const zerosOf = (rows: number[][]) => rows.map((c) => c.slice(1, -1).map((_, k) => (c[k]! - 2 * c[k + 1]!) + c[k + 2]! === 0));
    let differs = 0;
    c0.forEach((row, ch) => {
      const g = grads.map((gs) => gs[ch]!);
      const want = metric === 'relu' ? reference(row, g, layer.step, 0.02, lambda, 2) :
        valuesReference(row, g, layer.step, 0.02, lambda, 2).c;
      want.forEach((w, k) => expect([metric, Math.abs(got[ch]![k]! - w) < 1e-5]).toEqual([metric, true]));
      // the steps without the refit end elsewhere (so the comparison sees the refit)
      const never = metric === 'relu' ? reference(row, g, layer.step, 0.02, lambda) :
        valuesReference(row, g, layer.step, 0.02, lambda).c;
      differs = Math.max(differs, ...never.map((w, k) => Math.abs(got[ch]![k]! - w)));
    });
    // the zero pattern of step 2 is the final one, exactly, and some knots were removed before it
    expect([metric, zerosOf(got)]).toEqual([metric, zerosOf(afterTwo)]);
    expect(zerosOf(got).flat().some(Boolean)).toBe(true);
    expect(zerosOf(got).flat().every(Boolean)).toBe(false);
    expect([metric, differs > 1e-3]).toEqual([metric, true]);
    optimizer.dispose();
    model.dispose();
  }
});

test('getWeights / setWeights carry the refit\'s frozen knots (infinity where a knot was 0 when the refit began)', async () => {
  const layer = splineActivation({size: 9, range: 1, init: 'relu'});
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]}), layer]});
  const name = (layer.weights[0]!.read() as tf.Variable).name;
  const args = {lambda: 0.3, splineLearningRateFactor: 0.4, metric: 'relu' as const, refitAfterSteps: 1};
  const optimizer = tv2ProximalOptimizer(model, tf.train.sgd(0.05), args);
  const r = rng(15);
  for (let step = 0; step < 3; ++step) {
    const g = tf.tensor2d([0, 1].map(() => Array.from({length: 9}, () => 2 * r() - 1)));
    optimizer.applyGradients({[name]: g});
    g.dispose();
  }
  const c = rowsOf(layer.getWeights()[0]!);
  const want = c.map((row) => row.slice(1, -1).map((_, k) => ((row[k]! - 2 * row[k + 1]!) + row[k + 2]! === 0 ? Infinity : 0)));
  const frozenOf = async (o: tf.Optimizer) => (await o.getWeights()).find((w) => w.name === `${name}/tv2prox_frozen`);
  expect(rowsOf((await frozenOf(optimizer))!.tensor)).toEqual(want);
  const copy = tv2ProximalOptimizer(model, tf.train.sgd(0.05), args);
  await copy.setWeights(await optimizer.getWeights());
  expect(rowsOf((await frozenOf(copy))!.tensor)).toEqual(want);
  [optimizer, copy].forEach((o) => o.dispose());
  model.dispose();
});

test('refitAfterSteps after fit: the zero pattern of that step, and a lower training loss than the prox alone', async () => {
  const {x, y} = data();
  const zerosOf = (m: tfl.LayersModel) => stored(m).map((c) => c.slice(1, -1).map((_, k) => (c[k]! - 2 * c[k + 1]!) + c[k + 2]! === 0));
  const run = async (epochs: number, refitAfterSteps?: number) => {
    const model = net();
    const optimizer = tv2ProximalOptimizer(model, tf.train.adam(0.01), {lambda: 1e-4, refitAfterSteps});
    model.compile({optimizer, loss: 'binaryCrossentropy'});
    await model.fit(x, y, {epochs, batchSize: 20, shuffle: false, verbose: 0});
    const loss = tf.tidy(() => tf.mean(tfl.metrics.binaryCrossentropy(y, model.predict(x) as tf.Tensor)).dataSync()[0]!);
    optimizer.dispose();
    const result = {loss, knots: exactKnots(stored(model)), zeros: zerosOf(model)};
    model.dispose();
    return result;
  };
  const found = await run(10);                 // 100 steps: the pattern the refit keeps
  const refit = await run(20, 100);
  const shrunk = await run(20);
  expect(refit.zeros).toEqual(found.zeros);
  expect(refit.knots).toBeGreaterThan(0);
  expect(refit.knots).toBeLessThan(6 * 19 / 2);
  expect(refit.loss).toBeLessThan(shrunk.loss);
  tf.dispose([x, y]);
});

test('refitAfterSteps composes with maxSlope, the constrain callback and save/load: frozen knots stay 0, bound <= target, same predictions', async () => {
  const {x, y} = data();
  const zerosOf = (m: tfl.LayersModel) => stored(m).flatMap((c) => c.slice(1, -1).map((_, k) => (c[k]! - 2 * c[k + 1]!) + c[k + 2]! === 0));
  const run = async (epochs: number, refitAfterSteps?: number) => {
    const model = net({maxSlope: 1, init: 'abs'});
    const optimizer = tv2ProximalOptimizer(model, tf.train.adam(0.01), {lambda: 1e-4, refitAfterSteps});
    model.compile({optimizer, loss: 'binaryCrossentropy'});
    await model.fit(x, y, {epochs, batchSize: 20, shuffle: false, verbose: 0,
      callbacks: [lipschitzCallback({mode: 'constrain', target: 1})]});
    optimizer.dispose();
    return model;
  };
  const found = await run(10);
  const refit = await run(20, 100);
  // the knots 0 at step 100 are 0 at the end (the slope clipping may remove more)
  const before = zerosOf(found);
  const after = zerosOf(refit);
  expect(before.filter(Boolean).length).toBeGreaterThan(0);
  before.forEach((zero, i) => { if (zero) expect(after[i]).toBe(true); });
  expect(exactKnots(stored(refit))).toBeGreaterThan(0);
  expect(lipschitzBound(refit).bound).toBeLessThanOrEqual(1);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await refit.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
  expect(zerosOf(loaded)).toEqual(after);
  expect(sparsify(loaded, 0).total).toBe(exactKnots(stored(refit)));
  expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((refit.predict(x) as tf.Tensor).dataSync()));
  tf.dispose([x, y]);
  [found, refit, loaded].forEach((m) => m.dispose());
});

test('clear errors for bad arguments', () => {
  const model = net();
  const adam = tf.train.adam(0.01);
  const bad: Array<[unknown, unknown, unknown, string]> = [
    [{}, adam, {lambda: 1}, 'tv2ProximalOptimizer: expected a tfjs-layers model or a non-empty array of SplineActivation layers, got {}'],
    [[], adam, {lambda: 1}, 'tv2ProximalOptimizer: expected a tfjs-layers model or a non-empty array of SplineActivation layers, got []'],
    [model, 'adam', {lambda: 1}, 'tv2ProximalOptimizer: expected a tfjs optimizer (e.g. tf.train.adam(1e-2)) to wrap, got "adam"'],
    [model, adam, undefined, 'tv2ProximalOptimizer: expected an arguments object {lambda, ...}, got undefined'],
    [model, adam, {}, 'tv2ProximalOptimizer: expected lambda (a finite number >= 0), got undefined'],
    [model, adam, {lambda: -1}, 'tv2ProximalOptimizer: expected lambda >= 0, got -1'],
    [model, adam, {lambda: NaN}, 'tv2ProximalOptimizer: expected lambda to be a finite number, got NaN'],
    [model, adam, {lambda: 1, splineLearningRateFactor: 0}, 'tv2ProximalOptimizer: expected splineLearningRateFactor > 0, got 0'],
    [model, adam, {lambda: 1, beta1: 1}, 'tv2ProximalOptimizer: expected beta1 in [0, 1), got 1'],
    [model, adam, {lambda: 1, beta2: -0.1}, 'tv2ProximalOptimizer: expected beta2 in [0, 1), got -0.1'],
    [model, adam, {lambda: 1, epsilon: 0}, 'tv2ProximalOptimizer: expected epsilon > 0, got 0'],
    [model, adam, {lambda: 1, metric: 'c'}, 'tv2ProximalOptimizer: expected metric \'values\' or \'relu\', got "c"'],
    [model, adam, {lambda: 1, warmupSteps: -1}, 'tv2ProximalOptimizer: expected warmupSteps to be an integer >= 0, got -1'],
    [model, adam, {lambda: 1, rampSteps: 1.5}, 'tv2ProximalOptimizer: expected rampSteps to be an integer >= 0, got 1.5'],
    [model, adam, {lambda: 1, refitAfterSteps: -2}, 'tv2ProximalOptimizer: expected refitAfterSteps to be an integer >= 0, got -2'],
  ];
  const make = tv2ProximalOptimizer as unknown as (m: unknown, o: unknown, a: unknown) => unknown;
  for (const [m, o, args, message] of bad) expect(() => make(m, o, args)).toThrow(message);
  const wrapper = tv2ProximalOptimizer(model, adam, {lambda: 1});
  expect(() => make(model, wrapper, {lambda: 1})).toThrow('tv2ProximalOptimizer: expected a tfjs optimizer');
  const plain = tfl.sequential({layers: [tfl.layers.dense({units: 1, inputShape: [2]})]});
  expect(() => tv2ProximalOptimizer(plain, adam, {lambda: 1})).toThrow(
    'tv2ProximalOptimizer: the model has no SplineActivation layer (nested models included); the TV(2) prox acts on spline activations');
  const regularized = net({coefficientsRegularizer: tv2Regularizer({lambda: 1e-4})});
  expect(() => tv2ProximalOptimizer(regularized, adam, {lambda: 1})).toThrow(
    /^tv2ProximalOptimizer: spline layer 'act' has a tv2Regularizer; the proximal solver minimizes the same TV\(2\) penalty/);
  wrapper.dispose();
  model.dispose();
  plain.dispose();
  regularized.dispose();
});

test('beside tv2Prox on the same problem: fewer knots at no higher training loss', async () => {
  const {x, y} = data();
  const result = async (callbacks: tfl.Callback[], optimizer: (m: tfl.LayersModel) => tf.Optimizer) => {
    const model = net();
    const opt = optimizer(model);
    model.compile({optimizer: opt, loss: 'binaryCrossentropy'});
    await model.fit(x, y, {epochs: 20, batchSize: 20, shuffle: false, verbose: 0, callbacks});
    const loss = tf.tidy(() => tf.mean(tfl.metrics.binaryCrossentropy(y, model.predict(x) as tf.Tensor)).dataSync()[0]!);
    const knots = exactKnots(stored(model));
    opt.dispose();
    model.dispose();
    return {loss, knots};
  };
  const prox = await result([tv2Prox({lambda: 5})], () => tf.train.adam(0.01));
  const adamProx = await result([], (m) => tv2ProximalOptimizer(m, tf.train.adam(0.01), {lambda: 2e-2, metric: 'relu'}));
  expect(adamProx.knots).toBeLessThan(prox.knots);
  expect(adamProx.loss).toBeLessThanOrEqual(prox.loss);
  tf.dispose([x, y]);
});

test('learnableScale: the scale goes to the wrapped optimizer (its step, written out), the coefficients to the spline step', async () => {
  // one step by hand: Adam's first step moves each scale by -lr g / (|g| + eps)
  const layer = splineActivation({size: 9, range: 1, init: 'relu', learnableScale: true});
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 2, inputShape: [2]}), layer]});
  const optimizer = tv2ProximalOptimizer(model, tf.train.adam(0.1), {lambda: 0.3, splineLearningRateFactor: 0.4,
    metric: 'relu'});
  const c0 = rowsOf(layer.getWeights()[0]!);
  const r = rng(21);
  const g = c0.map((row) => row.map(() => 2 * r() - 1));
  const gs = [0.5, -2];
  const names = layer.weights.map((w) => (w.read() as tf.Variable).name);
  const tensors = [tf.tensor2d(g), tf.tensor1d(gs)];
  optimizer.applyGradients({[names[0]!]: tensors[0]!, [names[1]!]: tensors[1]!});
  tf.dispose(tensors);
  const scale = Array.from(layer.getWeights()[1]!.dataSync());
  gs.forEach((v, i) => expect(Math.abs(scale[i]! - (1 - 0.1 * v / (Math.abs(v) + 1e-7)))).toBeLessThan(1e-6));
  const got = rowsOf(layer.getWeights()[0]!);
  c0.forEach((row, ch) => {
    const want = reference(row, [g[ch]!], layer.step, 0.04, 0.3);
    want.forEach((w, k) => expect(Math.abs(got[ch]![k]! - w)).toBeLessThan(1e-5));
  });
  optimizer.dispose();
  model.dispose();

  // and in fit: the scale moves, the removed knots are exactly 0, sparsify(model, 0) changes nothing
  const scaled = net({learnableScale: true});
  const trained = await train(scaled, 1e-2);
  expectScaledAndSparse(scaled);
  const {x} = data();
  const before = scaled.predict(x) as tf.Tensor;
  sparsify(scaled, 0);
  const after = scaled.predict(x) as tf.Tensor;
  expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()));
  tf.dispose([x, before, after]);
  trained.dispose();
  scaled.dispose();
});

describe('lambda 0: a separate learning rate for the spline coefficients', () => {
  const lr = 0.01;
  const factor = 0.1;
  const reg = 1e-3;

  test('with a tv2Regularizer in the loss, fit equals tfjs Adam at lr x factor on the coefficients and at lr elsewhere', async () => {
    const {x, y} = data();
    const curved = (t: number) => 0.3 * Math.sin(3 * t) + t * t;
    const model = net({init: curved, coefficientsRegularizer: tv2Regularizer({lambda: reg})});
    const reference = net({init: curved});
    reference.setWeights(model.getWeights());
    const optimizer = tv2ProximalOptimizer(model, tf.train.adam(lr), {lambda: 0, splineLearningRateFactor: factor,
      epsilon: 1e-7});
    model.compile({optimizer, loss: 'binaryCrossentropy'});
    await model.fit(x, y, {epochs: 3, batchSize: 200, shuffle: false, verbose: 0});

    // The same objective (mean BCE + reg TV(2)) and two tfjs Adam optimizers: one for the
    // coefficients at lr x factor, one for the rest at lr. The splines start curved everywhere
    // (sin + square), so no a_k is near 0, where the subgradient would follow the sign of
    // float32 rounding noise.
    const splineAdam = tf.train.adam(lr * factor);
    const restAdam = tf.train.adam(lr);
    const coefficients = reference.getLayer('act').trainableWeights[0]!.read() as tf.Variable;
    for (let step = 0; step < 3; ++step) {
      const {grads} = tf.variableGrads(() => tf.tidy(() => {
        const penalty = tf.mul(reg, tf.sum(tv2(coefficients as tf.Tensor2D, 0.1)));
        const bce = tf.mean(tfl.metrics.binaryCrossentropy(y, reference.apply(x) as tf.Tensor));
        return tf.add(bce, penalty) as tf.Scalar;
      }));
      const own = coefficients.name;
      splineAdam.applyGradients([{name: own, tensor: grads[own]!}]);
      restAdam.applyGradients(Object.entries(grads).filter(([name]) => name !== own).map(([name, tensor]) => ({name, tensor})));
      tf.dispose(grads);
    }
    const got = model.getWeights().map((w) => Array.from(w.dataSync()));
    const want = reference.getWeights().map((w) => Array.from(w.dataSync()));
    const fresh = net({init: curved});
    const start = fresh.getWeights().map((w) => Array.from(w.dataSync()));
    fresh.dispose();
    got.forEach((g, i) => g.forEach((v, j) => {
      expect(Math.abs(v - want[i]![j]!)).toBeLessThan(1e-5);
    }));
    // Every weight moved, the coefficients by about lr x factor per step, not lr.
    const moved = (i: number) => Math.max(...got[i]!.map((v, j) => Math.abs(v - start[i]![j]!)));
    expect(moved(2)).toBeGreaterThan(0.5 * lr * factor);
    expect(moved(2)).toBeLessThan(4 * lr * factor);
    expect(moved(0)).toBeGreaterThan(0.5 * lr);
    optimizer.dispose();
    [splineAdam, restAdam].forEach((o) => o.dispose());
    [model, reference].forEach((m) => m.dispose());
    tf.dispose([x, y]);
  });

  test('a lambda > 0 set later with a tv2Regularizer in the loss is an error at the next step', async () => {
    const {x, y} = data();
    const model = net({coefficientsRegularizer: tv2Regularizer({lambda: reg})});
    const optimizer = tv2ProximalOptimizer(model, tf.train.adam(lr), {lambda: 0});
    model.compile({optimizer, loss: 'binaryCrossentropy'});
    await model.fit(x, y, {epochs: 1, batchSize: 200, verbose: 0});
    optimizer.lambda = 1e-4;
    await expect(model.fit(x, y, {epochs: 1, batchSize: 200, verbose: 0})).rejects.toThrow(
      /^tv2ProximalOptimizer: spline layer 'act' has a tv2Regularizer; the proximal solver minimizes the same TV\(2\) penalty at lambda 0.0001/);
    optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  });
});
