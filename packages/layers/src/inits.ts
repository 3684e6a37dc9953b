/** Named initial functions of spline activations (the reference's `init` options). */
import {ArgumentError} from '@deepspline/core';
import {describe} from '@deepspline/core/internal';

/** Names accepted by `init`. */
export const SPLINE_INIT_NAMES = ['leaky_relu', 'relu', 'identity', 'abs', 'even_odd', 'softplus',
  'tanh'] as const;

/** A named initial function. */
export type SplineInitName = typeof SPLINE_INIT_NAMES[number];

/**
 * The initial activation: a name, a function `(x) => y` sampled at the knots, or the
 * `size` initial coefficients themselves (what a function init serializes to).
 */
export type SplineInit = SplineInitName | ((x: number) => number) | number[];

/**
 * The spelling tfjs-layers gives a snake_case string when it loads a model: `convertPythonicToTs`
 * camel-cases every string value of a saved config except `name`s (`'leaky_relu'` comes back
 * as `'leakyRelu'`). The same rule as its `toCamelCase`, which is not exported.
 */
function tfjsCamelCase(name: string): string {
  return name.replace(/_+(\w|$)/g, (_m, c: string) => c.toUpperCase());
}

/**
 * Every accepted spelling of a named init (canonical and as tfjs loads it) -> canonical name.
 * A Map, so that `'constructor'` or `'toString'` are not found on Object.prototype.
 */
const INIT_SPELLINGS = new Map<string, SplineInitName>(SPLINE_INIT_NAMES
  .flatMap((name) => [[name, name], [tfjsCamelCase(name), name]]));

/** Negative-side slope of the `'leaky_relu'` init (the reference's). */
export const LEAKY_RELU_SLOPE = 0.01;

const softplus = (x: number) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
const softShrink = (x: number, l: number) => (x > l ? x - l : x < -l ? x + l : 0);

/**
 * The function of a named init for channel `channel` of `channels`. `'even_odd'` follows the
 * reference: the first half of the channels (`floor(C/2)`) start as `|x|` (even), the others
 * as the soft threshold with threshold 0.5 (odd); a shared spline is odd.
 */
export function namedInit(name: SplineInitName, channel: number, channels: number):
    (x: number) => number {
  switch (name) {
    case 'leaky_relu': return (x) => (x >= 0 ? x : LEAKY_RELU_SLOPE * x);
    case 'relu': return (x) => Math.max(x, 0);
    case 'identity': return (x) => x;
    case 'abs': return (x) => Math.abs(x);
    case 'softplus': return softplus;
    case 'tanh': return Math.tanh;
    case 'even_odd':
      return channel < Math.floor(channels / 2) ? Math.abs : (x) => softShrink(x, 0.5);
    default:
      throw new ArgumentError(`splineActivation: unknown init ${describe(name)}; expected one of ` +
        `${SPLINE_INIT_NAMES.join(', ')}, a function (x: number) => number, or an array of ` +
        `coefficients`);
  }
}

/**
 * Checks `init` against `size`; a name comes back canonical (so a loaded layer's `init` is
 * `'leaky_relu'`, not tfjs's `'leakyRelu'`). Throws a clear error for anything else.
 */
export function checkInit(init: unknown, size: number): SplineInit {
  if (typeof init === 'function') return init as (x: number) => number;
  if (typeof init === 'string') {
    const name = INIT_SPELLINGS.get(init);
    if (name !== undefined) return name;
    namedInit(init as SplineInitName, 0, 1);  // throws the unknown-init error
  }
  if (Array.isArray(init)) {
    if (init.length !== size || !init.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ArgumentError(`splineActivation: expected init as an array of ${size} finite numbers ` +
        `(one per coefficient), got ${describe(init)}`);
    }
    return init.slice();
  }
  throw new ArgumentError(`splineActivation: unknown init ${describe(init)}; expected one of ` +
    `${SPLINE_INIT_NAMES.join(', ')}, a function (x: number) => number, or an array of ` +
    `coefficients`);
}
