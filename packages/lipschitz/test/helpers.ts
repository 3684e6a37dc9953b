/** Independent reference computations for the tests (float64 JavaScript, no package code). */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type {Tensor} from '@tensorflow/tfjs-core';
import {Matrix, QrDecomposition, SingularValueDecomposition} from 'ml-matrix';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

/** Eigenvalues of a symmetric matrix (row-major n x n) by cyclic Jacobi rotations. */
export function jacobiEigenvalues(aIn: ArrayLike<number>, n: number): number[] {
  const a = Float64Array.from(aIn);
  for (let sweep = 0; sweep < 100; ++sweep) {
    let off = 0;
    for (let p = 0; p < n; ++p) for (let q = p + 1; q < n; ++q) off += a[p * n + q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; ++p) {
      for (let q = p + 1; q < n; ++q) {
        const apq = a[p * n + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; ++k) {  // rotate columns p, q
          const akp = a[k * n + p]!, akq = a[k * n + q]!;
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; ++k) {  // rotate rows p, q
          const apk = a[p * n + k]!, aqk = a[q * n + k]!;
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  return Array.from({length: n}, (_, i) => a[i * n + i]!);
}

/** Largest singular value of a row-major [rows, cols] matrix: sqrt(max eig(M^T M)). */
export function spectralNormJacobi(m: ArrayLike<number>, rows: number, cols: number): number {
  const g = new Float64Array(cols * cols);
  for (let i = 0; i < cols; ++i) {
    for (let j = 0; j < cols; ++j) {
      let s = 0;
      for (let r = 0; r < rows; ++r) s += m[r * cols + i]! * m[r * cols + j]!;
      g[i * cols + j] = s;
    }
  }
  return Math.sqrt(Math.max(0, ...jacobiEigenvalues(g, cols)));
}

/**
 * The explicit matrix [outSize, inSize] of a linear tensor function on [1, ...inShape], by
 * applying it to every basis vector (column j = f(e_j)).
 */
export function explicitMatrix(f: (x: Tensor) => Tensor, inShape: number[]): {m: Float64Array, rows: number, cols: number} {
  const cols = inShape.reduce((a, b) => a * b, 1);
  const eye = tf.eye(cols);
  const out = tf.tidy(() => tf.reshape(f(tf.reshape(eye, [cols, ...inShape])), [cols, -1]));
  const rows = out.shape[1]!;
  const data = out.dataSync();
  const m = new Float64Array(rows * cols);
  for (let j = 0; j < cols; ++j) for (let i = 0; i < rows; ++i) m[i * cols + j] = data[j * rows + i]!;
  eye.dispose();
  out.dispose();
  return {m, rows, cols};
}

/** Max absolute row sum (norm Inf) and column sum (norm 1) of a row-major matrix. */
export function rowColSums(m: ArrayLike<number>, rows: number, cols: number): {inf: number, one: number} {
  let inf = 0;
  const col = new Float64Array(cols);
  for (let i = 0; i < rows; ++i) {
    let s = 0;
    for (let j = 0; j < cols; ++j) { s += Math.abs(m[i * cols + j]!); col[j] += Math.abs(m[i * cols + j]!); }
    inf = Math.max(inf, s);
  }
  return {inf, one: Math.max(...col)};
}

/** TV(2) of one spline from its coefficients (packages/core/README.md, Semantics), float64. */
export function tv2Js(c: ArrayLike<number>, step: number): number {
  let s = 0;
  for (let k = 1; k < c.length - 1; ++k) s += Math.abs(c[k - 1]! - 2 * c[k]! + c[k + 1]!) / step;
  return s;
}

/** The spline value at x (the evaluation rule of packages/core/README.md, Semantics), float64. */
export function splineJs(c: ArrayLike<number>, start: number, step: number, x: number): number {
  const K = c.length;
  const u = (x - start) / step;
  const k = Math.min(Math.max(Math.floor(u), 0), K - 2);
  const f = u - k;
  return c[k]! + f * (c[k + 1]! - c[k]!);
}

/** BV(2) = TV(2) + |sigma(0)| + |sigma(1)|, float64. */
export function bv2Js(c: ArrayLike<number>, start: number, step: number): number {
  return tv2Js(c, step) + Math.abs(splineJs(c, start, step, 0)) + Math.abs(splineJs(c, start, step, 1));
}

/** Rows of a [rows, cols] float32 tensor as arrays. */
export function rowsOf(t: Tensor): number[][] {
  return t.arraySync() as number[][];
}

export {rng} from '../../core/test/reference';

/**
 * The largest singular value of a row-major [rows, cols] matrix by ml-matrix's SVD (an
 * independent, well-kept implementation).
 */
export function spectralNormSvd(m: ArrayLike<number>, rows: number, cols: number): number {
  const a = new Matrix(rows, cols);
  for (let i = 0; i < rows; ++i) for (let j = 0; j < cols; ++j) a.set(i, j, m[i * cols + j]!);
  const svd = new SingularValueDecomposition(a, {computeLeftSingularVectors: false,
    computeRightSingularVectors: false, autoTranspose: true});
  return Math.max(0, ...svd.diagonal);
}

/**
 * The explicit matrix [outSize, inSize] of an affine tensor function's linear part on
 * [1, ...inShape]: column j = f(e_j) - f(0).
 */
export function linearPartMatrix(f: (x: Tensor) => Tensor, inShape: number[]): {m: Float64Array, rows: number, cols: number} {
  const cols = inShape.reduce((a, b) => a * b, 1);
  const out = tf.tidy(() => {
    const basis = tf.concat([tf.zeros([1, cols]), tf.eye(cols)], 0);
    return tf.reshape(f(tf.reshape(basis, [cols + 1, ...inShape])), [cols + 1, -1]);
  });
  const rows = out.shape[1]!;
  const data = out.dataSync();
  out.dispose();
  const m = new Float64Array(rows * cols);
  for (let j = 0; j < cols; ++j) {
    for (let i = 0; i < rows; ++i) m[i * cols + j] = data[(j + 1) * rows + i]! - data[i]!;
  }
  return {m, rows, cols};
}

/** The orthogonal factor Q (row-major n x n) of the QR decomposition of a square matrix (ml-matrix). */
export function orthogonalFactor(m: ArrayLike<number>, n: number): Float64Array {
  const a = new Matrix(n, n);
  for (let i = 0; i < n; ++i) for (let j = 0; j < n; ++j) a.set(i, j, m[i * n + j]!);
  const q = new QrDecomposition(a).orthogonalMatrix;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; ++i) for (let j = 0; j < n; ++j) out[i * n + j] = q.get(i, j);
  return out;
}
