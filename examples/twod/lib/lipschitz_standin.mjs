/**
 * LOCAL STAND-IN for `@deepspline/lipschitz` (issue 4), built only from `@deepspline/core`
 * math and the layer's methods. Used by lipschitz.mjs only while the real package is not
 * built. It covers exactly what this example needs (Sequential dense/activation models):
 * a TV(2) regularizer, the operator and paper bounds, a constrain-mode callback and active
 * knots. Swap: delete this file and the fallback branch in lipschitz.mjs.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {clipSlopes} from '@deepspline/core';
import {SplineActivation} from '@deepspline/layers';

/** lambda * sum_n TV2(c_n), TV2 = sum_k |c[k-1] - 2c[k] + c[k+1]| / T (spline-math.md). */
class StandInTV2 {
  constructor(lambda) { this.lambda = lambda; this.step = null; }
  setSplineGrid(grid) { this.step = grid.step; }
  apply(c) {
    if (this.step == null) throw new Error('tv2 stand-in: no spline grid; use it as a coefficientsRegularizer');
    return tf.tidy(() => {
      const K = c.shape[1];
      const d2 = tf.add(tf.sub(tf.slice(c, [0, 0], [-1, K - 2]), tf.mul(2, tf.slice(c, [0, 1], [-1, K - 2]))),
        tf.slice(c, [0, 2], [-1, K - 2]));
      return tf.mul(this.lambda / this.step, tf.sum(tf.abs(d2)));
    });
  }
  getClassName() { return 'StandInTV2'; }
  getConfig() { return {lambda: this.lambda}; }
}

export function tv2({lambda}) { return new StandInTV2(lambda); }

/** Exact spectral norm of a small matrix (power iteration on W^T W to convergence). */
function spectralNorm(w) {
  return tf.tidy(() => {
    const wtw = tf.matMul(w, w, true, false);
    let v = tf.ones([wtw.shape[0], 1]);
    for (let i = 0; i < 200; ++i) {
      const u = tf.matMul(wtw, v);
      v = tf.div(u, tf.add(tf.norm(u), 1e-30));
    }
    return Math.sqrt(tf.norm(tf.matMul(wtw, v)).dataSync()[0]);
  });
}

const ACTIVATION_FACTORS = {linear: 1, relu: 1, sigmoid: 0.25, tanh: 1};

function activationFactor(layer) {
  const cls = layer.getClassName();
  if (cls === 'ReLU') return 1;
  if (cls === 'LeakyReLU') return Math.max(1, Math.abs(layer.alpha));
  if (cls === 'PReLU') return Math.max(1, tf.tidy(() => tf.max(tf.abs(layer.getWeights()[0])).dataSync()[0]));
  if (layer instanceof SplineActivation) return tf.tidy(() => tf.max(layer.lipschitz()).dataSync()[0]);
  return null;
}

function denseActivation(layer) {
  const name = layer.getConfig().activation;
  if (!(name in ACTIVATION_FACTORS)) throw new Error(`stand-in bound: unsupported activation ${name}`);
  return ACTIVATION_FACTORS[name];
}

export function lipschitzBound(model, {method = 'operator'} = {}) {
  let bound = 1;
  let sawSpline = false;
  const layers = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    let factor;
    if (cls === 'Dense') {
      const w = layer.getWeights()[0];
      const lin = method === 'paper' ? tf.tidy(() => tf.max(tf.abs(w)).dataSync()[0]) : spectralNorm(w);
      factor = lin * (method === 'paper' ? 1 : denseActivation(layer));
    } else if (method === 'paper') {
      if (!(layer instanceof SplineActivation)) { factor = 1; } else {
        sawSpline = true;
        factor = tf.tidy(() => tf.sum(layer.bv2()).dataSync()[0]);
      }
    } else {
      factor = activationFactor(layer);
      if (factor == null) throw new Error(`stand-in bound: unsupported layer ${cls}`);
    }
    layers.push({name: layer.name, className: cls, factor});
    bound *= factor;
  }
  if (method === 'paper' && !sawSpline) return {bound: NaN, norm: 2, method, layers};
  return {bound, norm: 2, method, layers};
}

export function activeKnots(model, threshold = 0) {
  let total = 0;
  for (const layer of model.layers) {
    if (!(layer instanceof SplineActivation)) continue;
    total += tf.tidy(() => tf.sum(layer.activeKnots(threshold)).dataSync()[0]);
  }
  return total;
}

/** Constrain mode: each of the L factors gets target^(1/L); dense kernels rescaled, slopes clipped. */
class StandInConstrain extends tfl.Callback {
  constructor(target) { super(); this.target = target; }
  async onBatchEnd() { project(this.model, this.target); }
}

function project(model, target) {
  const factors = model.layers.filter((l) => l.getClassName() === 'Dense' || l instanceof SplineActivation);
  const budget = Math.pow(target, 1 / factors.length);
  for (const layer of factors) {
    if (layer.getClassName() === 'Dense') {
      const weights = layer.getWeights();
      const norm = spectralNorm(weights[0]);
      if (norm > budget) {
        const scaled = tf.mul(weights[0], budget / norm);
        layer.setWeights([scaled, ...weights.slice(1)]);
        scaled.dispose();
      }
    } else {
      const c = layer.getWeights()[0];
      const clipped = clipSlopes(c, layer.step, budget);
      layer.setWeights([clipped]);
      clipped.dispose();
    }
  }
}

export function lipschitzCallback({mode, target}) {
  if (mode !== 'constrain') throw new Error('stand-in: only constrain mode');
  return new StandInConstrain(target);
}
