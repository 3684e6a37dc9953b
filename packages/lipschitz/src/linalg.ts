/**
 * Operator norms of linear maps: dense matrices in float64 JavaScript, and linear tensor
 * functions (convolutions, average pooling) by power iteration on the operator itself, with
 * its adjoint obtained by automatic differentiation.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';

/** A vector norm: 1, 2 or Infinity. */
export type Norm = 1 | 2 | typeof Infinity;

/** Throws unless `norm` is 1, 2 or Infinity. */
export function checkNorm(norm: unknown, context: string): Norm {
  if (norm !== 1 && norm !== 2 && norm !== Infinity) {
    throw new Error(`${context}: expected norm to be 1, 2 or Infinity, got ${String(norm)}`);
  }
  return norm as Norm;
}

/** Options of the power iterations (norm 2). */
export interface PowerIterationOptions {
  /** Maximum iterations per operator. Default 500 (dense, float64) / 300 (convolutions). */
  maxIterations?: number;
  /** Stop when the estimate changes by less than this, relatively. Default 1e-10 / 1e-7. */
  tolerance?: number;
  /**
   * Keeps the leading singular vector of every operator between calls (warm start), so that
   * repeated calls on slowly changing weights converge in a few iterations.
   */
  state?: PowerIterationState;
}

/**
 * Warm-start storage for power iterations: the last leading right-singular vector of each
 * operator, keyed by layer and input shape. Plain arrays (no tensors), so nothing to dispose.
 */
export class PowerIterationState {
  private readonly vectors = new Map<string, Float64Array>();

  /** The stored vector for `key` if it has length `n`. */
  get(key: string, n: number): Float64Array | undefined {
    const v = this.vectors.get(key);
    return v != null && v.length === n ? v : undefined;
  }

  /** Stores a vector. */
  set(key: string, v: Float64Array): void { this.vectors.set(key, v); }

  /** Forgets every vector. */
  clear(): void { this.vectors.clear(); }

  /** Number of stored vectors. */
  get size(): number { return this.vectors.size; }
}

/** Deterministic pseudo-random start vector in [-1, 1] (mulberry32), never all zero. */
export function startVector(n: number, seed = 12345): Float64Array {
  let a = seed >>> 0;
  const v = new Float64Array(n);
  for (let i = 0; i < n; ++i) {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    v[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1 + 0.05;
  }
  return v;
}

function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; ++i) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

/**
 * Operator norm of the map `x -> x W` (row vectors) for a row-major matrix `W` of shape
 * `[rows, cols]` (a tfjs dense kernel `[in, out]`), in float64:
 * - `p = 1`: the largest absolute row sum of `W` (each input feeds one row);
 * - `p = Infinity`: the largest absolute column sum of `W` (each output is one column);
 * - `p = 2`: the largest singular value, by power iteration on `W W^T`.
 */
export function matrixNorm(w: ArrayLike<number>, rows: number, cols: number, p: Norm,
    options: PowerIterationOptions = {}, key = 'matrix'): number {
  if (rows === 0 || cols === 0) return 0;
  if (p === 1) {
    let best = 0;
    for (let i = 0; i < rows; ++i) {
      let s = 0;
      for (let j = 0; j < cols; ++j) s += Math.abs(w[i * cols + j]!);
      best = Math.max(best, s);
    }
    return best;
  }
  if (p === Infinity) {
    const s = new Float64Array(cols);
    for (let i = 0; i < rows; ++i) {
      for (let j = 0; j < cols; ++j) s[j] += Math.abs(w[i * cols + j]!);
    }
    return Math.max(...s);
  }
  const maxIterations = options.maxIterations ?? 500;
  const tolerance = options.tolerance ?? 1e-10;
  const stored = options.state?.get(key, rows);
  let v = stored != null ? Float64Array.from(stored) : startVector(rows);
  let nv = norm2(v);
  if (!(nv > 0)) { v = startVector(rows); nv = norm2(v); }
  for (let i = 0; i < rows; ++i) v[i] /= nv;
  const u = new Float64Array(cols);
  const next = new Float64Array(rows);
  let sigma = 0;
  for (let it = 0; it < maxIterations; ++it) {
    u.fill(0);
    for (let i = 0; i < rows; ++i) {
      const vi = v[i]!;
      if (vi === 0) continue;
      const base = i * cols;
      for (let j = 0; j < cols; ++j) u[j] += vi * w[base + j]!;
    }
    const nu = norm2(u);
    if (!(nu > 0)) {
      if (it === 0 && stored != null) {  // a stale vector in the null space: restart
        v = startVector(rows);
        const n0 = norm2(v);
        for (let i = 0; i < rows; ++i) v[i] /= n0;
        continue;
      }
      break;
    }
    for (let i = 0; i < rows; ++i) {
      let s = 0;
      const base = i * cols;
      for (let j = 0; j < cols; ++j) s += w[base + j]! * u[j]!;
      next[i] = s;
    }
    const nn = norm2(next);
    const estimate = Math.max(nu, nn / nu);  // both are lower bounds of sigma_max
    for (let i = 0; i < rows; ++i) v[i] = next[i]! / nn;
    const done = Math.abs(estimate - sigma) <= tolerance * estimate;
    sigma = Math.max(sigma, estimate);
    if (done) break;
  }
  options.state?.set(key, v);
  return sigma;
}

