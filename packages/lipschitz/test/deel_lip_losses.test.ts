/**
 * The losses added for deel-lip users (kr, multiclassKr, tauSparseCategoricalCrossentropy,
 * categoricalHinge, multiMargin, multiclassSoftHkr) against deel-lip's own test values
 * (deel-ai/deel-lip, tests/test_losses.py at commit 0d1cdae, transcribed) and against float64
 * formulas written from deel/lip/losses.py.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {losses} from '@deepspline/lipschitz';
import {perSample, rng, useCpu} from './helpers.js';

beforeAll(useCpu);

const eye = (labels: number[], k: number) => labels.map((l) => Array.from({length: k}, (_, i) => (i === l ? 1 : 0)));
const toPm = (y: number[][]) => y.map((r) => r.map((v) => (v > 0 ? 1 : -1)));
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const mean = (v: number[]) => sum(v) / v.length;
const relu = (v: number) => Math.max(v, 0);

// deel-lip tests/test_losses.py: y_true1 / y_pred1, y_true1b / y_pred1b, y_true2 / y_pred2, y_true3 / y_pred3
const yTrue1 = [1, 1, 1, 0, 0, 0].map((v) => [v]);
const yPred1 = [0.5, 1.5, -0.5, -0.5, -1.5, 0.5].map((v) => [v]);
const yTrue1b = [1, 1, 1, 1, 0, 0, 0, 0].map((v) => [v]);
const yPred1b = [0.5, 1.1, -0.1, 0.7, -1.3, -0.4, 0.2, -0.9].map((v) => [v]);
const yTrue2 = eye([0, 0, 0, 1, 1, 2], 3);
const yPred2 = [[2, 0.2, -0.5], [-1, -1.2, 0.3], [0.8, 2, 0], [0, 1, -0.5], [2.4, -0.4, -1.1], [-0.1, -1.7, 0.6]];
const yTrue3 = eye([0, 0, 0, 1, 1, 1, 2, 2], 3);
const yPred3 = [[1.5, 0.2, -0.5], [1, -1.2, 0.3], [0.8, 2, -2], [0, 1, -0.5], [-0.8, 2, 0], [2.4, -0.4, -1.1],
  [-0.1, -1.7, 0.6], [1.2, 1.3, 2.5]];
const resultsTauCat = [0.044275, 0.115109, 1.243572, 0.084923, 0.010887, 2.802300, 0.114224, 0.076357];


/** deel-lip's assert_allclose(rtol, atol) */
function expectAllClose(actual: number[], expected: number[], rtol = 1e-6, atol = 5e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(atol + rtol * Math.abs(expected[i]!)));
}

// float64 references from deel/lip/losses.py
function krJs(y: number[][], f: number[][]): number[] {
  const n = f.length;
  return f.map((row, i) => mean(row.map((fk, k) => {
    const pos = y.filter((r) => r[k]! > 0).length;
    return y[i]![k]! > 0 ? n * fk / Math.max(pos, 1) : -n * fk / Math.max(n - pos, 1);
  })));
}
const trueIndex = (row: number[]) => row.findIndex((v) => v > 0);
function categoricalHingeJs(y: number[][], f: number[][], m: number): number[] {
  return f.map((row, i) => {
    const t = trueIndex(y[i]!);
    return relu(m - (row[t]! - Math.max(...row.filter((_, k) => k !== t))));
  });
}
function multiMarginJs(y: number[][], f: number[][], m: number): number[] {
  return f.map((row, i) => {
    const t = trueIndex(y[i]!);
    return sum(row.map((fk, k) => (k === t ? 0 : relu(m - row[t]! + fk)))) / row.length;
  });
}
function tauSparseJs(labels: number[], f: number[][], tau: number): number[] {
  return f.map((row, i) => {
    const z = row.map((v) => tau * v);
    const mx = Math.max(...z);
    return -(z[labels[i]!]! - mx - Math.log(sum(z.map((v) => Math.exp(v - mx))))) / tau;
  });
}
/** deel-lip's MulticlassSoftHKR, one call from running mean `mu`: [per-sample losses, new mu]. */
function softHkrJs(y: number[][], f: number[][], alpha: number, m: number, mu: number, alphaMean = 0.99,
    temperature = 1): [number[], number] {
  const next = alphaMean * mu + (1 - alphaMean) * mean(f.flat().map(Math.abs));
  const t = Math.min(Math.max(temperature * m / Math.min(Math.max(next, m), 20000), 0.005), 250);
  const out = f.map((row, i) => {
    const tr = trueIndex(y[i]!);
    const others = row.map((v, k) => (k === tr ? -Infinity : t * v));
    const mx = Math.max(...others);
    const z = sum(others.map((v) => Math.exp(v - mx)));
    return sum(row.map((fk, k) => {
      const w = k === tr ? 1 : Math.exp(others[k]! - mx) / z;
      const s = k === tr ? 1 : -1;
      return w * (-s * fk / alpha + relu(m / 2 - s * fk));
    }));
  });
  return [out, next];
}

