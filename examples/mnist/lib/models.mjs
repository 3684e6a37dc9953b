/**
 * The six 784 -> W -> W -> 10 MLPs of the example. Every initializer is seeded, so a model is
 * a pure function of its arguments.
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
  spline_lip1: 'Deep spline (maxSlope 1), 1-Lipschitz',
  spline_lip1_sparse: 'Deep spline (maxSlope 1), 1-Lipschitz, proximal TV(2)',
};

/** Whether a kind is 1-Lipschitz by construction (linear logits, tau cross-entropy). */
export const isLipschitz = (kind) => kind.includes('_lip1');
/** Whether a kind uses spline activations. */
export const isSpline = (kind) => kind.startsWith('spline');
/** Whether a kind trains its splines' TV(2) by the proximal solver (`tv2ProximalOptimizer`). */
export const isSparse = (kind) => kind.endsWith('_sparse');

/**
 * Builds one network (not compiled). The unconstrained kinds end in a softmax layer after
 * their logits; the Lipschitz kinds end in linear logits (their certificates are on the
 * logits either way).
 * @param {string} kind one of the keys of MODELS
 * @param {{seed: number, width: number, lambda: number, bjorckSteps: number,
 *   spline: {size: number, range: number, init: string}, lipSpline: {size: number, range: number, init: string},
 *   plain?: boolean}} options
 *   `width`: the two hidden widths; `lambda`: TV(2) weight in the loss (subgradient) of the
 *   `spline` and `spline_lip1` nets (the sparse net takes its lambda in its optimizer);
 *   `bjorckSteps`: Björck iterations of the spectral layers (0: spectral normalisation only);
 *   `spline` / `lipSpline`: the splines of the unconstrained / 1-Lipschitz spline nets;
 *   `plain`: plain dense layers in place of the spectral ones (the exported form of a
 *   Lipschitz kind, see certify.mjs)
 */
export function buildModel(kind, {seed, width, lambda, bjorckSteps, spline, lipSpline, plain = false}) {
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
  [width, width].forEach((units, i) => {
    model.add(dense({units, name: `dense_${i + 1}`, kernelInitializer: init(`kernel_${i + 1}`),
      ...(i === 0 ? {inputShape: [PIXELS]} : {})}));
    const name = `act_${i + 1}`;
    if (kind === 'relu' || kind === 'relu_lip1') model.add(tfl.layers.reLU({name}));
    else if (kind === 'groupsort_lip1') model.add(groupSort({groupSize: 2, name}));
    else {
      model.add(splineActivation({...(lip ? lipSpline : spline), name, ...(lip ? {maxSlope: 1} : {}),
        coefficientsRegularizer: lambda > 0 && !isSparse(kind) ? tv2Regularizer({lambda}) : undefined}));
    }
  });
  model.add(dense({units: CLASSES, name: 'logits', kernelInitializer: init('kernel_out')}));
  if (!lip) model.add(tfl.layers.activation({activation: 'softmax', name: 'softmax'}));
  return model;
}
