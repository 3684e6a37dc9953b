/**
 * The networks of the 2-D benchmark: 2 -> 4 -> 4 -> 1 with one of seven activation choices.
 * The unconstrained nets end in a sigmoid (the reference's); the 1-Lipschitz nets
 * (`*_lip1`) end in a linear logit and are 1-Lipschitz by construction (spectral dense
 * layers, 1-Lipschitz activations). Every initializer is seeded, so a model is a pure
 * function of its arguments.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {groupSort, spectralDense, tv2Regularizer} from '@deepspline/lipschitz';
import {deriveSeed} from '../../shared/prng.mjs';

/** The model kinds, in table order, with a human label. */
export const MODELS = {
  relu: 'ReLU',
  leaky_relu: 'LeakyReLU (0.01)',
  prelu: 'PReLU',
  spline: 'Deep spline, TV(2)',
  spline_sparse: 'Deep spline, TV(2) by the proximal solver (tv2ProximalOptimizer)',
  relu_lip1: 'ReLU, 1-Lipschitz',
  groupsort_lip1: 'GroupSort, 1-Lipschitz',
  spline_lip1: 'Deep spline, TV(2), 1-Lipschitz',
};

/** Whether a model kind uses spline activations. */
export const isSpline = (kind) => kind.startsWith('spline');

/** Whether a model kind trains its TV(2) with the proximal solver (`tv2ProximalOptimizer`) instead of the loss. */
export const isProximal = (kind) => kind === 'spline_sparse';

/** Whether a model kind is 1-Lipschitz by construction (linear logit output, tau loss). */
export const isLipschitz = (kind) => kind.endsWith('_lip1');

/** The spline settings of the reference (and of `spline`); `spline_lip1` adds maxSlope 1. */
export const SPLINE = {size: 21, range: 1, init: 'leaky_relu'};

/** Settings of the 1-Lipschitz nets' spectral dense layers. */
export const SPECTRAL = {orthonormalize: 'bjorck', bjorckSteps: 15, powerIterations: 3};

/**
 * PyTorch's default `nn.Linear` initialization, the reference's: weights and biases uniform
 * in [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform with a = sqrt(5) for the weights).
 */
function torchLinearInit(fanIn, seed) {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({minval: -bound, maxval: bound, seed: seed % 1e9});
}

/**
 * Builds one benchmark network (not compiled). `spline_sparse` gets no TV(2) regularizer: its
 * `lambda` goes to the `tv2ProximalOptimizer` of its training.
 * @param {string} kind one of the keys of MODELS
 * @param {{seed: number, lambda: number, weightDecay: number, widths?: number[],
 *   splineInit?: string}} options `splineInit` overrides the spline init of `spline_lip1`.
 */
export function buildModel(kind, options) {
  if (!(kind in MODELS)) {
    throw new Error(`unknown model ${JSON.stringify(kind)}; expected one of ${Object.keys(MODELS).join(', ')}`);
  }
  const {seed, lambda, weightDecay} = options;
  const widths = options.widths ?? [4, 4];
  const spline = isSpline(kind);
  const lip = isLipschitz(kind);
  // The reference adds (wd / 2) sum(w^2 + b^2) over the modules with a `weight` (the linear
  // layers, and PReLU's slopes), not over the splines: tfjs's l2 regularizer is l2 sum(x^2).
  const l2 = () => (weightDecay > 0 ? tfl.regularizers.l2({l2: weightDecay / 2}) : undefined);
  const dense = (args) => (lip ? spectralDense({...SPECTRAL, lipschitz: 1, ...args}) : tfl.layers.dense(args));
  const linear = (name, units, fanIn, useBias, extra = {}) => dense({
    units, name, useBias,
    kernelInitializer: torchLinearInit(fanIn, deriveSeed(seed, `${kind}:${name}:kernel`)),
    biasInitializer: torchLinearInit(fanIn, deriveSeed(seed, `${kind}:${name}:bias`)),
    kernelRegularizer: l2(),
    biasRegularizer: useBias ? l2() : undefined,
    ...extra,
  });
  const model = tfl.sequential({name: `${kind}_net`});
  let units = 2;
  widths.forEach((width, i) => {
    // The reference drops the first bias when splines follow (they have their own offset).
    model.add(linear(`dense_${i + 1}`, width, units, !(spline && i === 0), i === 0 ? {inputShape: [units]} : {}));
    const name = `act_${i + 1}`;
    if (kind === 'relu' || kind === 'relu_lip1') model.add(tfl.layers.reLU({name}));
    else if (kind === 'leaky_relu') model.add(tfl.layers.leakyReLU({alpha: 0.01, name}));
    else if (kind === 'prelu') {
      model.add(tfl.layers.prelu({name, alphaInitializer: tfl.initializers.constant({value: 0.25}),
        alphaRegularizer: l2()}));
    } else if (kind === 'groupsort_lip1') model.add(groupSort({groupSize: 2, name}));
    else {
      model.add(splineActivation({
        name, ...SPLINE,
        ...(lip ? {init: options.splineInit ?? SPLINE.init, maxSlope: 1} : {}),
        coefficientsRegularizer: lambda > 0 && !isProximal(kind) ? tv2Regularizer({lambda}) : undefined,
      }));
    }
    units = width;
  });
  model.add(linear('output', 1, units, true, lip ? {} : {activation: 'sigmoid'}));
  return model;
}
