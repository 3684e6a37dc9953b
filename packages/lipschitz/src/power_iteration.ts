/**
 * The options of the power iterations behind every norm-2 bound, and their warm-start state:
 * plain float64 vectors kept between calls (no tensors, nothing to dispose).
 */

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
