/**
 * Every use of tfjs's private API by `@deepspline/lipschitz`, written against tfjs 4.22, each
 * with why the public API does not suffice. (tfjs-layers' private API, the graph and the
 * layers' own fields, is reached through `@deepspline/layers/internal`.) When tfjs changes,
 * this file is where to look.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor, Variable} from '@tensorflow/tfjs-core';

/**
 * Runs `fn` in an engine scope that disposes every tensor it creates (`engine().startScope` /
 * `endScope`, tfjs 4.22): `tf.tidy` does the same but types its result as a tensor container,
 * and the callers return plain objects of numbers.
 */
export function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try { return fn(); } finally { tf.engine().endScope(); }
}

/**
 * Frees what a failed backward pass left on the engine's tape (`engine().state.gradientDepth`
 * and `activeTape`, tfjs 4.22): when a kernel has no gradient kernel on this backend,
 * `engine.gradients` throws and keeps the tensors it saved for the pass (it frees them only
 * after a complete one); no public API reaches them.
 */
export function freeFailedTape(): void {
  const state = (tf.engine() as unknown as {state: {gradientDepth: number,
    activeTape: {saved: Tensor[]}[] | null}}).state;
  if (state.gradientDepth === 0 && state.activeTape != null) {
    for (const node of state.activeTape) node.saved.forEach((t) => t.dispose());
    state.activeTape = null;
  }
}

/**
 * The variable registered under `name` (`engine().registeredVariables`, tfjs 4.22): an
 * optimizer's `applyGradients` gets gradients keyed by variable name, and only the engine's
 * registry maps a name back to its variable.
 */
export function registeredVariable(name: string): Variable | undefined {
  return tf.engine().registeredVariables[name];
}

/**
 * An optimizer's learning rate (tfjs 4.22's optimizers hold it in a protected `learningRate`
 * field, with no getter or setter): the proximal step scales with it, and a schedule sets it.
 */
export function learningRateOf(optimizer: tf.Optimizer): unknown {
  return (optimizer as unknown as {learningRate?: unknown}).learningRate;
}

/** Sets an optimizer's protected `learningRate` (see {@link learningRateOf}). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  (optimizer as unknown as {learningRate: number}).learningRate = lr;
}
