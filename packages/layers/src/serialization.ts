/**
 * Resolving and serializing regularizers and constraints exactly as tfjs-layers' built-in
 * layers do (its `getRegularizer`, `getConstraint`, `serializeRegularizer`,
 * `serializeConstraint`): an instance, a name (`'l1l2'`, `'nonNeg'`, `'maxNorm'`,
 * `'minMaxNorm'`, `'unitNorm'` or a registered class name) or `{className, config}`.
 *
 * Why a copy: those helpers live in `@tensorflow/tfjs-layers/dist/{regularizers,constraints}`
 * and are not exported from the package's index; no public route reaches them
 * (`tfl.regularizers` and `tfl.constraints` hold only the factories, `tf.serialization` only
 * the class registry), and a deep runtime import loads a second copy of tfjs-layers under
 * Node, whose base classes fail tfjs's `instanceof` checks. Resolving through a throwaway
 * built-in layer would consume a layer id and rely on that layer's internals. So this module
 * repeats tfjs's rules, and layers/test/serialization_rules.test.ts holds it to what
 * `tf.layers.dense` resolves and serializes for every kind of input; only the error messages
 * differ (they name the layer and the registered classes), and a registered class that is not
 * a regularizer (constraint) is refused here, where tfjs accepts it and fails in `fit`.
 */
