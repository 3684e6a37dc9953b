/**
 * Model helpers: deterministic random weights (and rough splines), a save/load round trip in
 * memory, the error of an exported model's predictions, and a small spline network trained
 * with `fit` (the backends' "it learns" check).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineImplementation} from '@deepspline/core';
import {SplineActivation, splineActivation} from '@deepspline/layers';
import {normal, rng} from './prng.js';

/** Random coefficients in [-1, 1] for every spline layer of `model`: rough, steep splines (a worst case). */
export function randomizeSplines(model: tfl.LayersModel, seed: number): void {
  model.layers.filter((l) => l instanceof SplineActivation).forEach((l, i) => {
    const next = tf.randomUniform(l.getWeights()[0]!.shape, -1, 1, 'float32', seed + i);
    l.setWeights([next]);
    next.dispose();
  });
}

/**
 * `max |a - b| / max |a|` over the predictions `a` of `original` and `b` of `exported` on `x`
 * (the error relative to the output scale), after checking that they have the same shape and
 * that `a` varies (so that the comparison is not vacuous).
 */
export function predictionRelError(original: tfl.LayersModel, exported: tfl.LayersModel, x: tf.Tensor): number {
  return tf.tidy(() => {
    const a = original.predict(x) as tf.Tensor;
    const b = exported.predict(x) as tf.Tensor;
    expect(b.shape).toEqual(a.shape);
    expect(tf.moments(a).variance.dataSync()[0]).toBeGreaterThan(0);
    return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(a)).dataSync()[0]!;
  });
}

/** Sets every weight of `model` to `scale` times standard normal samples from `seed`. */
export function setRandomWeights(model: tfl.LayersModel, seed: number, scale = 1): void {
  const r = rng(seed);
  const weights = model.getWeights().map((w) => tf.tensor(
    Float32Array.from({length: w.size}, () => scale * normal(r)), w.shape, 'float32'));
  model.setWeights(weights);
  tf.dispose(weights);
}

/** The artifacts `model.save` writes, kept in memory. */
export async function saveToMemory(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return saved!;
}

/** Saves `model` in memory and loads it back (through the class registry, as a user would). */
export async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  return tfl.loadLayersModel(tf.io.fromMemory(await saveToMemory(model)));
}

/** What {@link trainCircleNet} reports. */
export interface CircleNetTraining {
  /** The active backend. */
  backend: string;
  /** The spline op's implementation during training. */
  implementation: string;
  /** The training loss per epoch. */
  losses: number[];
  /** Training accuracy after the last epoch. */
  accuracy: number;
  /** Tensor counts before `fit`, after it, and after one more epoch (equal: no leak). */
  tensors: {before: number, mid: number, end: number};
}

/**
 * Checks a {@link trainCircleNet} report from the backend `backend`: trained there with the
 * kernels, finite losses ending below a quarter of the first, accuracy above 90 %, no tensor
 * leaked by the last epoch. Returns the summary the browser tests print.
 */
export function expectCircleNetTrained(t: CircleNetTraining, backend: string):
    {firstLoss: number, lastLoss: number, epochs: number, accuracy: number} {
  const summary = {firstLoss: t.losses[0]!, lastLoss: t.losses[t.losses.length - 1]!, epochs: t.losses.length,
    accuracy: t.accuracy};
  expect(t.backend).toBe(backend);
  expect(t.implementation).toBe('kernel');
  expect(t.losses.every(Number.isFinite)).toBe(true);
  expect(summary.lastLoss).toBeLessThan(0.25 * summary.firstLoss);
  expect(t.accuracy).toBeGreaterThan(0.9);
  expect(t.tensors.end).toBe(t.tensors.mid);
  return summary;
}

/**
 * Trains a small spline network (2 -> 8 -> spline -> 8 -> spline -> 1, seeded) on the circle
 * task with `fit` on the active backend: 20 epochs, then one more to check for leaks.
 */
export async function trainCircleNet(): Promise<CircleNetTraining> {
  const r = rng(3);
  const n = 256;
  const xs = new Float32Array(2 * n);
  const ys = new Float32Array(n);
  for (let i = 0; i < n; ++i) {
    const a = 2 * r() - 1;
    const b = 2 * r() - 1;
    xs[2 * i] = a;
    xs[2 * i + 1] = b;
    ys[i] = a * a + b * b < 2 / Math.PI ? 1 : 0;     // the circle task (examples/twod/lib/data.mjs)
  }
  const x = tf.tensor2d(xs, [n, 2]);
  const y = tf.tensor2d(ys, [n, 1]);
  const model = tfl.sequential();
  model.add(tfl.layers.dense({units: 8, inputShape: [2], useBias: false,
    kernelInitializer: tfl.initializers.glorotUniform({seed: 1})}));
  model.add(splineActivation({size: 21, range: 1}));
  model.add(tfl.layers.dense({units: 8, kernelInitializer: tfl.initializers.glorotUniform({seed: 2})}));
  model.add(splineActivation({size: 21, range: 1}));
  model.add(tfl.layers.dense({units: 1, activation: 'sigmoid',
    kernelInitializer: tfl.initializers.glorotUniform({seed: 3})}));
  model.compile({optimizer: tf.train.adam(0.02), loss: 'binaryCrossentropy'});
  const implementation = splineImplementation();
  const before = tf.memory().numTensors;
  const h = await model.fit(x, y, {epochs: 20, batchSize: 32, shuffle: false, verbose: 0});
  const losses = h.history.loss as number[];
  // after the warm-up fit (optimizer slots exist), one more epoch must not leak
  const mid = tf.memory().numTensors;
  await model.fit(x, y, {epochs: 1, batchSize: 32, shuffle: false, verbose: 0});
  const end = tf.memory().numTensors;
  const pred = model.predict(x) as tf.Tensor;
  const p = await pred.data();
  let correct = 0;
  for (let i = 0; i < n; ++i) correct += (p[i] > 0.5 ? 1 : 0) === ys[i] ? 1 : 0;
  tf.dispose([x, y, pred]);
  model.dispose();
  return {backend: tf.getBackend(), implementation, losses, accuracy: correct / n,
    tensors: {before, mid, end}};
}
