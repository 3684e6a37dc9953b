import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {losses, metrics} from '@deepspline/lipschitz';
import {perSample, rng, useCpu} from './helpers.js';

beforeAll(useCpu);

// Independent float64 references, written from the formulas of deel-lip's losses.py.
const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
const relu = (v: number) => Math.max(v, 0);
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sign = (y: number) => (y > 0 ? 1 : -1);

function bceJs(y: number[][], f: number[][], tau: number): number[] {
  return f.map((row, i) => mean(row.map((fk, k) => (softplus(tau * fk) - (y[i]![k]! > 0 ? 1 : 0) * tau * fk) / tau)));
}

function cceJs(y: number[][], f: number[][], tau: number): number[] {
  return f.map((row, i) => {
    const z = row.map((v) => tau * v);
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
    return -row.reduce((s, _, k) => s + y[i]![k]! * (z[k]! - lse), 0) / tau;
  });
}

function hingeJs(y: number[][], f: number[][], margin: number): number[] {
  return f.map((row, i) => mean(row.map((fk, k) => relu(margin / 2 - sign(y[i]![k]!) * fk))));
}

function multiclassHingeJs(y: number[][], f: number[][], margin: number): number[] {
  return f.map((row, i) => mean(row.map((fk, k) => {
    const s = sign(y[i]![k]!);
    return (s > 0 ? row.length - 1 : 1) * relu(margin / 2 - s * fk);
  })));
}

/** mean over columns of E[f_k | y_k > 0] - E[f_k | y_k <= 0] over the batch (empty side: 0). */
function krJs(y: number[][], f: number[][]): number {
  const units = f[0]!.length;
  let total = 0;
  for (let k = 0; k < units; ++k) {
    const pos = f.filter((_, i) => y[i]![k]! > 0).map((r) => r[k]!);
    const neg = f.filter((_, i) => !(y[i]![k]! > 0)).map((r) => r[k]!);
    total += (pos.length ? mean(pos) : 0) - (neg.length ? mean(neg) : 0);
  }
  return total / units;
}


function expectClose(actual: number[], expected: number[], tol = 2e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i]!))));
}

const fBin = [[0.3], [-0.2], [-1.5], [2.0], [0.0]];
const y01 = [[1], [0], [1], [0], [1]];
const yPm = y01.map(([v]) => [v! > 0 ? 1 : -1]);