function randomData(seed: number, n: number, k: number): {y: number[][], f: number[][], labels: number[]} {
  const r = rng(seed);
  const labels = Array.from({length: n}, () => Math.floor(r() * k));
  return {labels, y: eye(labels, k), f: labels.map(() => Array.from({length: k}, () => 4 * r() - 2))};
}

describe('deel-lip losses: deel-lip\'s own test values (tests/test_losses.py)', () => {
  test('kr: mean 1.0 on y_true1 / y_pred1; per sample on y_true1b / y_pred1b', () => {
    expectAllClose([mean(perSample(losses.kr(), yTrue1, yPred1))], [1.0], 1e-7);
    expectAllClose(perSample(losses.kr(), yTrue1b, yPred1b), [1.0, 2.2, -0.2, 1.4, 2.6, 0.8, -0.4, 1.8], 1e-7);
    expectAllClose(perSample(losses.kr(), toPm(yTrue1b), yPred1b), [1.0, 2.2, -0.2, 1.4, 2.6, 0.8, -0.4, 1.8], 1e-7);
  });

  test('multiclassKr: mean 761/1800 on y_true2; per sample [326, 314, ...] / 225 on y_true3', () => {
    expectAllClose([mean(perSample(losses.multiclassKr(), yTrue2, yPred2))], [761 / 1800], 1e-6);
    const expected = [326, 314, 120, 250, 496, -258, 396, 450].map((v) => v / 225);
    expectAllClose(perSample(losses.multiclassKr(), yTrue3, yPred3), expected, 1e-6);
    expectAllClose(perSample(losses.multiclassKr(), toPm(yTrue3), yPred3), expected, 1e-6);
  });

  test('multiMargin (margin 0.7): [0, 0, 19, 0, 0, 35, 0, 0] / 30', () => {
    const expected = [0, 0, 19, 0, 0, 35, 0, 0].map((v) => v / 30);
    expectAllClose(perSample(losses.multiMargin({margin: 0.7}), yTrue3, yPred3), expected, 1e-7);
    expectAllClose(perSample(losses.multiMargin({margin: 0.7}), toPm(yTrue3), yPred3), expected, 1e-7);
  });

  test('categoricalHinge (margin 1.1): [0, 0.4, 2.3, 0.1, 0, 3.9, 0.4, 0]', () => {
    const expected = [0, 0.4, 2.3, 0.1, 0, 3.9, 0.4, 0];
    expectAllClose(perSample(losses.categoricalHinge({margin: 1.1}), yTrue3, yPred3), expected, 1e-7);
    expectAllClose(perSample(losses.categoricalHinge({margin: 1.1}), toPm(yTrue3), yPred3), expected, 1e-7);
  });

  test('tauSparseCategoricalCrossentropy (tau 2): results_tau_cat, labels as float, int32, [batch] or [batch, 1]', () => {
    const labels = yTrue3.map(trueIndex);
    const loss = losses.tauSparseCategoricalCrossentropy({tau: 2});
    expectAllClose(perSample(loss, labels, yPred3), resultsTauCat, 1e-6);
    expectAllClose(perSample(loss, labels, yPred3, 'int32'), resultsTauCat, 1e-6);
    expectAllClose(perSample(loss, labels.map((l) => [l]), yPred3), resultsTauCat, 1e-6);
    // the same values as tauCategoricalCrossentropy on the one-hot labels (deel-lip's own check)
    expectAllClose(perSample(losses.tauCategoricalCrossentropy({tau: 2}), yTrue3, yPred3), resultsTauCat, 1e-6);
  });

  test('multiclassSoftHkr (alpha 5, margin 0.2): 1.0897621 then 1.0834466 (the running mean moved); per sample on y_true3', () => {
    const loss = losses.multiclassSoftHkr({alpha: 5, margin: 0.2});
    expectAllClose([mean(perSample(loss, yTrue2, yPred2))], [1.0897621], 1e-5);
    expectAllClose([mean(perSample(loss, yTrue2, yPred2))], [1.0834466], 1e-5);
    loss.dispose();
    const expected = [-0.10878129, 0.12582462, 2.2788424, -0.17646402, -0.38242298, 3.4523692, -0.19672059, 1.1028761];
    for (const y of [yTrue3, toPm(yTrue3)]) {
      const fresh = losses.multiclassSoftHkr({alpha: 5, margin: 0.2});
      expectAllClose(perSample(fresh, y, yPred3), expected, 1e-6);
      fresh.dispose();
    }
  });
});

