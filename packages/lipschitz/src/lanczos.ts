/**
 * Lanczos on plain float64 arrays: the largest eigenvalue and eigenvector of a symmetric
 * operator given by its matrix-vector product (the Gram operators of `matrix_norm.ts`), warm
 * started from a stored vector mixed with a fresh random one.
 */

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