describe('losses: values against float64 formulas', () => {
  test('tauBinaryCrossentropy: (softplus(tau f) - y tau f) / tau, labels {0,1} or {-1,1}', () => {
    for (const tau of [1, 4, 30]) {
      const loss = losses.tauBinaryCrossentropy({tau});
      expectClose(perSample(loss, y01, fBin), bceJs(y01, fBin, tau));
      expectClose(perSample(loss, yPm, fBin), bceJs(y01, fBin, tau));
    }
    // Several independent outputs are averaged.
    const f = [[0.5, -1], [2, 0.25]];
    const y = [[1, 1], [0, 1]];
    expectClose(perSample(losses.tauBinaryCrossentropy({tau: 2}), y, f), bceJs(y, f, 2));
    // A hand value: tau = 1, f = 0, y = 1: log 2.
    expectClose(perSample(losses.tauBinaryCrossentropy({tau: 1}), [[1]], [[0]]), [Math.LN2]);
  });

  test('tauBinaryCrossentropy is exact for huge tau * f (no overflow)', () => {
    const f = [[50], [-50], [50], [-50]];
    const y = [[1], [1], [0], [0]];
    expectClose(perSample(losses.tauBinaryCrossentropy({tau: 100}), y, f), [0, 50, 50, 0]);
  });

  test('tauBinaryCrossentropy: the gradient of the batch mean is (sigmoid(tau f) - y) / batch', () => {
    const tau = 4;
    const loss = losses.tauBinaryCrossentropy({tau});
    const y = tf.tensor2d(y01);
    const f = tf.tensor2d(fBin);
    const grad = tf.grad((t: Tensor) => tf.mean(loss(y, t)))(f);
    const expected = fBin.map(([v], i) => (1 / (1 + Math.exp(-tau * v!)) - y01[i]![0]!) / fBin.length);
    expectClose(Array.from(grad.dataSync()), expected);
    tf.dispose([y, f, grad]);
  });

  test('tauCategoricalCrossentropy: -sum y logSoftmax(tau f) / tau, one-hot and soft labels', () => {
    const f = [[1, 2, 0.5], [-1, 0.3, 0.2], [0, 0, 0]];
    const oneHot = [[1, 0, 0], [0, 0, 1], [0, 1, 0]];
    const soft = [[0.2, 0.8, 0], [0.5, 0.25, 0.25], [1, 0, 0]];
    for (const tau of [1, 3, 50]) {
      const loss = losses.tauCategoricalCrossentropy({tau});
      expectClose(perSample(loss, oneHot, f), cceJs(oneHot, f, tau));
      expectClose(perSample(loss, soft, f), cceJs(soft, f, tau));
    }
    // A hand value: equal logits over 3 classes: log 3 / tau.
    expectClose(perSample(losses.tauCategoricalCrossentropy({tau: 2}), [[0, 1, 0]], [[0.7, 0.7, 0.7]]), [Math.log(3) / 2]);
  });

  test('hingeMargin: relu(margin/2 - y f), labels {0,1} or {-1,1}, default margin 1', () => {
    for (const margin of [1, 0.4, 0]) {
      const loss = losses.hingeMargin({margin});
      expectClose(perSample(loss, y01, fBin), hingeJs(y01, fBin, margin));
      expectClose(perSample(loss, yPm, fBin), hingeJs(y01, fBin, margin));
    }
    expectClose(perSample(losses.hingeMargin(), y01, fBin), [0.2, 0.3, 2, 2.5, 0.5]);  // by hand
  });

  test('multiclassHinge: one-vs-all hinge, the true class weighted by K - 1', () => {
    const f = [[1, -0.2, 0.3], [0.1, 0.4, -0.6], [0.2, 0.2, 0.2]];
    const y = [[1, 0, 0], [0, 0, 1], [0, 1, 0]];
    for (const margin of [1, 0.3]) {
      expectClose(perSample(losses.multiclassHinge({margin}), y, f), multiclassHingeJs(y, f, margin));
      const yPm1 = y.map((r) => r.map((v) => (v > 0 ? 1 : -1)));
      expectClose(perSample(losses.multiclassHinge({margin}), yPm1, f), multiclassHingeJs(y, f, margin));
    }
    // By hand, margin 1, first row: (2 * relu(0.5 - 1) + relu(0.5 - 0.2) + relu(0.5 + 0.3)) / 3.
    expect(perSample(losses.multiclassHinge(), y, f)[0]).toBeCloseTo((0 + 0.3 + 0.8) / 3, 6);
  });

  test('hkr: the batch mean is -KR + alpha * hinge; the per-sample terms are -B f w + alpha h', () => {
    const alpha = 10;
    const margin = 0.5;
    const values = perSample(losses.hkr({alpha, margin}), y01, fBin);
    // KR by hand: positives {0.3, -1.5, 0} mean -0.4, negatives {-0.2, 2} mean 0.9.
    expect(krJs(y01, fBin)).toBeCloseTo(-1.3, 12);
    expectClose([mean(values)], [1.3 + alpha * mean(hingeJs(y01, fBin, margin))], 1e-6);
    const hinge = hingeJs(y01, fBin, margin);
    const w = y01.map(([v]) => (v! > 0 ? 1 / 3 : -1 / 2));
    expectClose(values, fBin.map(([v], i) => -5 * v! * w[i]! + alpha * hinge[i]!));
    // {-1, 1} labels give the same; alpha = 0 is -KR.
    expectClose(perSample(losses.hkr({alpha, margin}), yPm, fBin), values);
    expectClose([mean(perSample(losses.hkr({alpha: 0}), y01, fBin))], [1.3], 1e-6);
  });

  test('hkr: a batch with one class only has only that class\'s mean', () => {
    const y = [[0], [0], [0]];
    const f = [[0.5], [-1], [2]];
    const values = perSample(losses.hkr({alpha: 2, margin: 1}), y, f);
    expectClose([mean(values)], [mean([0.5, -1, 2]) + 2 * mean(hingeJs(y, f, 1))], 1e-6);
  });

  test('multiclassHkr: -mean_k KR_k + alpha * multiclassHinge', () => {
    const f = [[1, -0.2, 0.3], [0.1, 0.4, -0.6], [0.2, 0.9, 0.2], [-0.5, 0.1, 1.2], [0.3, 0.3, -0.1]];
    const y = [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0]];
    for (const [alpha, margin] of [[10, 1], [0.5, 0.2], [0, 1]] as const) {
      const values = perSample(losses.multiclassHkr({alpha, margin}), y, f);
      const expected = -krJs(y, f) + alpha * mean(multiclassHingeJs(y, f, margin));
      expectClose([mean(values)], [expected], 1e-6);
    }
  });

  test('a NaN label gives its sample a NaN loss (every sample for the KR losses), as tfjs\'s own losses', () => {
    // tfjs's own binary cross-entropy propagates a NaN label
    const tfjsLoss = tf.tidy(() => Array.from(tfl.metrics.binaryCrossentropy(tf.tensor2d([[1], [NaN]]),
      tf.tensor2d([[0.7], [0.4]])).dataSync()));
    expect(tfjsLoss.map(Number.isNaN)).toEqual([false, true]);
    const fTwo = [[0.3, -0.4], [-0.2, 0.5], [-1.5, 0.1], [2.0, -0.7]];
    const yTwo = [[1, 0], [0, NaN], [1, 1], [0, 1]];
    const yOneHot = [[1, 0], [NaN, 0], [0, 1], [1, 0]];
    const rest = <T>(rows: T[]) => rows.filter((_, i) => i !== 1);
    const yClean = rest(yTwo);
    const fClean = rest(fTwo);
    const perSampleLosses: Array<[string, (a: Tensor, b: Tensor) => Tensor, number[][], number[]]> = [
      ['tauBinaryCrossentropy', losses.tauBinaryCrossentropy({tau: 4}), yTwo, bceJs(yClean, fClean, 4)],
      ['hingeMargin', losses.hingeMargin({margin: 0.5}), yTwo, hingeJs(yClean, fClean, 0.5)],
      ['multiclassHinge', losses.multiclassHinge({margin: 0.5}), yOneHot, multiclassHingeJs(rest(yOneHot), fClean, 0.5)],
      ['tauCategoricalCrossentropy', losses.tauCategoricalCrossentropy({tau: 4}), yOneHot, cceJs(rest(yOneHot), fClean, 4)],
    ];
    for (const [name, loss, y, expected] of perSampleLosses) {
      const values = perSample(loss, y, fTwo);
      expect([name, values.map(Number.isNaN)]).toEqual([name, [false, true, false, false]]);
      expectClose(rest(values), expected);
    }
    for (const [name, loss, y] of [['hkr', losses.hkr({alpha: 2}), yTwo],
      ['multiclassHkr', losses.multiclassHkr({alpha: 2}), yOneHot]] as const) {
      expect([name, perSample(loss, y as number[][], fTwo).map(Number.isNaN)]).toEqual([name, [true, true, true, true]]);
    }
  });

  test('the loss functions carry their names', () => {
    expect(losses.tauBinaryCrossentropy({tau: 1}).name).toBe('tauBinaryCrossentropy');
    expect(losses.tauCategoricalCrossentropy({tau: 1}).name).toBe('tauCategoricalCrossentropy');
    expect(losses.hingeMargin().name).toBe('hingeMargin');
    expect(losses.multiclassHinge().name).toBe('multiclassHinge');
    expect(losses.hkr({alpha: 1}).name).toBe('hkr');
    expect(losses.multiclassHkr({alpha: 1}).name).toBe('multiclassHkr');
  });
});

