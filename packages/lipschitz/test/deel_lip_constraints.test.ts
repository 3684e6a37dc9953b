/**
 * The constraints and initializer of deel-lip (SpectralConstraint, FrobeniusConstraint,
 * WeightClipConstraint, AutoWeightClipConstraint, SpectralInitializer): values against
 * float64 formulas and ml-matrix singular values, fit with constraintCallback (tfjs's fit
 * applies no constraint by itself), and serialization round trips with snake_case configs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {applyConstraints, constraintCallback} from '@deepspline/layers';
import {autoWeightClipConstraint, frobeniusConstraint, spectralConstraint, spectralInitializer,
  weightClipConstraint} from '@deepspline/lipschitz';
import {roundTrip, saveToMemory, singularValues} from '@deepspline/testing';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

function randomTensor(shape: number[], seed: number): Tensor {
  const r = rng(seed);
  return tf.tensor(Array.from({length: shape.reduce((a, b) => a * b, 1)}, () => 2 * r() - 1), shape);
}

/** The singular values (ml-matrix) of `w` seen as `[size / last, last]`. */
function svOf(w: Tensor): number[] {
  const units = w.shape[w.rank - 1]!;
  return singularValues(w.dataSync(), w.size / units, units);
}

/** Applies `constraint` and checks that only the result is left behind. */
function applied(constraint: {apply(w: Tensor): Tensor}, w: Tensor): Tensor {
  const before = tf.memory().numTensors;
  const out = constraint.apply(w);
  expect(tf.memory().numTensors).toBe(before + 1);
  expect(out.shape).toEqual(w.shape);
  return out;
}

describe('constraints: values', () => {
  test.each([[[6, 4]], [[3, 9]], [[3, 3, 2, 5]]])('spectralConstraint on a kernel %j: singular values (ml-matrix) <= kCoefLip, all near it after Björck', (shape) => {
    const w = randomTensor(shape, 1);
    for (const kCoefLip of [1, 2.5]) {
      const out = applied(spectralConstraint({kCoefLip}), w);
      const sv = svOf(out);
      expect(Math.max(...sv)).toBeLessThanOrEqual(kCoefLip * (1 + 1e-5));
      expect(Math.min(...sv)).toBeGreaterThan(kCoefLip * (1 - 1e-3));
      out.dispose();
    }
    // no Björck: W / sigma(W), so the singular values keep their ratios and the largest is kCoefLip
    const plain = applied(spectralConstraint({kCoefLip: 2, bjorckSteps: 0}), w);
    const before = svOf(w);
    const after = svOf(plain);
    after.forEach((s, i) => expect(s).toBeCloseTo(2 * before[i]! / before[0]!, 5));
    expect(after[0]).toBeLessThanOrEqual(2 * (1 + 1e-6));
    tf.dispose([w, plain]);
  });

  test('spectralConstraint leaves a zero kernel at zero and names a NaN kernel', () => {
    const z = tf.zeros([3, 2]);
    const out = applied(spectralConstraint(), z);
    expect(Array.from(out.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    const bad = tf.tensor2d([[NaN, 1], [0, 1]]);
    const before = tf.memory().numTensors;
    expect(() => spectralConstraint().apply(bad)).toThrow('spectralConstraint: the kernel\'s spectral norm is NaN');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, out, bad]);
  });

  test('frobeniusConstraint, weightClipConstraint, autoWeightClipConstraint: the float64 formulas', () => {
    const w = randomTensor([4, 5], 2);
    const v = Array.from(w.dataSync());
    const fro = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    const check = (out: Tensor, expected: number[]) => {
      Array.from(out.dataSync()).forEach((x, i) => expect(Math.abs(x - expected[i]!)).toBeLessThan(1e-6));
      out.dispose();
    };
    check(applied(frobeniusConstraint(), w), v.map((x) => x / (fro + 1e-7)));
    check(applied(frobeniusConstraint({eps: 0.5}), w), v.map((x) => x / (fro + 0.5)));
    check(applied(weightClipConstraint({c: 0.3}), w), v.map((x) => Math.min(Math.max(x, -0.3), 0.3)));
    const w3 = tf.mul(w, 3);
    check(applied(weightClipConstraint(), w3), v.map((x) => Math.min(Math.max(3 * x, -2), 2)));
    w3.dispose();
    const c = 1 / (Math.sqrt(20) * 0.5);
    check(applied(autoWeightClipConstraint({scale: 0.5}), w), v.map((x) => Math.min(Math.max(x, -c), c)));
    w.dispose();
  });

  test('spectralInitializer: a kernel with every singular value near kCoefLip (ml-matrix), seeded by its base', () => {
    const init = spectralInitializer({kCoefLip: 1.5, baseInitializer: tfl.initializers.glorotUniform({seed: 3})});
    for (const shape of [[8, 5], [3, 3, 4, 6]]) {
      const before = tf.memory().numTensors;
      const w = init.apply(shape);
      expect(tf.memory().numTensors).toBe(before + 1);
      const sv = svOf(w);
      expect(Math.max(...sv)).toBeLessThanOrEqual(1.5 * (1 + 1e-5));
      expect(Math.min(...sv)).toBeGreaterThan(1.5 * (1 - 1e-3));
      w.dispose();
    }
  });
});

