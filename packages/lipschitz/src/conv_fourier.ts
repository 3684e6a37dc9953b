/**
 * A proven norm-2 bound of convolutions too large to form as a matrix, from their kernels
 * alone, in float64: the convolution is a crop of a circular convolution, which the discrete
 * Fourier transform block-diagonalizes exactly into one small complex matrix per frequency.
 */
import {matrixNorm} from './matrix_norm.js';
import type {WindowAxis} from './conv_sums.js';

/** The unit roundoff of float64. */
const U = 2 ** -53;

/**
 * A kernel for {@link circulantConvNorm}: `values[(t * cin + i) * last + j]` for window
 * position `t` (row-major over the dilated window), input channel `i` and `j` the output
 * channel (`depthwise: false`) or the depth multiplier index (`depthwise: true`, output
 * channel `i * last + j` reads input channel `i` only).
 */
export interface FourierKernel {
  values: ArrayLike<number>;
  /** The window `[rows, cols]` (dilated; 1-D: `[k, 1]`). */
  window: [number, number];
  cin: number;
  last: number;
  depthwise: boolean;
  /**
   * Relative error of `values` with respect to the exact kernel, as a multiple of
   * `absValues` (0 when `values` are the float32 weights themselves).
   */
  error: number;
  /** Entrywise bounds of the terms summed into `values` (`|values|` when `error` is 0). */
  absValues: ArrayLike<number>;
}

/**
 * Multiply-adds allowed for proving per-frequency norms (Gram matrices of the real forms):
 * past it the remaining frequencies get the cheaper bound `min(||M||_F, sqrt(||M||_1 ||M||_Inf))`
 * (proven too, looser), so very wide layers stay a few seconds.
 */
const PROOF_BUDGET = 2e9;

/**
 * A proven upper bound of the 2-norm of the convolution with `kernel` on one image (channels
 * last), whose window axes are `rows` and `cols` (tfjs's geometry, {@link WindowAxis}).
 *
 * Why it holds. Place the input on a torus of `N_a` positions per axis, `N_a` a multiple of
 * the stride `s_a` and `>= max(before + size, (out - 1) s_a + window)`, at offset `before`
 * (the zero padding): output `o` then reads torus positions `o s_a + t`, `t < window`, which
 * never wrap around, so the layer is `crop(C(embed(x)))` for the strided circular
 * convolution `C`; embedding and crop have norm <= 1. Splitting the input into its `s_1 s_2`
 * phases (`x_r[m] = x[m s + r]`), `C` is a sum of stride-1 circular convolutions over the
 * torus of `M_a = N_a / s_a` positions, which the unitary DFT turns into one matrix per
 * frequency `w`: the `(s_1 s_2 cin) x cout` stack over the phases of
 * `Khat_r(w) = sum_j K[j s + r] e^{-i <j, w>}`. So `||C||_2 = max_w ||Khat(w)||_2` exactly.
 * (Depthwise: one `(s_1 s_2) x last` matrix per input channel.) Real kernels have
 * `Khat(-w) = conj(Khat(w))`: half the frequencies suffice.
 *
 * Each `||Khat(w)||_2` is the norm of the real matrix `[[X, Y], [-Y, X]]`
 * (`Khat = X + iY`), proven by {@link matrixNorm} (a Cholesky certificate), or, past
 * {@link PROOF_BUDGET}, bounded by `min(||.||_F, sqrt(||.||_1 ||.||_Inf))`. The computed
 * `Khat` differs from the exact one by the twiddle factors' error (`Math.cos`/`Math.sin` of
 * a float64 angle below `4 pi`: at most `64 u` absolute) and the float64 sums' (`gamma_T`
 * for `T` terms), entrywise at most `eps * sum |K|` over the entry's taps, so the exact norm
 * is at most the computed one plus `sqrt(2) eps ||S||_F` (`S` those sums, the same for
 * every frequency). Frequencies are visited from the largest cheap bound down, and stop as
 * soon as the cheap bound cannot beat the largest proven norm.
 */
