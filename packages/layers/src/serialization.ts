/**
 * Resolving and serializing regularizers and constraints the way tfjs-layers' built-in layers
 * do (their helpers are not exported): a shorthand name, a `{className, config}` object of a
 * registered class, or an instance.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import {describe} from '@deepspline/core/internal';
import type {Regularizer} from '@tensorflow/tfjs-layers/dist/regularizers';
import type {Constraint} from '@tensorflow/tfjs-layers/dist/constraints';

/** A serialized Keras-style object. */
export interface SerializedObject {
  /** The registered class name, e.g. `'TV2'` (`TV2Regularizer` of `@deepspline/lipschitz`). */
  className: string;
  /** The object's `getConfig()`. */
  config: tf.serialization.ConfigDict;
}

// Maps, so that names such as 'constructor' or 'toString' do not find Object.prototype members.
const REGULARIZER_SHORTHANDS = new Map<string, () => Regularizer>([
  ['l1', () => tfl.regularizers.l1()],
  ['l2', () => tfl.regularizers.l2()],
  ['l1l2', () => tfl.regularizers.l1l2()],
]);

const CONSTRAINT_SHORTHANDS = new Map<string, () => Constraint>([
  ['nonNeg', () => tfl.constraints.nonNeg()],
  ['unitNorm', () => tfl.constraints.unitNorm({})],
  ['maxNorm', () => tfl.constraints.maxNorm({})],
  ['minMaxNorm', () => tfl.constraints.minMaxNorm({})],
]);

/**
 * Whether `className` is registered with `tf.serialization`. tfjs's class map is a plain
 * object, so only its own keys count (`'constructor'` and `'toString'` are not classes).
 */
export function isRegisteredClass(className: string): boolean {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  return Object.prototype.hasOwnProperty.call(map, className);
}

function fromRegistry(obj: SerializedObject, kind: string, context: string): tf.serialization.Serializable {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const entry = isRegisteredClass(obj.className) ? map[obj.className] : undefined;
  if (entry == null) {
    throw new Error(`${context}: unknown ${kind} class ${describe(obj.className)}; register it ` +
      `with tf.serialization.registerClass (known: ${Object.keys(map).sort().join(', ')})`);
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, obj.config ?? {});
}

function resolve<T>(identifier: unknown, kind: string, shorthands: Map<string, () => T>,
    isInstance: (v: unknown) => boolean, context: string): T | undefined {
  if (identifier == null) return undefined;
  if (isInstance(identifier)) return identifier as T;
  if (typeof identifier === 'string') {
    const make = shorthands.get(identifier);
    if (make != null) return make();
    return fromRegistry({className: identifier, config: {}}, kind, context) as unknown as T;
  }
  if (typeof identifier === 'object' && typeof (identifier as SerializedObject).className === 'string') {
    return fromRegistry(identifier as SerializedObject, kind, context) as unknown as T;
  }
  throw new Error(`${context}: expected a ${kind} (an instance, a name or {className, config}), ` +
    `got ${describe(identifier)}`);
}

/** A regularizer from an instance, a name (`'l1'`, `'l2'`, `'l1l2'`) or `{className, config}`. */
export function resolveRegularizer(identifier: unknown, context: string): Regularizer | undefined {
  return resolve<Regularizer>(identifier, 'regularizer', REGULARIZER_SHORTHANDS,
    (v) => v != null && typeof (v as Regularizer).apply === 'function' &&
      typeof (v as Regularizer).getConfig === 'function', context);
}

/** A constraint from an instance, a name (`'nonNeg'`, ...) or `{className, config}`. */
export function resolveConstraint(identifier: unknown, context: string): Constraint | undefined {
  return resolve<Constraint>(identifier, 'constraint', CONSTRAINT_SHORTHANDS,
    (v) => v != null && typeof (v as Constraint).apply === 'function' &&
      typeof (v as Constraint).getConfig === 'function', context);
}

/** `{className, config}` of a serializable object, or `null`. */
export function serializeObject(obj: tf.serialization.Serializable | undefined): SerializedObject | null {
  if (obj == null) return null;
  return {className: obj.getClassName(), config: obj.getConfig()};
}