describe('constraints: in fit', () => {
  function model(constraint: unknown): tfl.Sequential {
    const m = tfl.sequential({layers: [tfl.layers.dense({inputShape: [4], units: 3, kernelConstraint: constraint as never,
      kernelInitializer: tfl.initializers.glorotUniform({seed: 1})})]});
    m.compile({optimizer: tf.train.sgd(0.5), loss: 'meanSquaredError'});
    return m;
  }

  test('tfjs 4.22\'s fit does not apply a layer\'s constraint; constraintCallback applies it after every batch', async () => {
    const x = randomTensor([32, 4], 5);
    const y = tf.mul(randomTensor([32, 3], 6), 10);
    const bare = model(weightClipConstraint({c: 0.05}));
    await bare.fit(x, y, {epochs: 2, batchSize: 8, verbose: 0});
    const wBare = bare.getWeights()[0]!;
    expect(tf.max(tf.abs(wBare)).dataSync()[0]).toBeGreaterThan(0.05);  // the constraint was not applied

    const constrained = model(spectralConstraint({kCoefLip: 1}));
    await constrained.fit(x, y, {epochs: 2, batchSize: 8, verbose: 0, callbacks: [constraintCallback()]});
    const w = constrained.getWeights()[0]!;
    const sv = svOf(w);
    expect(Math.max(...sv)).toBeLessThanOrEqual(1 + 1e-5);
    expect(Math.min(...sv)).toBeGreaterThan(1 - 1e-3);
    tf.dispose([x, y]);
    bare.dispose();
    constrained.dispose();
  });
});

describe('constraints: serialization', () => {
  test('every constraint and the initializer round-trip through save / load with snake_case configs', async () => {
    const layers = [
      tfl.layers.dense({inputShape: [4], units: 4, kernelConstraint: spectralConstraint({kCoefLip: 2, bjorckSteps: 7}) as never,
        kernelInitializer: spectralInitializer({kCoefLip: 0.5, bjorckSteps: 3,
          baseInitializer: tfl.initializers.randomNormal({seed: 2, stddev: 0.3})}) as never}),
      tfl.layers.dense({units: 4, kernelConstraint: frobeniusConstraint({eps: 1e-3}) as never}),
      tfl.layers.dense({units: 4, kernelConstraint: weightClipConstraint({c: 0.7}) as never}),
      tfl.layers.dense({units: 1, kernelConstraint: autoWeightClipConstraint({scale: 3}) as never}),
    ];
    const m = tfl.sequential({layers});
    // tfjs applies a weight's constraint when loading (LayerVariable.write): save weights that satisfy them
    applyConstraints(m as never);
    const artifacts = await saveToMemory(m);
    const json = JSON.stringify(artifacts.modelTopology);
    for (const key of ['"k_coef_lip":2', '"bjorck_steps":7', '"base_initializer":{"class_name":"RandomNormal"', '"eps":0.001',
      '"c":0.7', '"scale":3', '"class_name":"SpectralConstraint"', '"class_name":"SpectralInitializer"',
      '"class_name":"FrobeniusConstraint"', '"class_name":"WeightClipConstraint"', '"class_name":"AutoWeightClipConstraint"']) {
      expect(json).toContain(key);
    }
    const loaded = await roundTrip(m);
    const configs = (model: tfl.LayersModel) => model.layers.map((l) => {
      const c = l.getConfig();
      return [c.kernelConstraint, c.kernelInitializer];
    });
    expect(configs(loaded)).toEqual(configs(m));
    const [a, b] = [m.getWeights(), loaded.getWeights()];
    a.forEach((t, i) => Array.from(b[i]!.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(t.dataSync()[k]!, 5)));
    m.dispose();
    loaded.dispose();
  });
});

describe('constraints: validation', () => {
  test.each([
    ['spectralConstraint: expected kCoefLip > 0, got 0', () => spectralConstraint({kCoefLip: 0})],
    ['spectralConstraint: expected bjorckSteps to be an integer >= 0, got 1.5', () => spectralConstraint({bjorckSteps: 1.5})],
    ['spectralConstraint: expected an arguments object {kCoefLip, bjorckSteps}, got 3', () => spectralConstraint(3 as never)],
    ['frobeniusConstraint: expected eps >= 0, got -1', () => frobeniusConstraint({eps: -1})],
    ['weightClipConstraint: expected c to be a finite number, got NaN', () => weightClipConstraint({c: NaN})],
    ['autoWeightClipConstraint: expected scale > 0, got 0', () => autoWeightClipConstraint({scale: 0})],
    ['spectralInitializer: expected baseInitializer to be a tfjs initializer', () => spectralInitializer({baseInitializer: 'orthogonal' as never})],
    ['spectralInitializer: expected kCoefLip to be a finite number, got Infinity', () => spectralInitializer({kCoefLip: Infinity})],
    ['spectralInitializer: expected a kernel shape [..., fanIn, units] with at least 2 axes, got [5]', () => spectralInitializer().apply([5])],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });
});
