/**
 * What is certified, and how: the 1-Lipschitz nets are exported to plain dense layers with
 * their normalised kernels (deel-lip's `vanilla_export`), and every net is certified on its
 * logits with `lipschitzBound` and `certifiedAccuracy` from @deepspline/lipschitz.
 *
 * Why the export: in @deepspline/lipschitz 0.1.0 the inference path of `spectralDense` (and
 * `matrixNorm` with its default options) does not converge on kernels whose top singular
 * values are clustered, which is what Lipschitz training produces, and falls back to a
 * Frobenius-sized bound: the deployed kernel is then divided by up to sqrt(rank) and the
 * margins shrink with it (README, "Known problems"). The iteration options below converge on
 * these kernels; the bound is the library's (a Ritz value plus its explicit residual).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {certifiedAccuracy, lipschitzBound, matrixNorm, SpectralDense} from '@deepspline/lipschitz';

/** Lanczos options of every spectral norm here: relative Ritz residual 1e-8, up to 5,000 products. */
export const POWER_ITERATION = {tolerance: 1e-8, maxIterations: 5000};

/**
 * The plain-layer twin of a trained network: each `SpectralDense` becomes a `Dense` with
 * kernel `W / ||W||_2` (the norm from {@link POWER_ITERATION}, the kernel its training
 * forward pass divides by an estimate of the same norm) and the same bias; every other
 * layer is copied with its weights. `build` makes the twin's architecture (plain dense
 * layers, same names); the caller disposes both models.
 * @param {tfl.LayersModel} trained
 * @param {() => tfl.LayersModel} build
 */
export function exportPlain(trained, build) {
  const plain = build();
  for (const layer of trained.layers) {
    const target = plain.getLayer(layer.name);
    const weights = layer.getWeights();
    if (layer instanceof SpectralDense) {
      const [kernel, bias] = weights;
      const [rows, cols] = kernel.shape;
      const values = kernel.dataSync();
      const sigma = matrixNorm(values, rows, cols, 2, POWER_ITERATION, layer.name);
      const normalised = tf.tensor2d(Float32Array.from(values, (v) => v / sigma), [rows, cols]);
      target.setWeights(bias != null && layer.useBias ? [normalised, bias] : [normalised]);
      normalised.dispose();
    } else if (weights.length > 0) {
      target.setWeights(weights);
    }
  }
  return plain;
}

/** The logit map of a network: the network itself, or its input to the final softmax layer. */
export function logitModel(model) {
  const last = model.layers[model.layers.length - 1];
  return last.getClassName() === 'Activation' ? tfl.model({inputs: model.inputs, outputs: last.input}) : model;
}

/** The epsilons of the curve in the plot and results.json: 0 to 2 in steps of 0.02. */
export const CURVE_EPSILONS = Array.from({length: 101}, (_, i) => Math.round(i * 2) / 100);

/**
 * Clean accuracy, the certified l2 bound `L` of the logit map (`lipschitzBound` with
 * {@link POWER_ITERATION}), certified accuracy at `epsilons` (radius margin / (sqrt(2) L))
 * and on the curve's finer grid, the median certified radius (0 for a misclassified point),
 * and per image whether it is classified correctly and its certified radius.
 * @param {tfl.LayersModel} model
 * @param {{x: tf.Tensor, y: tf.Tensor}} images
 * @param {number[]} epsilons
 */
export function certify(model, images, epsilons) {
  const bound = lipschitzBound(logitModel(model), {norm: 2, powerIteration: POWER_ITERATION}).bound;
  const result = certifiedAccuracy(model, images.x, images.y, {epsilons, norm: 2, bound});
  const {radius} = result.radii;
  const n = radius.length;
  const curve = CURVE_EPSILONS.map((e) => result.correct.reduce((c, ok, i) => c + (ok && radius[i] >= e ? 1 : 0), 0) / n);
  const certifiedRadii = radius.map((r, i) => (result.correct[i] ? r : 0)).sort((a, b) => a - b);
  return {
    cleanAccuracy: result.cleanAccuracy,
    bound,
    certified: Object.fromEntries(epsilons.map((e, i) => [String(e), result.accuracy[i]])),
    curve,
    medianRadius: certifiedRadii[Math.floor(n / 2)],
    correct: result.correct,
    radius,
  };
}
