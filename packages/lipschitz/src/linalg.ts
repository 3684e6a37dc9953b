/**
 * Operator norms of linear maps: dense matrices in float64 JavaScript (norm 2 by Lanczos,
 * proven by a Cholesky certificate), and linear tensor functions through their exact matrix
 * when it is small, or through sums of their absolute values (the 1-norm's adjoint by
 * automatic differentiation).
 */
import {ArgumentError} from '@deepspline/core';
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {runSync, take} from './reads.js';
import type {TensorReads} from './reads.js';
import {freeFailedTape, scoped} from './tfjs_internals.js';

/** A vector norm: 1, 2 or Infinity. */
export type Norm = 1 | 2 | typeof Infinity;

/** Throws unless `norm` is 1, 2 or Infinity. */
export function checkNorm(norm: unknown, context: string): Norm {
  if (norm !== 1 && norm !== 2 && norm !== Infinity) {
    throw new ArgumentError(`${context}: expected norm to be 1, 2 or Infinity, got ${String(norm)}`);
  }
  return norm as Norm;
}

/** Options of the power iterations (norm 2). */
export interface PowerIterationOptions {
  /**
   * Maximum operator applications (`A^T A v`) per matrix. An iteration that has not met
   * `tolerance` by then is not trusted: the norm falls back to a cruder bound that holds
   * without it (see {@link matrixNorm}).
   * @defaultValue `500`
   */
  maxIterations?: number;
  /**
   * Operators with at most this many matrix entries (inputs x outputs) are turned into their
   * exact matrix (one batched call on the identity) and handled in float64 ({@link matrixNorm});
   * larger ones are bounded without their matrix (convolutions from their kernels' Fourier
   * symbols, other operators by `sqrt(||A||_1 ||A||_Inf)`); 0 forces that path.
   * @defaultValue `1e6`
   */
  explicitLimit?: number;
  /**
   * Relative residual `||M r - theta r|| / theta` of the Ritz pair at which the iteration is
   * declared converged (the residual is computed from true operator applications). The
   * reported norm is `sqrt(theta + residual)`, so this is also about the relative excess of
   * the bound. Much smaller values may not be reached on clustered spectra (orthonormalized
   * kernels), which then fall back to the cruder bound.
   * @defaultValue `1e-8`
   */
  tolerance?: number;
  /**
   * Keeps the leading singular vector of every operator between calls (warm start), so that
   * repeated calls on slowly changing weights converge in a few iterations. A warm start is
   * always mixed with a fresh random vector, so a stored vector can speed a call up but
   * never make it miss a larger singular value.
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

/**
 * `x` rounded up for the float64 rounding of a sum of `terms` non-negative terms, each exact
 * (float32 values and their products) or one rounding away from it: every operation rounds
 * by at most 2^-53 relative, and 2^-50 per term covers them with room left for the product
 * of the network's factors (each of which rounds by 2^-53 more).
 */
export function roundUpSum(x: number, terms: number): number {
  return x * (1 + (terms + 4) * 2 ** -50);
}

/** Deterministic pseudo-random vector in [-0.95, 1.05] (mulberry32), never all zero. */
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

// Every call draws a new random vector: a warm start from a stored vector must not be able
// to hide a direction the stored vector happens to be orthogonal to (invariant subspaces
// of block-diagonal kernels and depthwise convolutions).
let draws = 0;
function freshVector(n: number): Float64Array {
  draws = (draws + 1) >>> 0;
  return startVector(n, Math.imul(draws, 0x9E3779B1) ^ 0x5bd1e995);
}

/** Weight of the fresh random vector mixed into a warm start (both unit length). */
const WARM_MIX = 0.5;

function norm2(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; ++i) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; ++i) s += a[i]! * b[i]!;
  return s;
}

