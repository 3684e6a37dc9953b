/**
 * Every use of tfjs-layers' private API by `@deepspline/layers` (and, through
 * `@deepspline/layers/internal`, by `@deepspline/lipschitz`), written against tfjs 4.22, each
 * with why the public API does not suffice. When tfjs changes, this file is where to look.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type {DataType} from '@tensorflow/tfjs-core';
import type {LayerArgs, SymbolicTensor} from '@tensorflow/tfjs-layers/dist/engine/topology';
import type {Regularizer} from '@tensorflow/tfjs-layers/dist/regularizers';
import type {Constraint} from '@tensorflow/tfjs-layers/dist/constraints';
import type {Initializer} from '@tensorflow/tfjs-layers/dist/initializers';
import type {Kwargs} from '@tensorflow/tfjs-layers/dist/types';
import type {Dense, DenseLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/core';
import type {Conv2D, ConvLayerArgs} from '@tensorflow/tfjs-layers/dist/layers/convolutional';

// Types that tfjs-layers 4.22 does not export from its entry point, though its public
// signatures use them (a layer's constructor arguments, `call`'s keyword arguments, the base
// classes of regularizers and constraints, the Dense and Conv2D classes the spectral layers
// extend); type-only imports, so no second copy is loaded.
export type {Constraint, Conv2D, ConvLayerArgs, Dense, DenseLayerArgs, Kwargs, LayerArgs, Regularizer};

/**
 * A symbolic tensor with the fields `Layer.apply` sets on every output (tfjs 4.22):
 * `nodeIndex` (which call of its layer returned it) and `tensorIndex` (which output of that
 * call), missing from the published type.
 */
export type Symbolic = SymbolicTensor & {nodeIndex?: number, tensorIndex?: number};

/** One call of a layer as tfjs-layers records it (its `Node`; tfjs 4.22). */
export interface LayerCall {
  /** The symbolic tensors the call read, as built. */
  inputTensors: Symbolic[];
  /** The symbolic tensors it returned, as built. */
  outputTensors: Symbolic[];
  /** Its keyword arguments. */
  callArgs?: Kwargs;
}

/**
 * The call that returned `t`: its layer, the tensors it read, a key that is the same for every
 * output of the call, and which output `t` is. tfjs 4.22 records a functional or sequential
 * model's graph only in its symbolic tensors (`inputs`, `sourceLayer`, `nodeIndex`,
 * `tensorIndex`) and layers' `inboundNodes`; the public API has the layers (`model.layers`) but
 * not how they are connected, nor which call of a shared layer or nested model feeds which.
 */
export function symbolicCall(t: Symbolic): {layer: tfl.layers.Layer, inputs: Symbolic[], key: string, index: number} {
  const layer = t.sourceLayer as tfl.layers.Layer;
  return {layer, inputs: (t.inputs ?? []) as Symbolic[], key: `${layer.id}:${t.nodeIndex}`, index: t.tensorIndex ?? 0};
}

/**
 * The recorded call that returned `t` (`inboundNodes[nodeIndex]`, tfjs 4.22): the shapes it was
 * built at and its keyword arguments, which a rebuilt graph must pass again; no public API
 * gives a call's keyword arguments.
 */
export function callOf(t: Symbolic): LayerCall {
  return (t.sourceLayer as unknown as {inboundNodes: LayerCall[]}).inboundNodes[t.nodeIndex!]!;
}

/**
 * Throws as `layer.apply` would on inputs of these shapes and dtypes (tfjs 4.22's protected
 * `assertInputCompatibility`; it reads only the shape, rank and dtype of what it is given).
 * `computeOutputShape` alone accepts shapes a layer refuses (a Dense built for 4 features
 * called on 144), and calling `apply` would build or run the layer.
 */
export function checkInputCompatibility(layer: tfl.layers.Layer, shapes: ReadonlyArray<readonly (number | null)[]>,
    dtypes: DataType[]): void {
  (layer as unknown as {assertInputCompatibility(x: unknown[]): void}).assertInputCompatibility(
    shapes.map((shape, i) => ({shape, rank: shape.length, dtype: dtypes[i]})));
}

/**
 * A base class found at run time, typed with the static `fromConfig` it inherits from
 * `tf.serialization.Serializable` (`new cls(config)`), so a subclass whose constructor takes
 * its config needs no `fromConfig` of its own to pass `registerClass`.
 */
type SerializableBase<T> = (abstract new () => T) & Pick<typeof tf.serialization.Serializable, 'fromConfig'>;

/**
 * tfjs-layers' abstract `Regularizer` base class, from the prototype chain of a built-in
 * instance: tfjs 4.22 does not export the class from its entry point (a deep import of
 * `dist/regularizers` loads a second copy under Node), yet accepts a regularizer only if it
 * extends it.
 */
export const REGULARIZER_BASE = Object.getPrototypeOf(tfl.regularizers.l1l2().constructor) as
  SerializableBase<Regularizer>;

/** tfjs-layers' abstract `Constraint` base class, found as {@link REGULARIZER_BASE} is. */
export const CONSTRAINT_BASE = Object.getPrototypeOf(tfl.constraints.nonNeg().constructor) as
  SerializableBase<Constraint>;

/** tfjs-layers' abstract `Initializer` base class, found as {@link REGULARIZER_BASE} is. */
export const INITIALIZER_BASE = Object.getPrototypeOf(tfl.initializers.zeros().constructor) as
  SerializableBase<Initializer>;

/**
 * tfjs's registry of serializable classes (`SerializationMap`, tfjs 4.22): a plain object from
 * class name to `[class, fromConfig]`. `registerClass` is the only public entry; looking a class
 * up (is it registered, which class is registered under a name) has no public API.
 */
export function registeredClasses(): ReturnType<typeof tf.serialization.SerializationMap.getMap>['classNameMap'] {
  return tf.serialization.SerializationMap.getMap().classNameMap;
}

/**
 * Fields of a layer instance that tfjs-layers 4.22 declares private or protected (a Dense's
 * `kernel` and `activation`, a Conv's `dataFormat`, a pooling layer's `poolSize`...): a bound
 * needs the weights and the activation function themselves, which `getConfig` and
 * `getWeights` give only as names and copies. `T` names the fields read.
 */
export function layerFields<T>(layer: tfl.layers.Layer): T {
  return layer as unknown as T;
}
