/**
 * The Lipschitz tools this example uses, from `@deepspline/lipschitz`, behind the small
 * interface the benchmark needs.
 */
import * as lip from '@deepspline/lipschitz';

/** Where the Lipschitz tools come from (printed in the header). */
export const LIPSCHITZ_SOURCE = '@deepspline/lipschitz';

/** The TV(2) regularizer of spline coefficients. */
export const tv2 = (args) => lip.tv2(args);

/** The l2 Lipschitz bound of a model by a method ('operator' or 'paper'). */
export const lipschitzBound = (model, options) => lip.lipschitzBound(model, options);

/** The Lipschitz callback of `fit`. */
export const lipschitzCallback = (args) => lip.lipschitzCallback(args);

/** Total active knots (|a_k| > threshold) over every spline layer. */
export const activeKnots = (model, threshold) => lip.activeKnots(model, threshold).total;