/** Orthogonalizes `w` against every vector of `basis` (twice: float32 operators). */
function orthogonalize(w: Float64Array, basis: Float64Array[]): void {
  for (let pass = 0; pass < 2; ++pass) {
    for (const b of basis) {
      const d = dot(w, b);
      for (let i = 0; i < w.length; ++i) w[i] -= d * b[i]!;
    }
  }
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

/** Result of {@link topEigen}. */
export interface TopEigen {
  /** The Rayleigh quotient `theta = r^T M r` of the returned vector (a value from below). */
  value: number;
  /** The explicitly computed residual `||M r - theta r||` of the returned pair. */
  residual: number;
  /** Whether `residual <= tolerance * theta` (or the whole space was spanned). */
  converged: boolean;
  /** The unit Ritz vector `r`. */
  vector: Float64Array;
}

/**
 * Largest eigenvalue of a symmetric positive semi-definite operator given by `matvec`
 * (here always `A^T A`), by a thick-restarted Lanczos (Krylov-Schur) iteration: the basis
 * grows by the orthogonalized image of its newest vector, the Rayleigh-Ritz projection of
 * the basis gives the Ritz pairs, and when the basis is full it restarts from the leading
 * Ritz vectors (with their images, so no operator application is lost). It converges much
 * faster than power iteration when the top eigenvalues are clustered, as they are for
 * convolution operators.
 *
 * The start is `warm` (if given) plus a fresh random vector of the same length, so that
 * every eigen-direction is present whatever the stored vector was. When the Krylov space
 * becomes invariant before it spans the whole space (a breakdown: block-diagonal operators),
 * the iteration continues with a fresh random vector orthogonal to everything seen so far.
 * Convergence is declared only when the residual `||M r - theta r||` of the top Ritz pair,
 * from the stored images of the basis (true operator applications), is below
 * `tolerance * theta`; then an eigenvalue lies within the residual of `theta`, and
 * `theta + residual` is the reported upper side.
 */
export function topEigen(matvec: (v: Float64Array) => Float64Array, n: number,
    warm: Float64Array | undefined, maxMatvecs: number, tolerance: number): TopEigen {
  const steps = topEigenSteps(n, warm, maxMatvecs, tolerance);
  let step = steps.next();
  while (!step.done) step = steps.next(matvec(step.value));
  return step.value;
}

/**
 * {@link topEigen} as a generator: it yields each vector `v` to apply the operator to and is
 * resumed with `M v` (so that the operator may read tensors asynchronously).
 */
export function* topEigenSteps(n: number, warm: Float64Array | undefined, maxMatvecs: number,
    tolerance: number): Generator<Float64Array, TopEigen, Float64Array> {
  let x = freshVector(n);
  const nw = warm != null ? norm2(warm) : 0;
  if (warm != null && nw > 0 && Number.isFinite(nw)) {
    const nr = norm2(x);
    for (let i = 0; i < n; ++i) x[i] = warm[i]! / nw + WARM_MIX * x[i]! / nr;
  }
  const nx = norm2(x);
  for (let i = 0; i < n; ++i) x[i] /= nx;
  const maxBasis = Math.max(1, Math.min(n, 48));
  const keep = Math.max(1, Math.min(12, maxBasis - 8));
  let basis: Float64Array[] = [x];
  let images: Float64Array[] = [];
  let used = 0;
  let scale = 0;
  let best: TopEigen = {value: NaN, residual: NaN, converged: false, vector: x};
  while (true) {
    // grow the basis by operator applications until it is full or a check is due
    let spanned = false;
    const usedBefore = used;
    for (let grown = 0; images.length < basis.length && used < maxMatvecs; ++grown) {
      const q = basis[images.length]!;
      const w = yield q;
      ++used;
      images.push(w);
      scale = Math.max(scale, norm2(w));
      if (basis.length >= maxBasis) break;
      const next = Float64Array.from(w);
      orthogonalize(next, basis);
      let nn = norm2(next);
      if (!(nn > 1e-10 * scale)) {
        // Breakdown: the span is invariant. Go on with a random direction orthogonal to it.
        if (basis.length >= n) { spanned = true; break; }
        const r = freshVector(n);
        const before = norm2(r);
        orthogonalize(r, basis);
        nn = norm2(r);
        if (!(nn > 1e-8 * before)) { spanned = true; break; }
        next.set(r);
      }
      for (let i = 0; i < n; ++i) next[i] /= nn;
      basis.push(next);
      if (grown >= 4) break;
    }
    const m = images.length;
    if (m === 0 || (used === usedBefore && !spanned)) break;  // no progress possible
    // Rayleigh-Ritz on the vectors that have images
    const h = new Float64Array(m * m);
    for (let i = 0; i < m; ++i) {
      for (let j = i; j < m; ++j) {
        const v = 0.5 * (dot(basis[i]!, images[j]!) + dot(basis[j]!, images[i]!));
        h[i * m + j] = v;
        h[j * m + i] = v;
      }
    }
    const {values, vectors} = symmetricEigen(h, m);
    const order = Array.from({length: m}, (_, i) => i).sort((a, b) => values[b]! - values[a]!);
    const combine = (vs: Float64Array[], col: number) => {
      const out = new Float64Array(n);
      for (let k = 0; k < m; ++k) {
        const y = vectors[k * m + col]!;
        if (y === 0) continue;
        const v = vs[k]!;
        for (let i = 0; i < n; ++i) out[i] += y * v[i]!;
      }
      return out;
    };
    const top = order[0]!;
    const ritz = combine(basis, top);
    const image = combine(images, top);
    const nr = norm2(ritz);
    if (!(nr > 0) || !Number.isFinite(nr)) return {value: NaN, residual: NaN, converged: false, vector: x};
    for (let i = 0; i < n; ++i) { ritz[i] /= nr; image[i] /= nr; }
    const theta = dot(ritz, image);
    let res = 0;
    for (let i = 0; i < n; ++i) res += (image[i]! - theta * ritz[i]!) ** 2;
    res = Math.sqrt(res);
    if (!Number.isFinite(theta) || !Number.isFinite(res)) {
      return {value: NaN, residual: NaN, converged: false, vector: ritz};
    }
    const converged = res <= tolerance * Math.abs(theta) || (theta === 0 && res === 0) ||
      (spanned && res <= 1e-8 * scale);
    best = {value: theta, residual: res, converged, vector: ritz};
    if (converged || used >= maxMatvecs || spanned) break;
    if (m === basis.length && m >= maxBasis) {
      // thick restart: the leading Ritz vectors and their images, then the top residual
      const kept = order.slice(0, keep);
      const nextBasis = kept.map((c) => combine(basis, c));
      const nextImages = kept.map((c) => combine(images, c));
      basis = [];
      images = [];
      for (let k = 0; k < kept.length; ++k) {
        const v = nextBasis[k]!;
        const before = norm2(v);
        orthogonalize(v, basis);
        const nv = norm2(v);
        if (!(nv > 1e-6 * before)) continue;
        // re-orthogonalization changed v by rounding only: scale its image the same way
        for (let i = 0; i < n; ++i) { v[i] /= nv; nextImages[k]![i] /= nv; }
        basis.push(v);
        images.push(nextImages[k]!);
      }
      const r = Float64Array.from(image);
      for (let i = 0; i < n; ++i) r[i] -= theta * ritz[i]!;
      orthogonalize(r, basis);
      const nrr = norm2(r);
      if (nrr > 1e-10 * scale) {
        for (let i = 0; i < n; ++i) r[i] /= nrr;
        basis.push(r);
      } else {
        const f = freshVector(n);
        orthogonalize(f, basis);
        const nf = norm2(f);
        if (!(nf > 0)) break;
        for (let i = 0; i < n; ++i) f[i] /= nf;
        basis.push(f);
      }
    }
  }
  return best;
}

/**
 * The smaller Gram operator of a row-major `[rows, cols]` matrix, `W W^T` or `W^T W`, as a
 * float64 matrix-vector product on vectors of length `n = min(rows, cols)`.
 */
function gramOperator(w: ArrayLike<number>, rows: number, cols: number):
    {n: number, matvec: (v: Float64Array) => Float64Array} {
  const gramOfRows = rows <= cols;  // iterate in the smaller dimension
  const n = gramOfRows ? rows : cols;
  const u = new Float64Array(gramOfRows ? cols : rows);
  const matvec = (v: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    u.fill(0);
    if (gramOfRows) {  // W W^T v
      for (let i = 0; i < rows; ++i) {
        const vi = v[i]!;
        if (vi === 0) continue;
        const base = i * cols;
        for (let j = 0; j < cols; ++j) u[j] += vi * w[base + j]!;
      }
      for (let i = 0; i < rows; ++i) {
        let s = 0;
        const base = i * cols;
        for (let j = 0; j < cols; ++j) s += w[base + j]! * u[j]!;
        out[i] = s;
      }
    } else {  // W^T W v
      for (let i = 0; i < rows; ++i) {
        let s = 0;
        const base = i * cols;
        for (let j = 0; j < cols; ++j) s += w[base + j]! * v[j]!;
        u[i] = s;
      }
      for (let i = 0; i < rows; ++i) {
        const ui = u[i]!;
        if (ui === 0) continue;
        const base = i * cols;
        for (let j = 0; j < cols; ++j) out[j] += ui * w[base + j]!;
      }
    }
    return out;
  };
  return {n, matvec};
}

/**
 * The largest singular value of a row-major `[rows, cols]` matrix from below: the square
 * root of the Rayleigh quotient of the converged Lanczos vector (never above the truth, for
 * lower bounds such as {@link empiricalLipschitz}'s).
 */
export function spectralNormFromBelow(w: ArrayLike<number>, rows: number, cols: number): number {
  if (rows === 0 || cols === 0) return 0;
  const {n, matvec} = gramOperator(w, rows, cols);
  const top = topEigen(matvec, n, undefined, 1000, 1e-10);
  return Math.sqrt(Math.max(0, top.value));
}

/**
 * Operator norm of the map `x -> x W` (row vectors) for a row-major matrix `W` of shape
 * `[rows, cols]` (a tfjs dense kernel `[in, out]`), in float64, as a guaranteed upper bound:
 * - `p = 1`: the largest absolute row sum of `W` (each input feeds one row), rounded up;
 * - `p = Infinity`: the largest absolute column sum of `W` (each output is one column),
 *   rounded up;
 * - `p = 2`: the largest singular value. The smaller Gram matrix `G` (`W W^T` or `W^T W`) is
 *   formed in float64, a Lanczos iteration on it gives the estimate `mu = theta + residual`,
 *   and a Cholesky factorization of `mu I - G` proves it (`certifiedTop` in linalg.ts): a residual
 *   test alone only shows that *some* eigenvalue is near `theta`, which on clustered spectra
 *   (orthonormal kernels) was not always the largest. If the proof fails, `mu` grows until
 *   it holds, or the bounds that hold for every matrix are used:
 *   `min(||W||_F, sqrt(||W||_1 ||W||_Inf), sqrt(mu + ||W^T W - mu I||_F))`. The cost is
 *   `O(n^2 max(rows, cols))` for `n = min(rows, cols)`.
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
    return roundUpSum(best, cols);
  }
  if (p === Infinity) {
    const s = new Float64Array(cols);
    for (let i = 0; i < rows; ++i) {
      for (let j = 0; j < cols; ++j) s[j] += Math.abs(w[i * cols + j]!);
    }
    return roundUpSum(s.reduce((a, b) => Math.max(a, b), 0), rows);
  }
  for (let i = 0; i < rows * cols; ++i) {
    if (!Number.isFinite(w[i]!)) return NaN;
  }
  const gram = gramMatrix(w, rows, cols);
  const {n, g} = gram;
  const matvec = (v: Float64Array): Float64Array => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; ++i) {
      let s = 0;
      const base = i * n;
      for (let j = 0; j < n; ++j) s += g[base + j]! * v[j]!;
      out[i] = s;
    }
    return out;
  };
  const stateKey = `${key}:${gram.ofRows ? 'rows' : 'cols'}`;
  const top = topEigen(matvec, n, options.state?.get(stateKey, n), options.maxIterations ?? 500,
    options.tolerance ?? 1e-8);
  if (top.converged) options.state?.set(stateKey, top.vector);
  // bounds that hold for every matrix, each rounded up
  const frobenius = Math.sqrt(gram.frobenius2 * (1 + gamma(rows * cols + 2)));
  const schur = Math.sqrt(matrixNorm(w, rows, cols, 1) * matrixNorm(w, rows, cols, Infinity));
  const cap = Math.min(frobenius, schur, Math.sqrt(shiftedGramBound(gram, top.value))) * (1 + 2 ** -50);
  const theta = Number.isFinite(top.value) ? Math.max(0, top.value) : 0;
  const residual = Number.isFinite(top.residual) ? top.residual : theta;
  // The Lanczos estimate first; if the proof fails, a larger eigenvalue was missed: step up.
  let step = residual + 1e-12 * theta;
  for (let attempt = 0; attempt < 48; ++attempt) {
    const mu = theta + step;
    if (!(Math.sqrt(mu) < cap)) break;
    const proven = certifiedTop(gram, mu);
    if (proven != null) return Math.min(Math.sqrt(proven) * (1 + 2 ** -50), cap);
    step *= 2;
  }
  return cap;
}

/** The float64 Gram matrix of {@link gramMatrix} and what its rounding error needs. */
interface Gram {
  /** `n = min(rows, cols)`. */
  n: number;
  /** Row-major `n x n`: `W W^T` (`ofRows`) or `W^T W`. */
  g: Float64Array;
  ofRows: boolean;
  /** Length of the inner products (the other dimension). */
  inner: number;
  /** `||W||_F^2`, computed in float64. */
  frobenius2: number;
}

/** The smaller Gram matrix of a row-major `[rows, cols]` matrix, in float64. */
function gramMatrix(values: ArrayLike<number>, rows: number, cols: number): Gram {
  const w = Float64Array.from(values);
  const ofRows = rows <= cols;
  const n = ofRows ? rows : cols;
  const g = new Float64Array(n * n);
  let frobenius2 = 0;
  for (let i = 0; i < rows * cols; ++i) frobenius2 += w[i]! * w[i]!;
  if (ofRows) {  // (W W^T)_ij = row i . row j
    for (let i = 0; i < rows; ++i) {
      const ri = i * cols;
      let j = 0;
      for (; j + 3 <= i; j += 4) {  // four dot products per pass over row i
        const [r0, r1, r2, r3] = [j * cols, (j + 1) * cols, (j + 2) * cols, (j + 3) * cols];
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let k = 0; k < cols; ++k) {
          const x = w[ri + k]!;
          s0 += x * w[r0 + k]!;
          s1 += x * w[r1 + k]!;
          s2 += x * w[r2 + k]!;
          s3 += x * w[r3 + k]!;
        }
        g[i * n + j] = s0;
        g[i * n + j + 1] = s1;
        g[i * n + j + 2] = s2;
        g[i * n + j + 3] = s3;
      }
      for (; j <= i; ++j) {
        const rj = j * cols;
        let s = 0;
        for (let k = 0; k < cols; ++k) s += w[ri + k]! * w[rj + k]!;
        g[i * n + j] = s;
      }
    }
  } else {  // W^T W = sum over rows k of the outer product of row k with itself
    for (let k = 0; k < rows; ++k) {
      const base = k * cols;
      for (let i = 0; i < cols; ++i) {
        const wi = w[base + i]!;
        if (wi === 0) continue;
        const gi = i * n;
        for (let j = 0; j <= i; ++j) g[gi + j] += wi * w[base + j]!;
      }
    }
  }
  for (let i = 0; i < n; ++i) for (let j = 0; j < i; ++j) g[j * n + i] = g[i * n + j]!;
  return {n, g, ofRows, inner: ofRows ? cols : rows, frobenius2};
}