/** A linear map on tensors of shape `[1, ...inShape]` and the same map with |weights|. */
export interface LinearTensorOp {
  /** The input shape without the batch axis. */
  inShape: number[];
  /** The linear map (no bias, no activation). */
  apply(x: Tensor): Tensor;
  /** The map with every weight replaced by its absolute value (for the 1 and Inf norms). */
  applyAbs(x: Tensor): Tensor;
}

/** Runs `fn` in an engine scope that disposes every tensor it creates (non-tensor results). */
function scoped<T>(fn: () => T): T {
  tf.engine().startScope();
  try { return fn(); } finally { tf.engine().endScope(); }
}

function tensorAdjoint(op: LinearTensorOp, u: Tensor, at: Tensor): Tensor {
  return tf.grad((x: Tensor) => tf.sum(tf.mul(op.apply(x), u)))(at);
}

/**
 * Operator norm of a linear tensor map for the flattened input and output:
 * - `p = Infinity`: largest absolute row sum, `max(|A| 1)` (exact);
 * - `p = 1`: largest absolute column sum, `max(|A|^T 1)` (exact; the adjoint by autodiff);
 * - `p = 2`: power iteration on `A^T A` (the adjoint by autodiff), float32.
 */
export function tensorOpNorm(op: LinearTensorOp, p: Norm, options: PowerIterationOptions = {},
    key = 'op'): number {
  const shape = [1, ...op.inShape];
  const n = op.inShape.reduce((a, b) => a * b, 1);
  if (n === 0) return 0;
  if (p === Infinity) {
    return scoped(() => tf.max(op.applyAbs(tf.ones(shape))).dataSync()[0]!);
  }
  if (p === 1) {
    return scoped(() => {
      const g = tf.grad((x: Tensor) => tf.sum(op.applyAbs(x)))(tf.ones(shape));
      return tf.max(g).dataSync()[0]!;
    });
  }
  const maxIterations = options.maxIterations ?? 300;
  const tolerance = options.tolerance ?? 1e-7;
  const stored = options.state?.get(key, n);
  let vData = stored != null ? stored : startVector(n);
  let sigma = 0;
  for (let it = 0; it < maxIterations; ++it) {
    const [estimate, next] = scoped(() => {
      const v0 = tf.tensor(Float32Array.from(vData), shape);
      const v = tf.div(v0, tf.norm(v0));
      const u = op.apply(v);
      const nu = tf.norm(u).dataSync()[0]!;
      if (!(nu > 0)) return [0, null] as const;
      const w = tensorAdjoint(op, u, v);
      const nw = tf.norm(w).dataSync()[0]!;
      return [Math.max(nu, nw / nu), Float64Array.from(tf.div(w, nw).dataSync())] as const;
    });
    if (next == null) {
      if (it === 0 && stored != null) { vData = startVector(n); continue; }
      break;
    }
    vData = next;
    const done = Math.abs(estimate - sigma) <= tolerance * estimate;
    sigma = Math.max(sigma, estimate);
    if (done) break;
  }
  options.state?.set(key, vData);
  return sigma;
}
