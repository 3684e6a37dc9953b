/**
 * deel-lip's pooling and sampling layers: ScaledAveragePooling2D, ScaledGlobalAveragePooling2D,
 * InvertibleDownSampling, InvertibleUpSampling (linear: the certified factor in l2, l1 and l-inf
 * against ml-matrix's SVD and the sums of the explicit matrix), ScaledL2NormPooling2D and
 * ScaledGlobalL2NormPooling2D (nonlinear: against an attack, and attained by parallel pairs);
 * values against float64 formulas; save/load; export; no leaks; bad arguments.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {InvertibleDownSampling, ScaledL2NormPooling2D, invertibleDownSampling, invertibleUpSampling,
  lipschitzBound, scaledAveragePooling2d, scaledGlobalAveragePooling2d, scaledGlobalL2NormPooling2d,
  scaledL2NormPooling2d} from '../src/index.js';
import {rng, useCpu} from './helpers.js';
import {alone, attack, boundOf, explicitNorms, exportStandard, maxDifference, predictFn, roundTrip} from './toolkit_helpers.js';

beforeAll(useCpu);

const linear: {name: string, make: () => tfl.layers.Layer, inShape: number[]}[] = [
  {name: 'scaledAveragePooling2d 2x2', make: () => scaledAveragePooling2d({poolSize: 2}), inShape: [4, 6, 2]},
  {name: 'scaledAveragePooling2d 3x2, lipschitz 2.5, ragged edge', make: () => scaledAveragePooling2d({poolSize: [3, 2], lipschitz: 2.5}),
    inShape: [7, 5, 2]},
  {name: 'scaledGlobalAveragePooling2d', make: () => scaledGlobalAveragePooling2d(), inShape: [3, 5, 2]},
  {name: 'scaledGlobalAveragePooling2d lipschitz 0.3', make: () => scaledGlobalAveragePooling2d({lipschitz: 0.3}), inShape: [4, 4, 3]},
  {name: 'invertibleDownSampling 2', make: () => invertibleDownSampling({poolSize: 2}), inShape: [4, 6, 2]},
  {name: 'invertibleDownSampling [2, 3]', make: () => invertibleDownSampling({poolSize: [2, 3]}), inShape: [4, 6, 1]},
  {name: 'invertibleUpSampling [3, 2]', make: () => invertibleUpSampling({poolSize: [3, 2]}), inShape: [2, 3, 12]},
];

describe('linear pooling and sampling layers: certified factor = the exact norm', () => {
  test.each(linear)('$name', ({make, inShape}) => {
    const model = alone(make(), inShape);
    const exact = explicitNorms(predictFn(model), inShape);
    for (const [p, value] of [[2, exact.two], [1, exact.one], [Infinity, exact.inf]] as const) {
      const bound = boundOf(model, p);
      // the explicit matrix is the float32 evaluation (entries within 2^-24 of exact)
      expect([p, bound]).toEqual([p, expect.any(Number)]);
      expect(bound).toBeGreaterThanOrEqual(value * (1 - 1e-6));
      expect(bound).toBeLessThanOrEqual(value * (1 + 1e-6));
    }
    expect(attack(predictFn(model), inShape, 2, 1)).toBeLessThanOrEqual(boundOf(model, 2) * (1 + 1e-6));
    model.dispose();
  });
});

describe('values against float64 formulas', () => {
  const x = Float32Array.from({length: 2 * 4 * 6 * 3}, (_, i) => Math.sin(i * 1.7) * 2);
  const at = (b: number, r: number, c: number, ch: number) => x[((b * 4 + r) * 6 + c) * 3 + ch]!;

  test('scaledL2NormPooling2d: lipschitz * ||window||_2; scaledAveragePooling2d: lipschitz * sum / sqrt(n)', () => {
    const input = tf.tensor4d(x, [2, 4, 6, 3]);
    const l2 = (scaledL2NormPooling2d({poolSize: [2, 3], lipschitz: 1.5}).apply(input) as Tensor).arraySync() as number[][][][];
    const avg = (scaledAveragePooling2d({poolSize: [2, 3], lipschitz: 1.5}).apply(input) as Tensor).arraySync() as number[][][][];
    for (let b = 0; b < 2; ++b) {
      for (let r = 0; r < 2; ++r) {
        for (let c = 0; c < 2; ++c) {
          for (let ch = 0; ch < 3; ++ch) {
            let sq = 0;
            let sum = 0;
            for (let i = 0; i < 2; ++i) for (let j = 0; j < 3; ++j) { sq += at(b, 2 * r + i, 3 * c + j, ch) ** 2; sum += at(b, 2 * r + i, 3 * c + j, ch); }
            expect(l2[b]![r]![c]![ch]).toBeCloseTo(1.5 * Math.sqrt(sq), 5);
            expect(avg[b]![r]![c]![ch]).toBeCloseTo(1.5 * sum / Math.sqrt(6), 5);
          }
        }
      }
    }
    input.dispose();
  });

  test('global poolings: lipschitz * ||channel||_2 and lipschitz * sum / sqrt(rows cols)', () => {
    const input = tf.tensor4d(x, [2, 4, 6, 3]);
    const l2 = (scaledGlobalL2NormPooling2d({lipschitz: 2}).apply(input) as Tensor).arraySync() as number[][];
    const avg = (scaledGlobalAveragePooling2d({lipschitz: 2}).apply(input) as Tensor).arraySync() as number[][];
    for (let b = 0; b < 2; ++b) {
      for (let ch = 0; ch < 3; ++ch) {
        let sq = 0;
        let sum = 0;
        for (let r = 0; r < 4; ++r) for (let c = 0; c < 6; ++c) { sq += at(b, r, c, ch) ** 2; sum += at(b, r, c, ch); }
        expect(l2[b]![ch]).toBeCloseTo(2 * Math.sqrt(sq), 4);
        expect(avg[b]![ch]).toBeCloseTo(2 * sum / Math.sqrt(24), 4);
      }
    }
    input.dispose();
  });

  test("invertibleDownSampling: deel-lip's channel order c p0 p1 + i p1 + j; invertibleUpSampling inverts it", () => {
    const input = tf.tensor4d(x, [2, 4, 6, 3]);
    const down = invertibleDownSampling({poolSize: [2, 3]}).apply(input) as Tensor;
    expect(down.shape).toEqual([2, 2, 2, 18]);
    const d = down.arraySync() as number[][][][];
    for (let b = 0; b < 2; ++b) {
      for (let r = 0; r < 2; ++r) {
        for (let s = 0; s < 2; ++s) {
          for (let c = 0; c < 3; ++c) {
            for (let i = 0; i < 2; ++i) for (let j = 0; j < 3; ++j) expect(d[b]![r]![s]![c * 6 + i * 3 + j]).toBe(at(b, 2 * r + i, 3 * s + j, c));
          }
        }
      }
    }
    const up = invertibleUpSampling({poolSize: [2, 3]}).apply(down) as Tensor;
    expect(Array.from(up.dataSync())).toEqual(Array.from(x));
    tf.dispose([input, down, up]);
  });
});

const l2Cases = [
  {name: 'scaledL2NormPooling2d 2x2', make: () => scaledL2NormPooling2d({poolSize: 2}), inShape: [4, 4, 2], k: 1},
  {name: 'scaledL2NormPooling2d [1, 3], lipschitz 0.7', make: () => scaledL2NormPooling2d({poolSize: [1, 3], lipschitz: 0.7}),
    inShape: [2, 6, 2], k: 0.7},
  {name: 'scaledGlobalL2NormPooling2d', make: () => scaledGlobalL2NormPooling2d(), inShape: [3, 3, 2], k: 1},
  {name: 'scaledGlobalL2NormPooling2d lipschitz 3', make: () => scaledGlobalL2NormPooling2d({lipschitz: 3}), inShape: [2, 5, 1], k: 3},
];

describe('l2-norm poolings (nonlinear): factor lipschitz, never below an attack, attained', () => {
  test.each(l2Cases)('$name', ({make, inShape, k}) => {
    const model = alone(make(), inShape);
    const bound = boundOf(model, 2);
    expect(bound).toBeGreaterThanOrEqual(k);
    expect(bound).toBeLessThanOrEqual(k * (1 + 1e-7));
    const found = attack(predictFn(model), inShape, 2, 3);
    expect(found).toBeLessThanOrEqual(bound * (1 + 1e-5));
    // parallel pairs (x, 2x) attain it: |f(2x) - f(x)| = k |x| per window
    const n = inShape.reduce((a, b) => a * b, 1);
    const r = rng(5);
    const x = Float32Array.from({length: n}, () => r() - 0.5);
    const ratio = tf.tidy(() => {
      const a = tf.tensor(x, [1, ...inShape]);
      const fa = model.predict(a) as Tensor;
      const f2a = model.predict(tf.mul(a, 2)) as Tensor;
      return tf.norm(tf.sub(f2a, fa)).dataSync()[0]! / tf.norm(a).dataSync()[0]!;
    });
    // (windows cut off by a ragged edge would lower it; these shapes have none)
    expect(ratio).toBeCloseTo(k, 4);
    // l1 and l-inf factors: attacks stay below them
    for (const p of [1, Infinity] as const) {
      expect(attack(predictFn(model), inShape, p, 7, 10)).toBeLessThanOrEqual(boundOf(model, p) * (1 + 1e-5));
    }
    model.dispose();
  });

  test('the gradient at an all-zero window is finite (epsGradSqrt); elsewhere the exact one', () => {
    const g = tf.grad((x: Tensor) => tf.sum(scaledL2NormPooling2d({poolSize: 2}).apply(x) as Tensor));
    const zero = g(tf.zeros([1, 2, 2, 1]));
    expect(Array.from(zero.dataSync()).every(Number.isFinite)).toBe(true);
    const at = g(tf.tensor4d([3, 4, 0, 0], [1, 2, 2, 1]));
    // d ||x|| / dx = x / ||x|| = (0.6, 0.8, 0, 0), up to eps 1e-6 in the denominator
    expect(Array.from(at.dataSync()).map((v) => Number(v.toFixed(5)))).toEqual([0.6, 0.8, 0, 0]);
    tf.dispose([zero, at]);
  });
});

describe('save/load, export, memory, errors', () => {
  const all = [...linear, ...l2Cases];

  test.each(all)('round trip: $name', async ({make, inShape}) => {
    const model = alone(make(), inShape);
    const loaded = await roundTrip(model, model.layers[1]!.getClassName());
    expect(loaded.layers[1]!.getConfig()).toEqual(model.layers[1]!.getConfig());
    const x = tf.randomUniform([3, ...inShape], -1, 1, 'float32', 2);
    expect(maxDifference(model, loaded, x)).toBe(0);
    x.dispose();
    model.dispose();
    loaded.dispose();
  });

  test('the saved config is snake_case, as Keras', async () => {
    const model = alone(scaledL2NormPooling2d({poolSize: 2, lipschitz: 2}), [4, 4, 1]);
    const json = JSON.stringify(model.toJSON(null, false));
    expect(json).toContain('"pool_size":[2,2]');
    expect(json).toContain('"eps_grad_sqrt":0.000001');
    expect(json).toContain('"lipschitz":2');
    model.dispose();
  });

  test.each(linear)('exportToStandardLayers: $name, same outputs', ({make, inShape}) => {
    const model = alone(make(), inShape);
    const exported = exportStandard(model);
    const x = tf.randomUniform([3, ...inShape], -1, 1, 'float32', 4);
    expect(maxDifference(model, exported, x)).toBe(0);
    x.dispose();
    model.dispose();
    exported.dispose();
  });

  test.each(['ScaledL2NormPooling2D', 'ScaledGlobalL2NormPooling2D'])('exportToStandardLayers: %s throws, naming it', (cls) => {
    const layer = cls === 'ScaledL2NormPooling2D' ? scaledL2NormPooling2d({name: 'pool'}) : scaledGlobalL2NormPooling2d({name: 'pool'});
    const model = alone(layer, [4, 4, 1]);
    expect(() => exportStandard(model)).toThrow(`layer 'pool' is a ${cls}, which is not a standard tfjs-layers/Keras layer`);
    model.dispose();
  });

  test('no tensors left behind by apply, bound and attack', () => {
    for (const {make, inShape} of all) {
      const model = alone(make(), inShape);
      const x = tf.randomUniform([2, ...inShape]);
      const before = tf.memory().numTensors;
      tf.dispose(model.predict(x) as Tensor);
      for (const p of [1, 2, Infinity] as const) lipschitzBound(model, {norm: p});
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      model.dispose();
    }
  });

  test('bad arguments get clear errors', () => {
    expect(() => scaledAveragePooling2d({poolSize: 0})).toThrow('scaledAveragePooling2d: expected poolSize[0] to be an integer >= 1, got 0');
    expect(() => scaledAveragePooling2d({poolSize: 2, strides: 1})).toThrow(
      'scaledAveragePooling2d: expected strides null or equal to poolSize [2,2] (the windows may not overlap), got 1');
    expect(() => scaledL2NormPooling2d({padding: 'same' as never})).toThrow('scaledL2NormPooling2d: expected padding \'valid\', got "same"');
    expect(() => scaledL2NormPooling2d({epsGradSqrt: -1})).toThrow('scaledL2NormPooling2d: expected epsGradSqrt >= 0, got -1');
    expect(() => scaledGlobalL2NormPooling2d({lipschitz: 0})).toThrow('scaledGlobalL2NormPooling2d: expected lipschitz > 0, got 0');
    expect(() => scaledGlobalAveragePooling2d({dataFormat: 'channelsFirst' as never})).toThrow(
      'scaledGlobalAveragePooling2d: expected dataFormat \'channelsLast\', got "channelsFirst"');
    expect(() => invertibleDownSampling(null as never)).toThrow('invertibleDownSampling: expected an arguments object, got null');
    expect(() => invertibleDownSampling({poolSize: [2, 2, 2] as never})).toThrow(
      'invertibleDownSampling: expected poolSize to be an integer >= 1 or two of them, got [2,2,2]');
    expect(() => alone(invertibleDownSampling({poolSize: 2, name: 'd'}), [5, 4, 1])).toThrow(
      "invertibleDownSampling 'd': expected the rows (5) to be a multiple of 2");
    expect(() => alone(invertibleUpSampling({poolSize: 2, name: 'u'}), [2, 2, 6])).toThrow(
      "invertibleUpSampling 'u': expected the channels (6) to be a multiple of 4 (poolSize 2 x 2)");
    expect(() => alone(scaledGlobalAveragePooling2d({name: 'g'}), [null as never, 4, 1])).toThrow(
      "scaledGlobalAveragePooling2d 'g': the rows and columns of the input must be known");
    expect(() => alone(scaledAveragePooling2d({name: 'p'}), [4, 4])).toThrow();
  });

  test('classes are exported for instanceof', () => {
    expect(scaledL2NormPooling2d()).toBeInstanceOf(ScaledL2NormPooling2D);
    expect(invertibleDownSampling({poolSize: 2})).toBeInstanceOf(InvertibleDownSampling);
  });
});