export function circulantConvNorm(kernel: FourierKernel, rows: WindowAxis, cols: WindowAxis): number {
  if (rows.out === 0 || cols.out === 0) return 0;
  const {values, window: [wh, ww], cin, last, depthwise} = kernel;
  for (let i = 0; i < values.length; ++i) if (!Number.isFinite(values[i]!)) return NaN;
  const torus = (a: WindowAxis) => {
    const need = Math.max(a.before + a.size, (a.out - 1) * a.stride + a.window);
    return Math.ceil(need / a.stride);  // M_a = N_a / s_a
  };
  const [s1, s2] = [rows.stride, cols.stride];
  const [m1, m2] = [torus(rows), torus(cols)];
  const phases = s1 * s2;
  const taps = wh * ww;
  // tap t = p * ww + q: phase (p mod s1, q mod s2), shift (floor(p / s1), floor(q / s2))
  const tapPhase = new Int32Array(taps);
  const tapJ1 = new Int32Array(taps);
  const tapJ2 = new Int32Array(taps);
  for (let p = 0; p < wh; ++p) {
    for (let q = 0; q < ww; ++q) {
      const t = p * ww + q;
      tapPhase[t] = (p % s1) * s2 + (q % s2);
      tapJ1[t] = Math.floor(p / s1);
      tapJ2[t] = Math.floor(q / s2);
    }
  }
  // one block per frequency (conv) or per channel and frequency (depthwise)
  const blocks = depthwise ? cin : 1;
  const bRows = depthwise ? phases : phases * cin;
  const bCols = last;
  // S: the sums of |K| (and of the terms behind K) over the taps of each entry
  const sAbs = new Float64Array(blocks * bRows * bCols);
  let maxTerms = 0;
  const termCount = new Int32Array(phases);
  for (let t = 0; t < taps; ++t) maxTerms = Math.max(maxTerms, ++termCount[tapPhase[t]!]!);
  for (let t = 0; t < taps; ++t) {
    for (let i = 0; i < cin; ++i) {
      for (let j = 0; j < last; ++j) {
        const a = kernel.absValues[(t * cin + i) * last + j]!;
        const b = depthwise ? i : 0;
        const r = depthwise ? tapPhase[t]! : tapPhase[t]! * cin + i;
        sAbs[(b * bRows + r) * bCols + j] += a;
      }
    }
  }
  let f2 = 0;
  for (let k = 0; k < sAbs.length; ++k) f2 += sAbs[k]! ** 2;
  // the rounding of the sums above and of f2 is far inside the 2^-40 of slack below
  const eps = (64 * U + (maxTerms + 4) * U / (1 - (maxTerms + 4) * U) + kernel.error) * (1 + 2 ** -40);
  const entryError = Math.SQRT2 * eps * Math.sqrt(f2) * (1 + 2 ** -40);
  // frequencies (k1, k2) up to conjugation
  const freqs: number[] = [];
  for (let k1 = 0; k1 < m1; ++k1) {
    for (let k2 = 0; k2 < m2; ++k2) {
      const conj = ((m1 - k1) % m1) * m2 + (m2 - k2) % m2;
      if (conj >= k1 * m2 + k2) freqs.push(k1 * m2 + k2);
    }
  }
  const symbol = (f: number): Float64Array[] => {
    const k1 = Math.floor(f / m2), k2 = f % m2;
    const out = Array.from({length: blocks}, () => new Float64Array(2 * bRows * bCols));  // re, im
    for (let t = 0; t < taps; ++t) {
      const angle = 2 * Math.PI * ((tapJ1[t]! * k1 % m1) / m1 + (tapJ2[t]! * k2 % m2) / m2);
      const c = Math.cos(angle), s = Math.sin(angle);
      for (let i = 0; i < cin; ++i) {
        const b = depthwise ? i : 0;
        const r = depthwise ? tapPhase[t]! : tapPhase[t]! * cin + i;
        const m = out[b]!;
        for (let j = 0; j < last; ++j) {
          const v = values[(t * cin + i) * last + j]!;
          const e = 2 * (r * bCols + j);
          m[e] += v * c;
          m[e + 1] -= v * s;
        }
      }
    }
    return out;
  };
  // cheap proven bound of one complex block: min(Frobenius, Schur), rounded up
  const cheap = (m: Float64Array): number => {
    let fro = 0;
    let rowMax = 0;
    const colSums = new Float64Array(bCols);
    for (let r = 0; r < bRows; ++r) {
      let rowSum = 0;
      for (let j = 0; j < bCols; ++j) {
        const re = m[2 * (r * bCols + j)]!, im = m[2 * (r * bCols + j) + 1]!;
        const a2 = re * re + im * im;
        fro += a2;
        const a = Math.sqrt(a2);
        rowSum += a;
        colSums[j] += a;
      }
      rowMax = Math.max(rowMax, rowSum);
    }
    const colMax = colSums.reduce((a, b) => Math.max(a, b), 0);
    const slack = 1 + (bRows + bCols + 8) * 4 * U;
    return Math.min(Math.sqrt(fro), Math.sqrt(rowMax * colMax)) * slack;
  };
  // the real form [[X, Y], [-Y, X]] of X + iY, [2 bRows, 2 bCols], through matrixNorm
  const proven = (m: Float64Array): number => {
    const w = new Float64Array(4 * bRows * bCols);
    const cols2 = 2 * bCols;
    for (let r = 0; r < bRows; ++r) {
      for (let j = 0; j < bCols; ++j) {
        const x = m[2 * (r * bCols + j)]!, y = m[2 * (r * bCols + j) + 1]!;
        w[r * cols2 + j] = x;
        w[r * cols2 + bCols + j] = y;
        w[(bRows + r) * cols2 + j] = -y;
        w[(bRows + r) * cols2 + bCols + j] = x;
      }
    }
    return matrixNorm(w, 2 * bRows, 2 * bCols, 2);
  };
  // a block with one row or column is a vector: its Frobenius norm is its 2-norm
  const vector = Math.min(bRows, bCols) === 1;
  const n2 = 2 * Math.min(bRows, bCols);
  const proofCost = n2 * n2 * 2 * Math.max(bRows, bCols) * 2;  // Gram, Lanczos and Cholesky
  // first pass: the cheap bound of every frequency (the symbols are recomputed when proven)
  const order = freqs.map((f) => ({f, bound: Math.max(...symbol(f).map(cheap))}));
  order.sort((a, b) => b.bound - a.bound);
  let best = 0;
  let spent = 0;
  for (const {f, bound} of order) {
    if (!(bound > best)) break;
    if (vector || spent + proofCost * blocks > PROOF_BUDGET) {
      best = Math.max(best, bound);  // sorted: every remaining cheap bound is at most this one
      break;
    }
    spent += proofCost * blocks;
    for (const m of symbol(f)) best = Math.max(best, Math.min(proven(m), cheap(m)));
  }
  return (best + entryError) * (1 + 4 * U);
}
