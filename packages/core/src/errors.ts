/**
 * The errors every `@deepspline/*` package throws, so that a caller can tell ours apart from
 * tfjs's (`err instanceof DeepSplineError`) and react to the kind. The messages name the
 * function, the offending value and what was expected; the class says which kind of problem
 * it is. Each package imports these classes from `@deepspline/core`, so one class serves every
 * package (and both the ESM and CommonJS builds, which Node resolves to one copy).
 */

/**
 * The base class of every error thrown by a `@deepspline/*` package.
 *
 * @example
 * ```ts
 * import {DeepSplineError} from '@deepspline/core';
 *
 * try {
 *   model.fit(x, y, {callbacks: [lipschitzCallback({norm: 'l3'})]});
 * } catch (err) {
 *   if (!(err instanceof DeepSplineError)) throw err;  // tfjs's own errors pass through
 *   console.warn(err.message);
 * }
 * ```
 */
export class DeepSplineError extends Error {}
// The name on the prototype, written out: minified bundles rename classes.
DeepSplineError.prototype.name = 'DeepSplineError';

/**
 * A value given to one of our functions, layers or options is not what it expects: wrong
 * type, out of range, a tensor of the wrong shape or dtype, a model that is not built.
 *
 * @example
 * ```ts
 * import {ArgumentError} from '@deepspline/core';
 * import {splineActivation} from '@deepspline/layers';
 *
 * try {
 *   splineActivation({size: 2});
 * } catch (err) {
 *   console.log(err instanceof ArgumentError);  // true: 'splineActivation: expected size ...'
 * }
 * ```
 */
export class ArgumentError extends DeepSplineError {}
ArgumentError.prototype.name = 'ArgumentError';

/**
 * A value that must be finite is NaN or infinite: a number argument, a coefficient, what a
 * user function returned, a Lipschitz factor. A kind of {@link ArgumentError}.
 *
 * @example
 * ```ts
 * import {NonFiniteError, coefficientsFromFunction} from '@deepspline/core';
 *
 * try {
 *   coefficientsFromFunction(Math.log, 5, {start: -2, step: 1});  // log(-2) is NaN
 * } catch (err) {
 *   console.log(err instanceof NonFiniteError);  // true
 * }
 * ```
 */
export class NonFiniteError extends ArgumentError {}
NonFiniteError.prototype.name = 'NonFiniteError';

/**
 * A well-formed request that the packages do not support: a layer class without a Lipschitz
 * rule or exporter, `channelsFirst` data, an activation a spline cannot reproduce, a backend
 * or runtime feature that is missing.
 *
 * @example
 * ```ts
 * import {UnsupportedError} from '@deepspline/core';
 * import {lipschitzBound} from '@deepspline/lipschitz';
 *
 * try {
 *   lipschitzBound(model);
 * } catch (err) {
 *   if (err instanceof UnsupportedError) console.log('register a rule:', err.message);
 * }
 * ```
 */
export class UnsupportedError extends DeepSplineError {}
UnsupportedError.prototype.name = 'UnsupportedError';