describe('deel-lip losses: float64 formulas on random data', () => {
  const {y, f, labels} = randomData(7, 40, 5);

  test('kr and multiclassKr: per-sample KR terms (batch mean = mean over classes of E[f|k] - E[f|not k])', () => {
    expectAllClose(perSample(losses.multiclassKr(), y, f), krJs(y, f), 1e-5, 1e-5);
    const yb = y.map((r) => [r[0]!]);
    const fb = f.map((r) => [r[0]!]);
    expectAllClose(perSample(losses.kr(), yb, fb), krJs(yb, fb), 1e-5, 1e-5);
    // a batch with one class only: the other side counts 0
    const ones = fb.map(() => [1]);
    expectAllClose(perSample(losses.kr(), ones, fb), fb.map((r) => r[0]!), 1e-5, 1e-5);
  });

  test('categoricalHinge, multiMargin, tauSparseCategoricalCrossentropy at several parameters', () => {
    for (const m of [0, 0.3, 1.5]) {
      expectAllClose(perSample(losses.categoricalHinge({margin: m}), y, f), categoricalHingeJs(y, f, m), 1e-5);
      expectAllClose(perSample(losses.multiMargin({margin: m}), y, f), multiMarginJs(y, f, m), 1e-5);
    }
    expectAllClose(perSample(losses.multiMargin(), y, f), multiMarginJs(y, f, 1), 1e-5);
    for (const tau of [0.5, 8, 64]) {
      expectAllClose(perSample(losses.tauSparseCategoricalCrossentropy({tau}), labels, f), tauSparseJs(labels, f, tau), 1e-5, 1e-5);
    }
  });

  test('multiclassSoftHkr: three calls follow the running mean (float64), other alphaMean and temperature', () => {
    const loss = losses.multiclassSoftHkr({alpha: 2, margin: 0.5, alphaMean: 0.5, temperature: 3});
    let mu = 0.5;
    for (let call = 0; call < 3; ++call) {
      const [expected, next] = softHkrJs(y, f.map((r) => r.map((v) => v * (call + 1))), 2, 0.5, mu, 0.5, 3);
      expectAllClose(perSample(loss, y, f.map((r) => r.map((v) => v * (call + 1)))), expected, 1e-5, 1e-5);
      mu = next;
    }
    loss.dispose();
  });

  test('the gradients of categoricalHinge and multiMargin are those of the formulas (finite differences)', () => {
    for (const make of [() => losses.categoricalHinge({margin: 0.8}), () => losses.multiMargin({margin: 0.8})]) {
      const loss = make();
      const ft = tf.tensor2d(f);
      const yt = tf.tensor2d(y);
      const g = tf.grad((x: Tensor) => tf.sum(loss(yt, x)))(ft);
      const grad = g.arraySync() as number[][];
      const js = loss.name === 'categoricalHinge' ? categoricalHingeJs : multiMarginJs;
      const h = 1e-6;
      for (const [i, k] of [[0, 0], [3, 2], [10, 4]] as const) {
        const plus = f.map((r, a) => r.map((v, b) => (a === i && b === k ? v + h : v)));
        const minus = f.map((r, a) => r.map((v, b) => (a === i && b === k ? v - h : v)));
        const fd = (sum(js(y, plus, 0.8)) - sum(js(y, minus, 0.8))) / (2 * h);
        expect(Math.abs(grad[i]![k]! - fd)).toBeLessThan(1e-3);
      }
      tf.dispose([ft, yt, g]);
    }
  });
});

