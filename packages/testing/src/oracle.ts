/**
 * Exact operator norms and factorizations from a well-kept library (ml-matrix), and the
 * explicit matrices of linear tensor maps, for tests of our own solvers and bounds: never a
 * second copy of the code under test.
 */
import * as tf from '@tensorflow/tfjs-core';
import type {Tensor} from '@tensorflow/tfjs-core';
import {Matrix, QrDecomposition, SingularValueDecomposition} from 'ml-matrix';

function matrix(m: ArrayLike<number>, rows: number, cols: number): Matrix {
  const a = new Matrix(rows, cols);
  for (let i = 0; i < rows; ++i) for (let j = 0; j < cols; ++j) a.set(i, j, m[i * cols + j]);
  return a;
}

/** The singular values of a row-major `[rows, cols]` matrix, largest first (ml-matrix's SVD). */
export function singularValues(m: ArrayLike<number>, rows: number, cols: number): number[] {
  if (rows === 0 || cols === 0) return [];
  const svd = new SingularValueDecomposition(matrix(m, rows, cols), {computeLeftSingularVectors: false,
    computeRightSingularVectors: false, autoTranspose: true});
  return Array.from(svd.diagonal).sort((p, q) => q - p);
}

/** The largest singular value (the l2 operator norm) of a row-major `[rows, cols]` matrix. */
export function spectralNorm(m: ArrayLike<number>, rows: number, cols: number): number {
  return Math.max(0, ...singularValues(m, rows, cols));
}

/** The orthogonal factor Q (row-major `n x n`) of the QR decomposition of a square matrix. */
export function orthogonalFactor(m: ArrayLike<number>, n: number): Float64Array {
  const q = new QrDecomposition(matrix(m, n, n)).orthogonalMatrix;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; ++i) for (let j = 0; j < n; ++j) out[i * n + j] = q.get(i, j);
  return out;
}

/** Max absolute row sum (the l-inf norm) and column sum (the l1 norm) of a row-major matrix. */
export function rowColSums(m: ArrayLike<number>, rows: number, cols: number): {inf: number, one: number} {
  let inf = 0;
  const col = new Float64Array(cols);
  for (let i = 0; i < rows; ++i) {
    let s = 0;
    for (let j = 0; j < cols; ++j) { s += Math.abs(m[i * cols + j]); col[j] += Math.abs(m[i * cols + j]); }
    inf = Math.max(inf, s);
  }
  return {inf, one: Math.max(0, ...col)};
}

/** A row-major matrix with its dimensions. */
export interface ExplicitMatrix {
  /** Row-major values, float64. */
  m: Float64Array;
  /** Rows (the output size). */
  rows: number;
  /** Columns (the input size). */
  cols: number;
}

/**
 * The explicit matrix `[outSize, inSize]` of a linear tensor function on `[1, ...inShape]`,
 * by applying it to every basis vector (column `j` = `f(e_j)`).
 */
export function explicitMatrix(f: (x: Tensor) => Tensor, inShape: number[]): ExplicitMatrix {
  return linearPart(f, inShape, false);
}

/**
 * The explicit matrix of an affine tensor function's linear part on `[1, ...inShape]`:
 * column `j` = `f(e_j) - f(0)`.
 */
export function linearPartMatrix(f: (x: Tensor) => Tensor, inShape: number[]): ExplicitMatrix {
  return linearPart(f, inShape, true);
}

function linearPart(f: (x: Tensor) => Tensor, inShape: number[], affine: boolean): ExplicitMatrix {
  const cols = inShape.reduce((a, b) => a * b, 1);
  const extra = affine ? 1 : 0;
  const out = tf.tidy(() => {
    const basis = affine ? tf.concat([tf.zeros([1, cols]), tf.eye(cols)], 0) : tf.eye(cols);
    return tf.reshape(f(tf.reshape(basis, [cols + extra, ...inShape])), [cols + extra, -1]);
  });
  const rows = out.shape[1]!;
  const data = out.dataSync();
  out.dispose();
  const m = new Float64Array(rows * cols);
  for (let j = 0; j < cols; ++j) {
    for (let i = 0; i < rows; ++i) {
      m[i * cols + j] = data[(j + extra) * rows + i] - (affine ? data[i] : 0);
    }
  }
  return {m, rows, cols};
}
