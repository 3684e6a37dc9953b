/** The uniform knot grid of a spline activation (this package's README, "Semantics"). */
import {ArgumentError} from './errors.js';
import {checkInteger, checkPositive, describe} from './validate.js';

/** How a grid is specified: `size` and either a one-sided `range` or a spacing `grid`. */
export interface SplineGridArgs {
  /** Number of coefficients `K >= 3` (odd puts a knot at 0, as the reference requires). */
  size: number;
  /** One-sided range `r > 0`: knots from `-r` to `r`. Exclusive with `grid`. */
  range?: number;
  /** Knot spacing `T > 0`; the range is then `T (K - 1) / 2`. Exclusive with `range`. */
  grid?: number;
}

/** A resolved symmetric grid: knots `start + k * step`, `k = 0 .. size-1`, `start = -range`. */
export interface SplineGrid {
  /** Number of coefficients (knots) `K`. */
  size: number;
  /** One-sided range `r`: the knots span `[-r, r]`. */
  range: number;
  /** The first knot, `-range`. */
  start: number;
  /** Knot spacing `T = 2r / (K - 1)`. */
  step: number;
}

/**
 * Resolves `{size, range}` or `{size, grid}` into knots. `T = 2r / (K - 1)`, `r = T (K-1) / 2`.
 * Throws a clear error for a non-integer or too small `size`, a non-positive or non-finite
 * `range`/`grid`, both given, a knot span `2r` beyond the largest float64, or a spacing that
 * underflows to 0.
 */
export function splineGrid(args: SplineGridArgs, context = 'splineGrid'): SplineGrid {
  if (args == null || typeof args !== 'object') {
    throw new ArgumentError(`${context}: expected {size, range} or {size, grid}, got ${describe(args)}`);
  }
  const size = checkInteger('size', args.size, 3, context);
  const hasRange = args.range !== undefined && args.range !== null;
  const hasGrid = args.grid !== undefined && args.grid !== null;
  if (hasRange && hasGrid) {
    throw new ArgumentError(`${context}: give either range or grid, not both ` +
      `(got range ${describe(args.range)} and grid ${describe(args.grid)})`);
  }
  if (!hasRange && !hasGrid) {
    throw new ArgumentError(`${context}: expected range or grid, got neither`);
  }
  // The knot span 2 r = T (K - 1) must be finite: the kernels compute x - start, up to the span
  // inside the grid, and the spacing 2 r / (K - 1) overflows with it.
  let range: number;
  let step: number;
  if (hasGrid) {
    step = checkPositive('grid', args.grid, context);
    if (!Number.isFinite(step * (size - 1))) {
      const limit = (Number.MAX_VALUE / (size - 1)).toPrecision(6);
      throw new ArgumentError(`${context}: expected grid * (size - 1) <= ${Number.MAX_VALUE} (the largest ` +
        `float64: the knot span), so grid at most about ${limit} for size ${size}; got grid ` +
        `${describe(step)}`);
    }
    range = step * (size - 1) / 2;
  } else {
    range = checkPositive('range', args.range, context);
    if (!Number.isFinite(2 * range)) {
      throw new ArgumentError(`${context}: expected range <= ${Number.MAX_VALUE / 2} (half the largest ` +
        `float64, so that the knot span 2 * range is finite), got ${describe(range)}`);
    }
    step = 2 * range / (size - 1);
    if (step === 0) {
      throw new ArgumentError(`${context}: expected a positive knot spacing 2 * range / (size - 1), got 0 ` +
        `(underflow) from range ${describe(range)} and size ${size}`);
    }
  }
  return {size, range, start: -range, step};
}
