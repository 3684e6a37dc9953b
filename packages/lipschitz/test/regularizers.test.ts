import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineGrid} from '@deepspline/core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {BV2Regularizer, TV2Regularizer, bv2Regularizer, tv2Regularizer} from '@deepspline/lipschitz';
import {bv2Js, rng, rowsOf, tv2Js, useCpu} from './helpers.js';

beforeAll(useCpu);

/** Coefficients with every second difference non-zero (random), [C, K]. */
function randomCoefficients(C: number, K: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({length: C}, () => Array.from({length: K}, () => 2 * r() - 1));
}

function splineModel(reg: unknown, size = 9, range = 1.5) {
  const layer = splineActivation({size, range, init: 'tanh', coefficientsRegularizer: reg as never});
  const model = tfl.sequential({layers: [
    tfl.layers.dense({units: 3, inputShape: [2], kernelInitializer: 'glorotUniform'}),
    layer,
    tfl.layers.dense({units: 1}),
  ]});
  const c = tf.tensor2d(randomCoefficients(3, size, 7), [3, size]);
  layer.setWeights([c]);  // (getWeights returns the variables themselves: never dispose them)
  c.dispose();
  return {model, layer};
}

describe('tv2Regularizer / bv2Regularizer', () => {
  test('are tfjs Regularizer subclasses registered for serialization', () => {
    const base = Object.getPrototypeOf(tfl.regularizers.l1().constructor);
    expect(tv2Regularizer()).toBeInstanceOf(base);
    expect(bv2Regularizer()).toBeInstanceOf(base);
    const map = tf.serialization.SerializationMap.getMap().classNameMap;
    expect(map['TV2']![0]).toBe(TV2Regularizer);
    expect(map['BV2']![0]).toBe(BV2Regularizer);
    expect(tv2Regularizer({lambda: 0.5}).getConfig()).toEqual({lambda: 0.5});
    expect(tv2Regularizer().lambda).toBe(1e-4);
  });

  test('penalty equals lambda * sum TV2 / BV2 computed independently (float64)', () => {
    const grid = splineGrid({size: 9, range: 1.5});
    const coeffs = randomCoefficients(4, 9, 1);
    const c = tf.tensor2d(coeffs);
    for (const [make, js] of [[tv2Regularizer, (row: number[]) => tv2Js(row, grid.step)],
      [bv2Regularizer, (row: number[]) => bv2Js(row, grid.start, grid.step)]] as const) {
      const reg = make({lambda: 0.37});
      reg.setSplineGrid(grid);
      const before = tf.memory().numTensors;
      const p = reg.apply(c);
      expect(tf.memory().numTensors).toBe(before + 1);
      const expected = 0.37 * coeffs.reduce((a, row) => a + js(row), 0);
      expect(p.dataSync()[0]).toBeCloseTo(expected, 4);
      expect(Math.abs(p.dataSync()[0]! - expected) / expected).toBeLessThan(1e-5);
      p.dispose();
    }
    c.dispose();
  });

  test('fit loss minus evaluate loss equals the penalty (SGD lr 0, one batch)', async () => {
    for (const [make, name] of [[tv2Regularizer, 'tv2'], [bv2Regularizer, 'bv2']] as const) {
      const {model, layer} = splineModel(make({lambda: 0.01}));
      model.compile({optimizer: tf.train.sgd(0), loss: 'meanSquaredError'});
      const r = rng(3);
      const xs = tf.tensor2d(Array.from({length: 16}, () => [2 * r() - 1, 2 * r() - 1]));
      const ys = tf.tensor2d(Array.from({length: 16}, () => [r()]));
      const coeffs = rowsOf(layer.getWeights()[0]!);
      const {start, step} = layer.grid;
      const penalty = 0.01 * coeffs.reduce((a, row) =>
        a + (name === 'tv2' ? tv2Js(row, step) : bv2Js(row, start, step)), 0);
      expect(penalty).toBeGreaterThan(0.01);
      const h = await model.fit(xs, ys, {epochs: 1, batchSize: 16, shuffle: false, verbose: 0});
      const evalLoss = (model.evaluate(xs, ys, {batchSize: 16}) as tf.Scalar);
      const diff = (h.history.loss[0] as number) - evalLoss.dataSync()[0]!;
      expect(Math.abs(diff - penalty)).toBeLessThan(1e-5 * Math.max(1, penalty));
      tf.dispose([xs, ys, evalLoss]);
      model.dispose();
    }
  });

  test('serialization round trip: config survives model save / load and keeps the penalty', async () => {
    for (const make of [tv2Regularizer, bv2Regularizer]) {
      const {model, layer} = splineModel(make({lambda: 0.25}), 7, 2);
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}}; }));
      const json = JSON.stringify(artifacts!.modelTopology);
      expect(json).toContain(`"coefficients_regularizer":{"class_name":"${make === tv2Regularizer ? 'TV2' : 'BV2'}"`);
      expect(json).toContain('"lambda":0.25');
      const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
      const l2 = loaded.layers.find((l) => l instanceof SplineActivation) as SplineActivation;
      const reg = l2.coefficientsRegularizer as TV2Regularizer;
      expect(reg).toBeInstanceOf(make === tv2Regularizer ? TV2Regularizer : BV2Regularizer);
      expect(reg.lambda).toBe(0.25);
      expect(reg.grid).toEqual(layer.grid);
      const w1 = layer.getWeights()[0]!;
      const w2 = l2.getWeights()[0]!;
      const p1 = (layer.coefficientsRegularizer as TV2Regularizer).apply(w1);
      const p2 = reg.apply(w2);
      expect(p2.dataSync()[0]).toBeCloseTo(p1.dataSync()[0]!, 6);
      tf.dispose([p1, p2]);
      model.dispose();
      loaded.dispose();
    }
  });

  test('clear errors', () => {
    expect(() => tv2Regularizer({lambda: -1})).toThrow(/^tv2Regularizer: expected lambda >= 0, got -1$/);
    expect(() => bv2Regularizer({lambda: NaN})).toThrow(/^bv2Regularizer: expected lambda to be a finite number, got NaN$/);
    expect(() => tv2Regularizer(3 as never)).toThrow(/expected an arguments object/);
    const c = tf.zeros([2, 5]);
    expect(() => tv2Regularizer().apply(c)).toThrow(/no spline grid; use it as the coefficientsRegularizer/);
    const reg = tv2Regularizer();
    reg.setSplineGrid(splineGrid({size: 5, range: 1}));
    expect(() => reg.setSplineGrid(splineGrid({size: 5, range: 2}))).toThrow(/already attached.*Create one regularizer per layer/);
    expect(() => reg.apply(tf.zeros([2, 7]))).toThrow(/expected coefficients of shape \[C, 5\], got a tensor of shape \[2,7\]/);
    c.dispose();
  });
});
