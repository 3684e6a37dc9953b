/**
 * The per-layer Lipschitz rules of {@link lipschitzBound}, in one registry keyed by layer
 * class name. Adding a layer type is one {@link registerLipschitzRule} call; users bound their
 * own layers the same way (as deel-lip's `type2sv` table). The built-in rules are in
 * builtin_rules.ts.
 */
import {ArgumentError} from '@deepspline/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {describe} from '@deepspline/core/internal';
import type {Norm} from './matrix_norm.js';
import type {PowerIterationOptions} from './power_iteration.js';
import type {TensorReads} from './reads.js';


/**
 * How {@link lipschitzBound} bounds the network:
 * - `'operator'`: products of operator norms (a guaranteed upper bound);
 * - `'paper'`: the reference's (DeepSplines') number, `prod max |W| * prod sum BV2`, taken
 *   before the model's output activation as the reference computes it;
 * - `'paperOnOutput'`: the same product times the output activation's constant (for a
 *   sigmoid output, 1/4 of `'paper'`): the reference's formula applied to the probabilities.
 */
export type BoundMethod = 'operator' | 'paper' | 'paperOnOutput';

/** The bound methods, for validation messages. */
export const BOUND_METHODS: readonly BoundMethod[] = ['operator', 'paper', 'paperOnOutput'];

/** What a rule is told about the layer it bounds. */
export interface LipschitzRuleContext {
  /** The vector norm on the layer's input and output. */
  readonly norm: Norm;
  /** The bound method. */
  readonly method: BoundMethod;
  /** The layer's input shape, batch axis first (`null` for unknown sizes). */
  readonly inputShape: readonly (number | null)[];
  /**
   * Whether the layer's output is an output of the model being bounded, possibly through
   * shape-only layers (`Reshape`, `Flatten`, `Permute`, dropout and noise layers).
   */
  readonly isOutput: boolean;
  /** Options for power iterations (norm 2): pass them on to {@link matrixNorm}/{@link tensorOpNorm}. */
  readonly powerIteration: PowerIterationOptions;
  /** A key unique to this layer and input shape, for warm-start state. */
  readonly key: string;
  /**
   * The factor of an activation with Lipschitz constant `constant`: the constant itself,
   * except 1 under `method: 'paper'` for an activation that produces the model's output (the
   * reference bounds the network before its output activation).
   */
  activationFactor(constant: number): number;
}

/** A rule's answer when it can do more than give a number. */
export interface LipschitzFactor {
  /** The layer's Lipschitz factor (finite, >= 0). */
  factor: number;
  /**
   * Multiplies the layer's factor by `r` (0 < r <= 1) by changing its weights. Layers that
   * have it are the ones `lipschitzCallback({mode: 'constrain'})` shrinks; the others keep
   * their factor.
   */
  rescale?: (r: number) => void;
}

/**
 * A rule: the Lipschitz factor of one layer (a number, or a {@link LipschitzFactor}). It must
 * be an upper bound of the layer's Lipschitz constant in `context.norm` (for the `'paper'`
 * methods, the reference's per-layer quantity).
 *
 * A rule that reads tensor values should be a generator function ({@link TensorReads}):
 * `const values = yield tensor;` instead of `tensor.dataSync()`. Then {@link lipschitzBound}
 * answers with `dataSync()` and `lipschitzBoundAsync` with `await data()`, so the async bound
 * never reads synchronously (which the webgpu backend cannot do well, or at all under
 * SwiftShader). A plain function works too, but reads synchronously in both.
 *
 * @example
 * ```ts
 * // a layer that multiplies its input by a trainable scalar `scale`
 * registerLipschitzRule('Scale', function* (layer) {
 *   const s = tf.abs((layer as Scale).scale.read());
 *   try { return (yield s)[0]!; } finally { s.dispose(); }
 * });
 * ```
 */
export type LipschitzRule = (layer: tfl.layers.Layer, context: LipschitzRuleContext) =>
  number | LipschitzFactor | TensorReads<number | LipschitzFactor>;

const RULES = new Map<string, LipschitzRule>();

/**
 * Registers (or replaces) the rule of the layers whose `getClassName()` is `className`.
 *
 * @example
 * ```ts
 * // a layer that multiplies its input by a fixed scale
 * registerLipschitzRule('Scale', (layer) => Math.abs((layer as Scale).scale));
 * ```
 */
export function registerLipschitzRule(className: string, rule: LipschitzRule): void {
  if (typeof className !== 'string' || className === '') {
    throw new ArgumentError(`registerLipschitzRule: expected a layer class name (non-empty string), got ${describe(className)}`);
  }
  if (typeof rule !== 'function') {
    throw new ArgumentError(`registerLipschitzRule: expected a rule function (layer, context) => factor for ` +
      `'${className}', got ${describe(rule)}`);
  }
  RULES.set(className, rule);
}

/** The rule registered for `className`, or `undefined`. */
export function lipschitzRule(className: string): LipschitzRule | undefined {
  return RULES.get(className);
}

/** Class names that have a rule, sorted. */
export function lipschitzRuleNames(): string[] {
  return [...RULES.keys()].sort();
}
