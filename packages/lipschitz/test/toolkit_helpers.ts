/**
 * Checks shared by the tests of the deel-lip style layers: each layer alone in a model on a
 * known input shape, its certified bound against independent references (ml-matrix's SVD and
 * the row/column sums of the explicit matrix for linear layers; an attack — random pairs,
 * then gradient-free local search on the quotient — for every layer), a save/load round trip,
 * the standard-layer export.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import {exportToStandardLayers} from '@deepspline/layers';
import {lipschitzBound} from '../src/index.js';
import {explicitMatrix, rng, rowColSums, spectralNormSvd} from './helpers.js';

/** `layer` alone in a model on `[batch, ...inShape]`. */
export function alone(layer: tfl.layers.Layer, inShape: number[]): tfl.LayersModel {
  const input = tfl.input({shape: inShape});
  return tfl.model({inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor});
}

/** The model's function on a batch (inference). */
export const predictFn = (model: tfl.LayersModel) => (x: Tensor) => model.predict(x) as Tensor;

/** The exact l2, l1 and l-inf norms of a linear map, from its explicit matrix (float64). */
export function explicitNorms(f: (x: Tensor) => Tensor, inShape: number[]): {two: number, one: number, inf: number} {
  const {m, rows, cols} = explicitMatrix(f, inShape);
  const {one, inf} = rowColSums(m, rows, cols);
  return {two: spectralNormSvd(m, rows, cols), one, inf};
}

function norm(v: ArrayLike<number>, p: number): number {
  let s = 0;
  for (let i = 0; i < v.length; ++i) {
    const a = Math.abs(v[i]!);
    s = p === Infinity ? Math.max(s, a) : p === 1 ? s + a : s + a * a;
  }
  return p === 2 ? Math.sqrt(s) : s;
}

/**
 * A lower bound of the Lipschitz constant of `f` (batched, float32) in the l_p norm: the
 * largest quotient `|f(x) - f(y)|_p / |x - y|_p` (float64 from the float32 values) over random
 * pairs at several scales, then a random local search that keeps moves raising it.
 */
export function attack(f: (x: Tensor) => Tensor, inShape: number[], p: number, seed: number, rounds = 30): number {
  const n = inShape.reduce((a, b) => a * b, 1);
  const r = rng(seed);
  const batch = 64;
  const quotients = (x: Float32Array, y: Float32Array): number[] => {
    const [fx, fy] = tf.tidy(() => [f(tf.tensor(x, [batch, ...inShape])).dataSync(), f(tf.tensor(y, [batch, ...inShape])).dataSync()]);
    const m = fx.length / batch;
    return Array.from({length: batch}, (_, b) => {
      const d = new Float64Array(m);
      for (let i = 0; i < m; ++i) d[i] = fx[b * m + i]! - fy[b * m + i]!;
      const dx = new Float64Array(n);
      for (let i = 0; i < n; ++i) dx[i] = x[b * n + i]! - y[b * n + i]!;
      return norm(d, p) / norm(dx, p);
    });
  };
  const x = Float32Array.from({length: batch * n}, () => 2 * r() - 1);
  const y = new Float32Array(batch * n);
  const scales = [1, 0.1, 0.01];
  for (let b = 0; b < batch; ++b) {
    const s = scales[b % scales.length]!;
    for (let i = 0; i < n; ++i) y[b * n + i] = x[b * n + i]! + s * (2 * r() - 1);
  }
  let best = quotients(x, y);
  for (let round = 0; round < rounds; ++round) {
    const x2 = x.slice();
    const y2 = y.slice();
    for (let i = 0; i < x2.length; ++i) {
      x2[i] += 0.05 * (2 * r() - 1);
      y2[i] += 0.05 * (2 * r() - 1);
    }
    const q = quotients(x2, y2);
    for (let b = 0; b < batch; ++b) {
      if (q[b]! > best[b]!) {
        best[b] = q[b]!;
        x.set(x2.subarray(b * n, (b + 1) * n), b * n);
        y.set(y2.subarray(b * n, (b + 1) * n), b * n);
      }
    }
  }
  return Math.max(...best.filter(Number.isFinite));
}

/** The certified bound of a one-layer model in norm `p`. */
export const boundOf = (model: tfl.LayersModel, p: 1 | 2 | typeof Infinity) => lipschitzBound(model, {norm: p}).bound;

/** Saves and reloads `model` in memory; the topology must name `className`. */
export async function roundTrip(model: tfl.LayersModel, className: string): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    saved = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  expect(JSON.stringify(saved!.modelTopology)).toContain(`"class_name":"${className}"`);
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

/** The largest |a - b| of two models' predictions on `x`. */
export function maxDifference(a: tfl.LayersModel, b: tfl.LayersModel, x: Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a.predict(x) as Tensor, b.predict(x) as Tensor))).dataSync()[0]!);
}

/** `exportToStandardLayers(model)`, checked to hold no class of ours. */
export function exportStandard(model: tfl.LayersModel): tfl.LayersModel {
  const exported = exportToStandardLayers(model);
  const json = JSON.stringify(exported.toJSON(null, false));
  const classes = [...json.matchAll(/"class_name":"(\w+)"/g)].map((m) => m[1]);
  expect(classes.filter((c) => /Spectral|Frobenius|Scaled|Invertible|Sort|Householder|PadConv/.test(c!))).toEqual([]);
  return exported;
}
