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
  /**
   * Maximum operator applications (`A^T A v`) per operator. Default 500 (dense, float64) /
   * 300 (convolutions, float32).
   */
  maxIterations?: number;
  /**
   * Operators with at most this many matrix entries (inputs x outputs) are turned into their
   * exact matrix (one batched call on the identity) and handled in float64; larger ones are
   * iterated matrix-free on tensors. Default 1e6; 0 forces the matrix-free path.
   */
  explicitLimit?: number;
  /** Relative Ritz residual (or change between restarts) at which the iteration stops. Default 1e-12 / 1e-6. */
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

/** Eigen-decomposition of a small symmetric matrix (row-major n x n) by cyclic Jacobi. */
function symmetricEigen(aIn: Float64Array, n: number): {values: Float64Array, vectors: Float64Array} {
  const a = Float64Array.from(aIn);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; ++i) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 60; ++sweep) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; ++p) {
      diag += a[p * n + p]! ** 2;
      for (let q = p + 1; q < n; ++q) off += a[p * n + q]! ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n; ++p) {
      for (let q = p + 1; q < n; ++q) {
        const apq = a[p * n + q]!;
        if (apq === 0) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; ++k) {
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; ++k) {
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; ++k) {
          const vkp = v[k * n + p]!, vkq = v[k * n + q]!;
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; ++i) values[i] = a[i * n + i]!;
  return {values, vectors: v};
}

/**
 * Largest eigenvalue of a symmetric positive semi-definite operator given by `matvec`
 * (here always `A^T A`), by restarted Lanczos with full reorthogonalization, started from
 * `start`. Returns the eigenvalue (a Ritz value: from below) and its Ritz vector. Lanczos
 * converges much faster than plain power iteration when the top eigenvalues are clustered,
 * as they are for convolution operators.
 */
export function topEigen(matvec: (v: Float64Array) => Float64Array, n: number, start: Float64Array,
    maxMatvecs: number, tolerance: number): {value: number, vector: Float64Array} {
  let x: Float64Array = Float64Array.from(start);
  let nx = norm2(x);
  if (!(nx > 0)) { x = startVector(n); nx = norm2(x); }
  for (let i = 0; i < n; ++i) x[i] /= nx;
  let best = 0;
  let used = 0;
  const steps = Math.max(1, Math.min(n, 40));
  while (used < maxMatvecs) {
    const basis: Float64Array[] = [x];
    const alpha: number[] = [];
    const beta: number[] = [];
    let residual = 0;
    for (let j = 0; j < steps && used < maxMatvecs; ++j) {
      const w = matvec(basis[j]!);
      ++used;
      // full reorthogonalization (twice, for float32 matvecs)
      let a = 0;
      for (let i = 0; i < n; ++i) a += w[i]! * basis[j]![i]!;
      alpha.push(a);
      for (let pass = 0; pass < 2; ++pass) {
        for (const b of basis) {
          let d = 0;
          for (let i = 0; i < n; ++i) d += w[i]! * b[i]!;
          for (let i = 0; i < n; ++i) w[i] -= d * b[i]!;
        }
      }
      const nb = norm2(w);
      residual = nb;
      if (j === steps - 1 || !(nb > 1e-12 * Math.max(1, Math.abs(a)))) break;
      beta.push(nb);
      for (let i = 0; i < n; ++i) w[i] /= nb;
      basis.push(w);
    }
    const m = alpha.length;
    const t = new Float64Array(m * m);
    for (let i = 0; i < m; ++i) {
      t[i * m + i] = alpha[i]!;
      if (i + 1 < m) { t[i * m + i + 1] = beta[i]!; t[(i + 1) * m + i] = beta[i]!; }
    }
    const {values, vectors} = symmetricEigen(t, m);
    let top = 0;
    for (let i = 1; i < m; ++i) if (values[i]! > values[top]!) top = i;
    const theta = values[top]!;
    const ritz = new Float64Array(n);
    for (let k = 0; k < m; ++k) {
      const y = vectors[k * m + top]!;
      for (let i = 0; i < n; ++i) ritz[i] += y * basis[k]![i]!;
    }
    const nr = norm2(ritz);
    for (let i = 0; i < n; ++i) ritz[i] /= nr;
    // Ritz residual ||(A^T A) r - theta r|| = beta_m |y_m|
    const lastY = Math.abs(vectors[(m - 1) * m + top]!);
    const change = Math.abs(theta - best);
    best = Math.max(best, theta);
    x = ritz;
    if (residual * lastY <= tolerance * theta || m < steps || change <= tolerance * theta) break;
  }
  return {value: best, vector: x};
}

/**
 * Operator norm of the map `x -> x W` (row vectors) for a row-major matrix `W` of shape
 * `[rows, cols]` (a tfjs dense kernel `[in, out]`), in float64:
 * - `p = 1`: the largest absolute row sum of `W` (each input feeds one row);
 * - `p = Infinity`: the largest absolute column sum of `W` (each output is one column);
 * - `p = 2`: the largest singular value, by Lanczos iteration on `W W^T`.
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
  const u = new Float64Array(cols);
  const matvec = (v: Float64Array): Float64Array => {  // W W^T v
    u.fill(0);
    for (let i = 0; i < rows; ++i) {
      const vi = v[i]!;
      if (vi === 0) continue;
      const base = i * cols;
      for (let j = 0; j < cols; ++j) u[j] += vi * w[base + j]!;
    }
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; ++i) {
      let s = 0;
      const base = i * cols;
      for (let j = 0; j < cols; ++j) s += w[base + j]! * u[j]!;
      out[i] = s;
    }
    return out;
  };
  const start = options.state?.get(key, rows) ?? startVector(rows);
  const {value, vector} = topEigen(matvec, rows, start, options.maxIterations ?? 500,
    options.tolerance ?? 1e-12);
  options.state?.set(key, vector);
  return Math.sqrt(Math.max(0, value));
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
  const outSize = scoped(() => op.apply(tf.zeros(shape)).size);
  if (outSize === 0) return 0;  // empty output
  if (p === Infinity) {
    return scoped(() => tf.max(op.applyAbs(tf.ones(shape))).dataSync()[0]!);
  }
  if (p === 1) {
    return scoped(() => {
      const g = tf.grad((x: Tensor) => tf.sum(op.applyAbs(x)))(tf.ones(shape));
      return tf.max(g).dataSync()[0]!;
    });
  }
  if (n * outSize <= (options.explicitLimit ?? 1e6)) {
    // Small operator: its exact matrix W [n, out] (row i = op(e_i), one batched call), then
    // the float64 dense routine.
    const w = scoped(() => Float64Array.from(
      op.apply(tf.reshape(tf.eye(n), [n, ...op.inShape])).dataSync()));
    return matrixNorm(w, n, outSize, 2, options, key);
  }
  const matvec = (v: Float64Array): Float64Array => scoped(() => {  // A^T A v
    const x = tf.tensor(Float32Array.from(v), shape);
    const u = op.apply(x);
    return Float64Array.from(tensorAdjoint(op, u, x).dataSync());
  });
  const start = options.state?.get(key, n) ?? startVector(n);
  const {value, vector} = topEigen(matvec, n, start, options.maxIterations ?? 300,
    options.tolerance ?? 1e-6);
  options.state?.set(key, vector);
  return Math.sqrt(Math.max(0, value));
}
