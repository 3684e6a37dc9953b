/**
 * Operator norms of dense matrices in float64 JavaScript: norm 2 by Lanczos on the smaller
 * Gram matrix, proven by a Cholesky certificate (or a cruder bound that holds without it),
 * norms 1 and Infinity from column and row sums, each rounded up for float64.
 */
import {ArgumentError} from '@deepspline/core';
import {topEigen} from './lanczos.js';
import type {PowerIterationOptions} from './power_iteration.js';

/** A vector norm: 1, 2 or Infinity. */
export type Norm = 1 | 2 | typeof Infinity;

/** Throws unless `norm` is 1, 2 or Infinity. */
export function checkNorm(norm: unknown, context: string): Norm {
  if (norm !== 1 && norm !== 2 && norm !== Infinity) {
    throw new ArgumentError(`${context}: expected norm to be 1, 2 or Infinity, got ${String(norm)}`);
  }
  return norm as Norm;
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
 *   and a Cholesky factorization of `mu I - G` proves it (`certifiedTop` in matrix_norm.ts): a residual
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

