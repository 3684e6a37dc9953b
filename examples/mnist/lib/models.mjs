/**
 * The five 784 -> 256 -> 256 -> 10 MLPs of the example. Every initializer is seeded, so a
 * model is a pure function of its arguments.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {groupSort, spectralDense, tv2Regularizer} from '@deepspline/lipschitz';
import {deriveSeed} from '../../shared/prng.mjs';
import {CLASSES, PIXELS} from './data.mjs';

/** The model kinds, in table order, with a human label. */
export const MODELS = {
  relu: 'ReLU',
  spline: 'Deep spline, TV(2)',
  relu_lip1: 'ReLU, 1-Lipschitz',
  groupsort_lip1: 'GroupSort (MaxMin), 1-Lipschitz',
  spline_lip1: 'Deep spline (maxSlope 1), TV(2), 1-Lipschitz',
};

/** Hidden widths. */
export const HIDDEN = [256, 256];

/** Whether a kind is 1-Lipschitz by construction (linear logits, tau cross-entropy). */
export const isLipschitz = (kind) => kind.endsWith('_lip1');
/** Whether a kind uses spline activations. */
export const isSpline = (kind) => kind.startsWith('spline');

/**
 * The splines: 21 coefficients on [-1, 1] (knot spacing 0.1), initialised as a leaky ReLU
 * (slope 0.01, the reference's init); outside the grid they continue linearly.
 */
export const SPLINE = {size: 21, range: 1, init: 'leaky_relu'};

/**
 * Builds one network (not compiled). The unconstrained kinds end in a softmax layer after
 * their logits; the Lipschitz kinds end in linear logits (their certificates are on the
 * logits either way).
 * @param {string} kind one of the keys of MODELS
 * @param {{seed: number, lambda: number, bjorckSteps: number, plain?: boolean}} options
 *   `lambda`: TV(2) weight of the splines; `bjorckSteps`: Björck iterations of the spectral
 *   layers (0: spectral normalisation only); `plain`: plain dense layers in place of the
 *   spectral ones (the exported form of a Lipschitz kind, see certify.mjs)
 */
export function buildModel(kind, {seed, lambda, bjorckSteps, plain = false}) {
  if (!(kind in MODELS)) {
    throw new Error(`unknown model ${JSON.stringify(kind)}; expected one of ${Object.keys(MODELS).join(', ')}`);
  }
  const lip = isLipschitz(kind);
  const spectral = lip && !plain;
  const init = (name) => tfl.initializers.glorotUniform({seed: deriveSeed(seed, `${kind}:${name}`) % 1e9});
  const dense = (args) => (spectral ?
    spectralDense({...args, ...(bjorckSteps > 0 ? {orthonormalize: 'bjorck', bjorckSteps} : {})}) :
    tfl.layers.dense(args));
  const model = tfl.sequential({name: `${kind}_net`});
  HIDDEN.forEach((units, i) => {
    model.add(dense({units, name: `dense_${i + 1}`, kernelInitializer: init(`kernel_${i + 1}`),
      ...(i === 0 ? {inputShape: [PIXELS]} : {})}));
    const name = `act_${i + 1}`;
    if (kind === 'relu' || kind === 'relu_lip1') model.add(tfl.layers.reLU({name}));
    else if (kind === 'groupsort_lip1') model.add(groupSort({groupSize: 2, name}));
    else {
      model.add(splineActivation({...SPLINE, name, ...(lip ? {maxSlope: 1} : {}),
        coefficientsRegularizer: lambda > 0 ? tv2Regularizer({lambda}) : undefined}));
    }
  });
  model.add(dense({units: CLASSES, name: 'logits', kernelInitializer: init('kernel_out')}));
  if (!lip) model.add(tfl.layers.activation({activation: 'softmax', name: 'softmax'}));
  return model;
}
