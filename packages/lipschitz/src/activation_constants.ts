/** The Lipschitz constants of tfjs-layers' activation functions. */
import {UnsupportedError} from '@deepspline/core';
import type * as tfl from '@tensorflow/tfjs-layers';


/** Lipschitz constants of tfjs-layers' activation functions (by class name). */
export const ACTIVATION_LIPSCHITZ: Readonly<Record<string, number>> = Object.freeze({
  linear: 1,
  relu: 1,
  relu6: 1,
  elu: 1,               // alpha = 1 in tfjs's elu activation
  selu: 1.0507009873554805 * 1.6732632423543772,  // scale * alpha, the slope at 0-
  sigmoid: 0.25,
  hardSigmoid: 0.2,
  tanh: 1,
  softplus: 1,
  softsign: 1,
  softmax: 0.5,         // Jacobian diag(s) - s s^T: every row/column abs sum 2 s_i (1 - s_i) <= 1/2
  swish: 1.0999,        // max |d/dx x sigmoid(x)| = 1.09984...
  mish: 1.0886,         // 1.08850...
  gelu: 1.1290,         // 1.12890...
  gelu_new: 1.1291,     // 1.12899...
});

const CONTEXT = 'lipschitzBound';

/** A tfjs activation object (what a layer's `activation` field holds). */
export interface ActivationLike {
  /** The activation's registered name, e.g. `'relu'`. */
  getClassName(): string;
}

/** The Lipschitz constant of a tfjs activation object (fused or in an `ActivationLike` layer). */
export function activationConstant(act: ActivationLike | null | undefined, layer: tfl.layers.Layer): number {
  if (act == null) return 1;
  const name = act.getClassName();
  const c = Object.prototype.hasOwnProperty.call(ACTIVATION_LIPSCHITZ, name) ? ACTIVATION_LIPSCHITZ[name] : undefined;
  if (c === undefined) {
    throw new UnsupportedError(`${CONTEXT}: unsupported activation '${name}' in layer '${layer.name}'; supported: ` +
      `${Object.keys(ACTIVATION_LIPSCHITZ).join(', ')}`);
  }
  return c;
}