import {ArgumentError, UnsupportedError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import {describe} from '@deepspline/core/internal';
import {CONSTRAINT_BASE, REGULARIZER_BASE, registeredClasses} from './tfjs_internals.js';
import type {Constraint, Regularizer} from './tfjs_internals.js';

/** A serialized Keras-style object. */
export interface SerializedObject {
  /** The registered class name, e.g. `'TV2'` (`TV2Regularizer` of `@deepspline/lipschitz`). */
  className: string;
  /** The object's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

// tfjs's identifier maps (REGULARIZER_IDENTIFIER_REGISTRY_SYMBOL_MAP and its constraint
// twin). Maps, so that names such as 'constructor' do not find Object.prototype members.
const REGULARIZER_NAMES = new Map([['l1l2', 'L1L2']]);
const CONSTRAINT_NAMES = new Map([['maxNorm', 'MaxNorm'], ['minMaxNorm', 'MinMaxNorm'],
  ['nonNeg', 'NonNeg'], ['unitNorm', 'UnitNorm']]);

/**
 * Whether `className` is registered with `tf.serialization`. tfjs's class map is a plain
 * object, so only its own keys count (`'constructor'` and `'toString'` are not classes).
 */
export function isRegisteredClass(className: string): boolean {
  const map = registeredClasses();
  return Object.prototype.hasOwnProperty.call(map, className);
}

/**
 * The classes of our other packages that a saved model may name, with what they are and the
 * package whose import registers them (loading a model needs that import first).
 */
const PROVIDED_BY = new Map<string, {kind: 'regularizer' | 'constraint' | 'initializer' | 'layer', provider: string}>([
  ...['TV2', 'BV2', 'LorthRegularizer', 'OrthDenseRegularizer'].map((name): [string, {kind: 'regularizer', provider: string}] =>
    [name, {kind: 'regularizer', provider: '@deepspline/lipschitz'}]),
  ...['SpectralConstraint', 'FrobeniusConstraint', 'WeightClipConstraint', 'AutoWeightClipConstraint'].map(
    (name): [string, {kind: 'constraint', provider: string}] => [name, {kind: 'constraint', provider: '@deepspline/lipschitz'}]),
  ['SpectralInitializer', {kind: 'initializer', provider: '@deepspline/lipschitz'}],
  ['SpectralDense', {kind: 'layer', provider: '@deepspline/lipschitz'}],
  ['SpectralConv2D', {kind: 'layer', provider: '@deepspline/lipschitz'}],
  ['GroupSort', {kind: 'layer', provider: '@deepspline/lipschitz'}],
  ...['SpectralConv2DTranspose', 'FrobeniusDense', 'FrobeniusConv2D', 'PadConv2D', 'ScaledAveragePooling2D',
    'ScaledL2NormPooling2D', 'ScaledGlobalAveragePooling2D', 'ScaledGlobalL2NormPooling2D', 'InvertibleDownSampling',
    'InvertibleUpSampling', 'FullSort', 'Householder'].map((name): [string, {kind: 'layer', provider: string}] =>
    [name, {kind: 'layer', provider: '@deepspline/lipschitz'}]),
]);

// Stand-ins for the layers until the providing package registers the real classes, so that
// loading a saved model without that import names it (tfjs's own message is "Unknown layer:
// SpectralDense"). The provider imports this package, so its registration always comes later
// and replaces these.
for (const [className, {kind, provider}] of PROVIDED_BY) {
  if (kind !== 'layer' || isRegisteredClass(className)) continue;
  const standIn = {
    className,
    fromConfig(): never {
      throw new UnsupportedError(`${className} is a layer of ${provider}: import '${provider}' before loading ` +
        `or deserializing a model that holds one`);
    },
  };
  tf.serialization.registerClass(standIn as unknown as tf.serialization.SerializableConstructor<
    tf.serialization.Serializable>);
}

function fromRegistry(obj: SerializedObject, kind: string, base: abstract new () => unknown,
    context: string): tf.serialization.Serializable {
  const map = registeredClasses();
  const entry = isRegisteredClass(obj.className) ? map[obj.className] : undefined;
  if (entry == null) {
    // the registered classes of this kind (a handful), not every layer and initializer
    const known = Object.keys(map).filter((name) => isRegisteredClass(name) && map[name][0].prototype instanceof base)
      .sort().join(', ');
    const provider = PROVIDED_BY.get(obj.className)?.provider;
    const fix = provider != null
      ? `it is registered by ${provider}: import '${provider}' before creating or loading the model`
      : 'register it with tf.serialization.registerClass';
    throw new ArgumentError(`${context}: unknown ${kind} class ${describe(obj.className)}; ${fix} ` +
      `(known ${kind} classes: ${known || 'none'})`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, {...obj.config});
}

function resolve<T>(identifier: unknown, kind: string, names: Map<string, string>,
    base: abstract new () => T, context: string): T | undefined {
  if (identifier == null) return undefined;
  if (identifier instanceof base) return identifier;
  const expected = `${context}: expected a ${kind} (an instance, a name or {className, config}), ` +
    `got ${describe(identifier)}`;
  let made: tf.serialization.Serializable;
  const obj = identifier as Partial<SerializedObject>;
  if (typeof identifier === 'string') {
    made = fromRegistry({className: names.get(identifier) ?? identifier, config: {}}, kind, base, context);
  } else if (typeof identifier === 'object' && typeof obj.className === 'string' &&
      obj.config != null && typeof obj.config === 'object') {
    made = fromRegistry(obj as SerializedObject, kind, base, context);
  } else {
    throw new ArgumentError(expected);
  }
  // tfjs accepts any registered class here (a Dense, a constraint as a regularizer) and fails
  // only in fit, e.g. with "variableGrads ... scalar"; refuse it now.
  if (!(made instanceof base)) {
    throw new ArgumentError(`${expected}, which makes a ${made.getClassName()}, not a ${kind}`);
  }
  return made;
}

/**
 * A regularizer from an instance of tfjs's `Regularizer`, a name (`'l1l2'` or a registered
 * class name) or `{className, config}`; `undefined` for `null`/`undefined`.
 */
export function resolveRegularizer(identifier: unknown, context: string): Regularizer | undefined {
  return resolve(identifier, 'regularizer', REGULARIZER_NAMES, REGULARIZER_BASE, context);
}

/**
 * A constraint from an instance of tfjs's `Constraint`, a name (`'nonNeg'`, `'maxNorm'`,
 * `'minMaxNorm'`, `'unitNorm'` or a registered class name) or `{className, config}`.
 */
export function resolveConstraint(identifier: unknown, context: string): Constraint | undefined {
  return resolve(identifier, 'constraint', CONSTRAINT_NAMES, CONSTRAINT_BASE, context);
}

/** `{className, config}` of a serializable object, or `null` (tfjs's `serializeKerasObject`). */
export function serializeObject(obj: tf.serialization.Serializable | undefined): SerializedObject | null {
  if (obj == null) return null;
  return {className: obj.getClassName(), config: obj.getConfig()};
}