/** The unit roundoff of float64. */
const U = 2 ** -53;

/** `g_k = k u / (1 - k u)`: the relative error bound of `k` float64 operations in a row. */
function gamma(k: number): number {
  return k * U / (1 - k * U);
}

/**
 * A proven upper bound of the largest eigenvalue of the *exact* Gram matrix `G` of the
 * float64 one given, near `mu`, or `null` when `mu` is below the computed `G`'s largest
 * eigenvalue (or too close to prove). Why it holds:
 * - `B = fl(mu I - G)` is factored by Cholesky in float64. If every pivot is positive, the
 *   computed factor satisfies `R^T R = B + dB` with `|dB| <= g_{n+1} |R^T| |R|`
 *   (`g_k = k u / (1 - k u)`, Higham, Accuracy and Stability, Thm 10.3), so
 *   `||dB||_2 <= g_{n+1} sum_i ||r_i||^2 <= g_{n+1} / (1 - g_{n+1}) tr(B)`, and
 *   `lambda_min(B) >= -||dB||_2` since `R^T R` is positive semi-definite.
 * - `B` differs from `mu I - G` by the rounding of its diagonal (`<= u max |B_ii|`), and the
 *   computed `G` from the exact one by `<= g_{inner+1} |W|^T |W|` entrywise, whose 2-norm
 *   is `<= g_{inner+1} ||W||_F^2`.
 * So `lambda_max(G_exact) <= mu + g_{n+1} / (1 - g_{n+1}) tr(B) + u max |B_ii| +
 * g_{inner+1} ||W||_F^2`; the margin is doubled for the rounding of these sums themselves.
 * `O(n^3 / 6)` operations.
 */
