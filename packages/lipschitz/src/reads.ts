/**
 * One computation, two ways to read tensors. A computation that needs the values of tensors
 * is written as a generator that yields each tensor and is resumed with its values
 * ({@link TensorReads}); {@link runSync} answers with `dataSync()`, {@link runAsync} with
 * `await data()`. The bounds and certificates run synchronously in `lipschitzBound` and
 * asynchronously in `lipschitzBoundAsync` from the same code, so the two cannot drift apart.
 *
 * Why both: on the webgpu backend a synchronous read is slow everywhere (tfjs warns) and
 * impossible under headless SwiftShader (it returns zeros and then loses the device), while
 * `await data()` works on every backend.
 */
import type {Tensor, TypedArray} from '@tensorflow/tfjs-core';

/**
 * A computation that reads tensors: a generator that yields each tensor whose values it
 * needs and is resumed with them (`const values = yield tensor;`), and returns `T`. The
 * generator keeps ownership of what it yields (the driver only reads it). Write it as a
 * generator function with this return type:
 *
 * ```ts
 * function* largest(t: tf.Tensor): TensorReads<number> {
 *   const m = tf.max(t);
 *   try { return (yield m)[0]!; } finally { m.dispose(); }
 * }
 * ```
 */
export type TensorReads<T> = Generator<Tensor, T, TypedArray>;

/** Whether `value` is a generator (what a rule returns when it reads through `yield`). */
export function isTensorReads(value: unknown): value is TensorReads<unknown> {
  return value != null && typeof value === 'object' &&
    typeof (value as {next?: unknown}).next === 'function' &&
    typeof (value as {throw?: unknown}).throw === 'function' &&
    typeof (value as {[Symbol.iterator]?: unknown})[Symbol.iterator] === 'function';
}

/** Reads `t` and disposes it (also when the computation is abandoned). */
export function* take(t: Tensor): TensorReads<TypedArray> {
  try {
    return yield t;
  } finally {
    t.dispose();
  }
}

/** Runs `g`, answering every read with `dataSync()`. */
export function runSync<T>(g: TensorReads<T>): T {
  let step = g.next();
  while (!step.done) {
    let values: TypedArray;
    try {
      values = step.value.dataSync() as TypedArray;
    } catch (err) {
      step = g.throw(err);  // the generator's finally blocks dispose what it holds
      continue;
    }
    step = g.next(values);
  }
  return step.value;
}

/**
 * Runs `g`, answering every read with `await data()`: the computation never reads a tensor
 * synchronously. The weights it reads must not change while the promise is pending (do not
 * train meanwhile), as for any asynchronous read of a model's weights.
 */
export async function runAsync<T>(g: TensorReads<T>): Promise<T> {
  let step = g.next();
  while (!step.done) {
    let values: TypedArray;
    try {
      values = await step.value.data() as TypedArray;
    } catch (err) {
      step = g.throw(err);
      continue;
    }
    step = g.next(values);
  }
  return step.value;
}

/** The result of a rule or helper that may or may not read: a value, or reads giving one. */
export function* maybeReads<T>(value: T | TensorReads<T>): TensorReads<T> {
  return isTensorReads(value) ? yield* value as TensorReads<T> : value as T;
}
