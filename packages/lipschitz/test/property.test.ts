/**
 * Property test: for 50 random small models (dense and convolutional, spline / relu /
 * other activation mixes, random weights and spline coefficients), the empirical Lipschitz
 * estimate from input Jacobians never exceeds the operator bound, for norms 2 and Infinity.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {empiricalLipschitz, lipschitzBound} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function activationLayer(r: Rand): tfl.layers.Layer {
  const kind = pick(r, ['spline', 'spline', 'spline', 'relu', 'leaky', 'tanh', 'sigmoid'] as const);
  switch (kind) {
    case 'spline': return splineActivation({size: pick(r, [5, 7, 9]), range: pick(r, [0.5, 1, 2]),
      init: pick(r, ['relu', 'leaky_relu', 'tanh', 'abs'] as const)});
    case 'relu': return tfl.layers.reLU();
    case 'leaky': return tfl.layers.leakyReLU({alpha: 0.2});
    default: return tfl.layers.activation({activation: kind});
  }
}

function denseModel(r: Rand): {model: tfl.Sequential, inShape: number[]} {
  const inDim = int(r, 2, 5);
  const layers: tfl.layers.Layer[] = [tfl.layers.inputLayer({inputShape: [inDim]})];
  const hidden = int(r, 1, 3);
  for (let i = 0; i < hidden; ++i) {
    layers.push(tfl.layers.dense({units: int(r, 2, 6), useBias: r() < 0.7,
      activation: pick(r, ['linear', 'linear', 'relu', 'tanh'] as const)}));
    layers.push(activationLayer(r));
  }
  layers.push(tfl.layers.dense({units: int(r, 1, 3)}));
  return {model: tfl.sequential({layers}), inShape: [inDim]};
}

function convModel(r: Rand): {model: tfl.Sequential, inShape: number[]} {
  const inShape = [int(r, 4, 6), int(r, 4, 6), int(r, 1, 2)];
  const layers: tfl.layers.Layer[] = [tfl.layers.inputLayer({inputShape: inShape})];
  if (r() < 0.5) {
    layers.push(tfl.layers.conv2d({filters: int(r, 2, 3), kernelSize: int(r, 2, 3), strides: int(r, 1, 2),
      padding: pick(r, ['valid', 'same'] as const)}));
  } else {
    layers.push(tfl.layers.depthwiseConv2d({kernelSize: int(r, 2, 3), depthMultiplier: int(r, 1, 2), padding: 'same'}));
  }
  layers.push(activationLayer(r));
  const pool = pick(r, ['none', 'avg', 'max'] as const);
  const convOut = layers[1]!.computeOutputShape([null, ...inShape]) as number[];
  if (convOut[1]! < 2 || convOut[2]! < 2) layers.splice(1, 1);  // keep the conv output >= 2x2
  if (pool === 'avg') layers.push(tfl.layers.averagePooling2d({poolSize: 2, strides: 1}));
  if (pool === 'max') layers.push(tfl.layers.maxPooling2d({poolSize: 2, strides: 1}));
  layers.push(tfl.layers.flatten());
  layers.push(tfl.layers.dense({units: int(r, 1, 3)}));
  return {model: tfl.sequential({layers}), inShape};
}

/** Random weights; spline coefficients get random perturbations so slopes differ. */
function randomize(model: tfl.LayersModel, r: Rand): void {
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    const next = ws.map((w) => {
      const data = w.dataSync();
      const isSpline = layer.getClassName() === 'SplineActivation';
      return tf.tensor(Array.from(data, (v) => isSpline ? v + 0.4 * (2 * r() - 1) : 1.2 * (2 * r() - 1)), w.shape);
    });
    layer.setWeights(next);
    tf.dispose(next);
  }
}

test('50 random models: empirical <= operator bound for norms 2 and Infinity', () => {
  const r = rng(2024);
  const ratios: number[] = [];
  for (let i = 0; i < 50; ++i) {
    const {model, inShape} = i % 2 === 0 ? denseModel(r) : convModel(r);
    randomize(model, r);
    const x = tf.tensor(Array.from({length: 8 * inShape.reduce((a, b) => a * b, 1)}, () => 4 * r() - 2), [8, ...inShape]);
    for (const norm of [2, Infinity]) {
      const t0 = Date.now();
      const {bound} = lipschitzBound(model, {norm});
      const t1 = Date.now();
      const {value} = empiricalLipschitz(model, x, {norm});
      if (process.env.LIP_TIMING) console.log(i, norm, t1 - t0, Date.now() - t1);
      if (!Number.isFinite(bound)) throw new Error(`model ${i}: ${JSON.stringify(lipschitzBound(model, {norm}).layers)}`);
      if (value > bound * (1 + 1e-5)) {
        throw new Error(`model ${i} norm ${norm}: empirical ${value} > bound ${bound}\n` +
          model.layers.map((l) => l.getClassName()).join(' -> '));
      }
      ratios.push(value / bound);
    }
    x.dispose();
    model.dispose();
  }
  // The estimate is a real lower bound, not a trivial 0: it reaches a good part of the bound.
  expect(Math.max(...ratios)).toBeGreaterThan(0.5);
});

test('a single Dense layer: the empirical value equals the bound (tight) for norms 1, 2, Infinity', () => {
  const model = tfl.sequential({layers: [tfl.layers.dense({units: 4, inputShape: [6]})]});
  randomize(model, rng(5));
  const x = tf.randomUniform([3, 6], -1, 1, 'float32', 9);
  for (const norm of [1, 2, Infinity]) {
    const {bound} = lipschitzBound(model, {norm});
    const {value, perPoint} = empiricalLipschitz(model, x, {norm});
    expect(perPoint).toHaveLength(3);
    expect(Math.abs(value - bound) / bound).toBeLessThan(1e-5);
  }
  expect(() => empiricalLipschitz(model, x, {norm: 0})).toThrow(/expected norm to be 1, 2 or Infinity, got 0/);
  expect(() => empiricalLipschitz(model, tf.tensor1d([1]))).toThrow(/expected float32 points x of shape \[batch, \.\.\.inputShape\], got a float32 tensor of shape \[1\]/);
  x.dispose();
  model.dispose();
});