function certifiedTop(gram: Gram, mu: number): number | null {
  const {n, g} = gram;
  const l = new Float64Array(n * n);
  let trace = 0;
  let maxDiag = 0;
  for (let i = 0; i < n; ++i) {
    const ri = i * n;
    for (let j = 0; j <= i; ++j) {
      const rj = j * n;
      let s = i === j ? mu - g[ri + i]! : -g[ri + j]!;
      if (i === j) { trace += s; maxDiag = Math.max(maxDiag, Math.abs(s)); }
      for (let k = 0; k < j; ++k) s -= l[ri + k]! * l[rj + k]!;
      if (i === j) {
        if (!(s > 0)) return null;
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j]!;
      }
    }
  }
  const gn = gamma(n + 1);
  const margin = gn / (1 - gn) * trace + U * maxDiag + gamma(gram.inner + 1) * gram.frobenius2;
  return (mu + 2 * margin) * (1 + 4 * U);
}

/**
 * `lambda_max(G) <= mu + ||G - mu I||_F` for the exact Gram matrix `G` and any shift `mu`,
 * at the better of `mu = theta` (the Ritz value) and `mu = tr(G) / n`. Tight when the
 * spectrum is clustered (orthonormalized kernels, where the Frobenius bound of `W` is
 * `sqrt(rank)` times too large). Allows for the float64 rounding of the Frobenius sum and,
 * by Weyl's inequality, for the computed `G`'s error (see {@link certifiedTop}).
 */
