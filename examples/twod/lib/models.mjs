/**
 * The networks of the 2-D benchmark: 2 -> 4 -> 4 -> 1 with a sigmoid output and one of five
 * activation choices. Every initializer is seeded, so a model is a pure function of its
 * arguments.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {splineActivation} from '@deepspline/layers';
import {deriveSeed} from './prng.mjs';

/** The model kinds, in table order, with a human label. */
export const MODELS = {
  relu: 'ReLU',
  leaky_relu: 'LeakyReLU (0.01)',
  prelu: 'PReLU',
  spline: 'Deep spline, TV(2)',
  spline_lip1: 'Deep spline, TV(2), Lipschitz <= 1',
};

/** Whether a model kind uses spline activations. */
export const isSpline = (kind) => kind === 'spline' || kind === 'spline_lip1';

/**
 * Builds one benchmark network (not compiled).
 * @param {string} kind one of the keys of MODELS
 * @param {{seed: number, lambda: number, weightDecay: number, size?: number, range?: number,
 *   widths?: number[], makeTv2: (lambda: number) => object}} options `makeTv2` creates the
 *   TV(2) regularizer of the spline coefficients.
 */
export function buildModel(kind, options) {
  if (!(kind in MODELS)) {
    throw new Error(`unknown model ${JSON.stringify(kind)}; expected one of ${Object.keys(MODELS).join(', ')}`);
  }
  const {seed, lambda, weightDecay} = options;
  const widths = options.widths ?? [4, 4];
  const spline = isSpline(kind);
  // PyTorch's Adam weight_decay adds wd * w to the gradient: an L2 penalty (wd / 2) ||w||^2.
  const l2 = () => (weightDecay > 0 ? tfl.regularizers.l2({l2: weightDecay / 2}) : undefined);
  const model = tfl.sequential({name: `${kind}_net`});
  let units = 2;
  widths.forEach((width, i) => {
    model.add(tfl.layers.dense({
      units: width,
      name: `dense_${i + 1}`,
      ...(i === 0 ? {inputShape: [units]} : {}),
      useBias: !(spline && i === 0),  // the reference drops the first bias with splines
      kernelInitializer: tfl.initializers.glorotUniform({seed: deriveSeed(seed, `${kind}:kernel_${i + 1}`) % 1e9}),
      kernelRegularizer: l2(),
      biasRegularizer: l2(),
    }));
    const name = `act_${i + 1}`;
    if (kind === 'relu') model.add(tfl.layers.reLU({name}));
    else if (kind === 'leaky_relu') model.add(tfl.layers.leakyReLU({alpha: 0.01, name}));
    else if (kind === 'prelu') {
      model.add(tfl.layers.prelu({name, alphaInitializer: tfl.initializers.constant({value: 0.25})}));
    } else {
      model.add(splineActivation({
        name,
        size: options.size ?? 21,
        range: options.range ?? 1,
        init: 'leaky_relu',
        coefficientsRegularizer: lambda > 0 ? options.makeTv2(lambda) : undefined,
      }));
    }
    units = width;
  });
  model.add(tfl.layers.dense({
    units: 1,
    name: 'output',
    activation: 'sigmoid',
    kernelInitializer: tfl.initializers.glorotUniform({seed: deriveSeed(seed, `${kind}:kernel_out`) % 1e9}),
    kernelRegularizer: l2(),
    biasRegularizer: l2(),
  }));
  return model;
}