describe('deel-lip losses: validation, names, NaN labels, settable parameters', () => {
  test.each([
    ['categoricalHinge: expected an arguments object {margin}, got undefined', () => losses.categoricalHinge(undefined as never)],
    ['categoricalHinge: expected margin to be a finite number, got undefined', () => losses.categoricalHinge({} as never)],
    ['categoricalHinge: expected margin >= 0, got -1', () => losses.categoricalHinge({margin: -1})],
    ['multiMargin: expected margin to be a finite number, got NaN', () => losses.multiMargin({margin: NaN})],
    ['tauSparseCategoricalCrossentropy: expected tau > 0, got 0', () => losses.tauSparseCategoricalCrossentropy({tau: 0})],
    ['multiclassSoftHkr: expected alpha > 0, got 0', () => losses.multiclassSoftHkr({alpha: 0})],
    ['multiclassSoftHkr: expected margin > 0, got 0', () => losses.multiclassSoftHkr({margin: 0})],
    ['multiclassSoftHkr: expected alphaMean in [0, 1], got 1.5', () => losses.multiclassSoftHkr({alphaMean: 1.5})],
    ['multiclassSoftHkr: expected temperature to be a finite number, got Infinity', () => losses.multiclassSoftHkr({temperature: Infinity})],
    ['multiclassSoftHkr: expected an arguments object {alpha, margin, alphaMean, temperature}, got 3', () => losses.multiclassSoftHkr(3 as never)],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  test('inputs of the wrong shapes are rejected, naming both shapes, without leaking', () => {
    const f1 = tf.zeros([3, 1]);
    const f3 = tf.zeros([3, 3]);
    const l2 = tf.zeros([3, 2]);
    const r3 = tf.zeros([2, 2, 1]);
    const soft = losses.multiclassSoftHkr();
    const before = tf.memory().numTensors;
    expect(() => losses.kr()(r3, r3)).toThrow(
      'kr: expected yTrue and yPred to be tensors of the same shape [batch, units], got [2,2,1] and [2,2,1]');
    expect(() => losses.multiclassKr()(f1, f1)).toThrow('multiclassKr: expected at least 2 classes on the last axis, got shape [3,1]');
    expect(() => losses.categoricalHinge({margin: 1})(f1, f3)).toThrow('categoricalHinge: expected yTrue and yPred to be tensors of the same shape');
    expect(() => losses.multiMargin()(f1, f1)).toThrow('multiMargin: expected at least 2 classes');
    expect(() => soft(f1, f1)).toThrow('multiclassSoftHkr: expected at least 2 classes');
    expect(() => losses.tauSparseCategoricalCrossentropy({tau: 1})(l2, f3)).toThrow(
      'tauSparseCategoricalCrossentropy: expected class indices yTrue of shape [batch] or [batch, 1] and logits yPred of ' +
      'shape [batch, classes] with classes >= 2, got [3,2] and [3,3]');
    expect(() => losses.tauSparseCategoricalCrossentropy({tau: 1})(f1, f1)).toThrow('got [3,1] and [3,1]');
    expect(tf.memory().numTensors).toBe(before);
    soft.dispose();
    expect(() => soft(f3, f3)).toThrow('multiclassSoftHkr: the loss was disposed');
    tf.dispose([f1, f3, l2, r3]);
  });

  test('the multiclassSoftHkr state is one variable, released by dispose', () => {
    const before = tf.memory().numTensors;
    const loss = losses.multiclassSoftHkr();
    expect(tf.memory().numTensors).toBe(before + 1);
    perSample(loss, yTrue3, yPred3);
    expect(tf.memory().numTensors).toBe(before + 1);
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a bad sparse label (not an integer class index, or NaN) gives its sample a NaN loss, never 0', () => {
    const out = perSample(losses.tauSparseCategoricalCrossentropy({tau: 1}), [0, 3, -1, 1.5, NaN, 2], yPred3.slice(0, 6));
    expect(out.map(Number.isNaN)).toEqual([false, true, true, true, true, false]);
  });

  test('a NaN label gives its sample a NaN loss (every sample for the KR losses)', () => {
    const y = yTrue3.map((r, i) => (i === 2 ? [NaN, 0, 0] : r));
    for (const loss of [losses.categoricalHinge({margin: 1}), losses.multiMargin()]) {
      expect(perSample(loss, y, yPred3).map(Number.isNaN)).toEqual(yPred3.map((_, i) => i === 2));
    }
    expect(perSample(losses.multiclassKr(), y, yPred3).every(Number.isNaN)).toBe(true);
  });

  test('names (the history keys) and settable parameters, checked as the factories check them', () => {
    expect([losses.kr(), losses.multiclassKr(), losses.tauSparseCategoricalCrossentropy({tau: 1}),
      losses.categoricalHinge({margin: 1}), losses.multiMargin()].map((l) => l.name)).toEqual(
      ['kr', 'multiclassKr', 'tauSparseCategoricalCrossentropy', 'categoricalHinge', 'multiMargin']);
    const hinge = losses.categoricalHinge({margin: 1.1});
    expectAllClose(perSample(hinge, yTrue3, yPred3), categoricalHingeJs(yTrue3, yPred3, 1.1), 1e-6);
    hinge.margin = 0.3;
    expect(hinge.margin).toBe(0.3);
    expectAllClose(perSample(hinge, yTrue3, yPred3), categoricalHingeJs(yTrue3, yPred3, 0.3), 1e-6);
    expect(() => { hinge.margin = -1; }).toThrow('categoricalHinge: expected margin >= 0, got -1');
    expect(hinge.margin).toBe(0.3);
    const soft = losses.multiclassSoftHkr({alpha: 5, margin: 0.2});
    soft.alpha = 2;
    expect(() => { soft.alpha = 0; }).toThrow('multiclassSoftHkr: expected alpha > 0, got 0');
    expectAllClose(perSample(soft, yTrue3, yPred3), softHkrJs(yTrue3, yPred3, 2, 0.2, 0.2)[0], 1e-6);
    soft.dispose();
    const sparse = losses.tauSparseCategoricalCrossentropy({tau: 2});
    sparse.tau = 8;
    expectAllClose(perSample(sparse, [0, 1], yPred3.slice(0, 2)), tauSparseJs([0, 1], yPred3.slice(0, 2), 8), 1e-6);
    expect(() => { sparse.tau = NaN; }).toThrow('tauSparseCategoricalCrossentropy: expected tau to be a finite number, got NaN');
    const hk = losses.hkr({alpha: 1});
    expect(() => { hk.alpha = Infinity; }).toThrow('hkr: expected alpha to be a finite number >= 0, got Infinity');
    expect(() => { losses.tauBinaryCrossentropy({tau: 1}).tau = -1; }).toThrow('tauBinaryCrossentropy: expected tau > 0, got -1');
  });
});