function shiftedGramBound(gram: Gram, theta: number): number {
  const {n, g} = gram;
  let trace = 0;
  for (let j = 0; j < n; ++j) trace += g[j * n + j]!;
  const at = (mu: number) => {
    let f = 0;
    for (let i = 0; i < n; ++i) {
      for (let j = 0; j < n; ++j) f += (i === j ? g[i * n + j]! - mu : g[i * n + j]!) ** 2;
    }
    return mu + Math.sqrt(f) * (1 + gamma(n * n + 8));
  };
  const shifts = [trace / n, ...(Number.isFinite(theta) ? [theta] : [])];
  const best = Math.min(...shifts.map(at));
  return (best + 2 * gamma(gram.inner + 1) * gram.frobenius2) * (1 + 4 * U);
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

/**
 * Runs `fn`, which takes a gradient. If the backward pass throws (a kernel without a
 * gradient kernel on this backend), tfjs-core 4.22's `engine.gradients` leaves the tensors
 * it saved for it kept on its tape (it frees them only after a complete pass): they are
 * freed here.
 */
function withGradients<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    freeFailedTape();
    throw e;
  }
}

/**
 * Operator norm of a linear tensor map for the flattened input and output:
 * - `p = Infinity`: largest absolute row sum, `max(|A| 1)`;
 * - `p = 1`: largest absolute column sum, `max(|A|^T 1)` (the adjoint by autodiff);
 *   both summed by the backend in float32 and rounded up for it (by `(terms + 2) 2^-23`
 *   relative; the layers' rules sum convolution weights in float64 instead, exactly);
 * - `p = 2`: for operators of at most `explicitLimit` entries, the proven norm of their exact
 *   matrix (formed by one batched call on the identity, then {@link matrixNorm}); above it,
 *   `sqrt(||A||_1 ||A||_Inf)` from the two sums above: proven, but it can be well above the
 *   norm (a matrix-free iteration gives no proven upper bound). The convolution layers' rules
 *   bound large convolutions more tightly from their kernels.
 */
