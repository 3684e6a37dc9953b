/** The uniform knot grid of a spline activation (this package's README, "Semantics"). */
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
 * `range`/`grid`, or both given.
 */
export function splineGrid(args: SplineGridArgs, context = 'splineGrid'): SplineGrid {
  if (args == null || typeof args !== 'object') {
    throw new Error(`${context}: expected {size, range} or {size, grid}, got ${describe(args)}`);
  }
  const size = checkInteger('size', args.size, 3, context);
  const hasRange = args.range !== undefined && args.range !== null;
  const hasGrid = args.grid !== undefined && args.grid !== null;
  if (hasRange && hasGrid) {
    throw new Error(`${context}: give either range or grid, not both ` +
      `(got range ${describe(args.range)} and grid ${describe(args.grid)})`);
  }
  if (!hasRange && !hasGrid) {
    throw new Error(`${context}: expected range or grid, got neither`);
  }
  let range: number;
  let step: number;
  if (hasGrid) {
    step = checkPositive('grid', args.grid, context);
    range = step * (size - 1) / 2;
  } else {
    range = checkPositive('range', args.range, context);
    step = 2 * range / (size - 1);
  }
  if (!(step > 0) || !Number.isFinite(range)) {
    throw new Error(`${context}: the grid of size ${size} with range ${range} and spacing ` +
      `${step} is not representable`);
  }
  return {size, range, start: -range, step};
}