describe('losses: validation', () => {
  test.each([
    ['tauBinaryCrossentropy: expected tau > 0, got 0', () => losses.tauBinaryCrossentropy({tau: 0})],
    ['tauBinaryCrossentropy: expected tau > 0, got -2', () => losses.tauBinaryCrossentropy({tau: -2})],
    ['tauBinaryCrossentropy: expected tau to be a finite number, got NaN', () => losses.tauBinaryCrossentropy({tau: NaN})],
    ['tauCategoricalCrossentropy: expected tau to be a finite number, got Infinity', () => losses.tauCategoricalCrossentropy({tau: Infinity})],
    ['tauCategoricalCrossentropy: expected tau to be a finite number, got "4"', () => losses.tauCategoricalCrossentropy({tau: '4' as never})],
    ['tauBinaryCrossentropy: expected an arguments object {tau}, got undefined', () => losses.tauBinaryCrossentropy(undefined as never)],
    ['tauBinaryCrossentropy: expected tau to be a finite number, got undefined', () => losses.tauBinaryCrossentropy({} as never)],
    ['hingeMargin: expected margin >= 0, got -1', () => losses.hingeMargin({margin: -1})],
    ['hingeMargin: expected margin to be a finite number, got NaN', () => losses.hingeMargin({margin: NaN})],
    ['hingeMargin: expected an arguments object {margin}, got null', () => losses.hingeMargin(null as never)],
    ['multiclassHinge: expected margin >= 0, got -0.1', () => losses.multiclassHinge({margin: -0.1})],
    ['hkr: expected alpha >= 0, got -1', () => losses.hkr({alpha: -1})],
    ['hkr: expected alpha to be a finite number, got undefined', () => losses.hkr({} as never)],
    ['hkr: expected alpha to be a finite number >= 0, got Infinity (for the hinge term alone use hingeMargin or multiclassHinge)', () => losses.hkr({alpha: Infinity})],
    ['hkr: expected margin >= 0, got -0.5', () => losses.hkr({alpha: 1, margin: -0.5})],
    ['multiclassHkr: expected alpha to be a finite number, got NaN', () => losses.multiclassHkr({alpha: NaN})],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  test('inputs of the wrong shapes are rejected, naming both shapes, without leaking', () => {
    const y1 = tf.zeros([3]);
    const f1 = tf.zeros([3, 1]);
    const f3 = tf.zeros([2, 2, 3]);
    const before = tf.memory().numTensors;
    expect(() => losses.tauBinaryCrossentropy({tau: 2})(y1, f1)).toThrow(
      'tauBinaryCrossentropy: expected yTrue and yPred to be tensors of the same shape [batch, ..., units], got [3] and [3,1]');
    expect(() => losses.tauCategoricalCrossentropy({tau: 2})(f1, f1)).toThrow(
      'tauCategoricalCrossentropy: expected at least 2 classes on the last axis, got shape [3,1]');
    expect(() => losses.multiclassHinge()(f1, f1)).toThrow('multiclassHinge: expected at least 2 classes');
    expect(() => losses.hkr({alpha: 1})(f3, f3)).toThrow(
      'hkr: expected yTrue and yPred to be tensors of the same shape [batch, units], got [2,2,3] and [2,2,3]');
    expect(() => losses.hingeMargin()([1, 0] as never, f1)).toThrow('got [1,0] and [3,1]');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([y1, f1, f3]);
  });
});

describe('losses: in model.compile / fit', () => {
  /** 2-D points in [-1, 1]^2 (seeded). */
  function points(n: number, seed: number): number[][] {
    const r = rng(seed);
    return Array.from({length: n}, () => [2 * r() - 1, 2 * r() - 1]);
  }

  function classifier(units: number): tfl.Sequential {
    return tfl.sequential({layers: [
      tfl.layers.dense({units: 8, inputShape: [2], activation: 'relu', kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}),
      tfl.layers.dense({units, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}),
    ]});
  }

  const binaryData = () => {
    const p = points(64, 3);
    return {x: tf.tensor2d(p), y: tf.tensor2d(p.map(([a, b]) => [a! + 0.5 * b! > 0 ? 1 : 0]))};
  };
  const multiclassData = () => {
    const p = points(64, 4);
    const labels = p.map(([a, b]) => [a!, b!, -a! - b!].reduce((best, v, k, all) => (v > all[best]! ? k : best), 0));
    return {x: tf.tensor2d(p), y: tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 3), 'float32'))};
  };

  test.each([
    ['tauBinaryCrossentropy', () => losses.tauBinaryCrossentropy({tau: 4}), 1],
    ['hingeMargin', () => losses.hingeMargin({margin: 0.5}), 1],
    ['hkr', () => losses.hkr({alpha: 5, margin: 0.5}), 1],
    ['tauCategoricalCrossentropy', () => losses.tauCategoricalCrossentropy({tau: 4}), 3],
    ['multiclassHinge', () => losses.multiclassHinge({margin: 0.5}), 3],
    ['multiclassHkr', () => losses.multiclassHkr({alpha: 5, margin: 0.5}), 3],
  ] as const)('%s: compile + fit runs and the loss decreases', async (_name, make, units) => {
    const model = classifier(units);
    model.compile({optimizer: tf.train.adam(0.02), loss: make(),
      metrics: [units === 1 ? metrics.binaryAccuracyFromLogits : metrics.categoricalAccuracyFromLogits]});
    const {x, y} = units === 1 ? binaryData() : multiclassData();
    const history = await model.fit(x, y, {epochs: 15, batchSize: 16, verbose: 0});
    const loss = history.history.loss as number[];
    expect(loss.every(Number.isFinite)).toBe(true);
    expect(loss[loss.length - 1]!).toBeLessThan(loss[0]! - 0.05 * Math.abs(loss[0]!));
    tf.dispose([x, y]);
    model.dispose();
  });

  test('fit weights the per-sample losses by classWeight (SGD with learning rate 0)', async () => {
    const tau = 3;
    const model = classifier(1);
    model.compile({optimizer: tf.train.sgd(0), loss: losses.tauBinaryCrossentropy({tau})});
    const {x, y} = binaryData();
    const f = (model.predict(x) as Tensor);
    const labels = y.arraySync() as number[][];
    const perSample = bceJs(labels, f.arraySync() as number[][], tau);
    const weights = labels.map(([v]) => (v! > 0 ? 3 : 1));
    const history = await model.fit(x, y, {epochs: 1, batchSize: 64, verbose: 0, classWeight: {0: 1, 1: 3}});
    expect((history.history.loss as number[])[0]).toBeCloseTo(mean(perSample.map((l, i) => l * weights[i]!)), 5);
    const evaluated = model.evaluate(x, y) as Tensor;
    expect(evaluated.dataSync()[0]).toBeCloseTo(mean(perSample), 5);
    tf.dispose([x, y, f, evaluated]);
    model.dispose();
  });

  test('a model compiled with these losses saves and loads (recompile after loading)', async () => {
    const model = classifier(1);
    model.compile({optimizer: tf.train.adam(0.01), loss: losses.hkr({alpha: 10}),
      metrics: [metrics.binaryAccuracyFromLogits]});
    const {x, y} = binaryData();
    await model.fit(x, y, {epochs: 1, verbose: 0});
    const save = async (includeOptimizer: boolean) => {
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
      }), {includeOptimizer});
      return artifacts!;
    };
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(await save(false)));
    const [a, b] = [model.predict(x) as Tensor, loaded.predict(x) as Tensor];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    loaded.compile({optimizer: tf.train.adam(0.01), loss: losses.hkr({alpha: 10})});
    const h = await loaded.fit(x, y, {epochs: 1, verbose: 0});
    expect(Number.isFinite((h.history.loss as number[])[0])).toBe(true);
    // What the LossFunction docs say about includeOptimizer: tfjs keeps only names.
    const withOptimizer = await save(true);
    expect(withOptimizer.trainingConfig!.loss).toEqual({});
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    await expect(tfl.loadLayersModel(tf.io.fromMemory(withOptimizer))).rejects.toThrow(
      'Unknown metric binaryAccuracyFromLogits');
    warn.mockRestore();
    tf.dispose([x, y, a, b]);
    model.dispose();
    loaded.dispose();
  });
});