export function tensorOpNorm(op: LinearTensorOp, p: Norm, options: PowerIterationOptions = {},
    key = 'op'): number {
  return runSync(tensorOpNormReads(op, p, options, key));
}

/** {@link tensorOpNorm} as {@link TensorReads} (for `lipschitzBoundAsync`). */
export function* tensorOpNormReads(op: LinearTensorOp, p: Norm, options: PowerIterationOptions = {},
    key = 'op'): TensorReads<number> {
  const shape = [1, ...op.inShape];
  const n = op.inShape.reduce((a, b) => a * b, 1);
  if (n === 0) return 0;
  const outSize = scoped(() => op.apply(tf.zeros(shape)).size);
  if (outSize === 0) return 0;  // empty output
  // The sums below are computed by the backend in float32: a sum of m non-negative terms
  // rounds to at least exact * (1 - 2^-24)^(m - 1), so exact <= computed * (1 + (m + 2) 2^-23).
  if (p === Infinity) {
    return (yield* take(tf.tidy(() => tf.max(op.applyAbs(tf.ones(shape))))))[0]! * (1 + (n + 2) * 2 ** -23);
  }
  if (p === 1) {
    return (yield* take(tf.tidy(() => withGradients(() =>
      tf.max(tf.grad((x: Tensor) => tf.sum(op.applyAbs(x)))(tf.ones(shape)))))))[0]! * (1 + (outSize + 2) * 2 ** -23);
  }
  if (n * outSize <= (options.explicitLimit ?? 1e6)) {
    // Small operator: its exact matrix W [n, out] (row i = op(e_i), one batched call), then
    // the float64 dense routine.
    const w = Float64Array.from(yield* take(tf.tidy(() =>
      op.apply(tf.reshape(tf.eye(n), [n, ...op.inShape])))));
    return matrixNorm(w, n, outSize, 2, options, key);
  }
  // Larger: no iteration on the operator proves its top singular value (a residual test only
  // shows that *some* one is near its estimate), so the Schur bound
  // ||A||_2 <= sqrt(||A||_1 ||A||_Inf), which holds for every matrix. Convolution layers get
  // a tighter proven bound from their kernels (conv_fourier.ts) instead of this one.
  return Math.sqrt((yield* tensorOpNormReads(op, 1)) * (yield* tensorOpNormReads(op, Infinity))) * (1 + 2 ** -50);
}
