/**
 * Float64 arithmetic rounded up, for the bound walk: every product and sum of non-negative
 * factors is at least the exact one, so the bound is never optimistic.
 */
import type {Norm} from './matrix_norm.js';

/**
 * `x` rounded up past the float64 rounding of the operation that gave it: a non-negative
 * result of one rounded operation is at least `exact (1 - u)`, `u = 2^-53`, and
 * `fl(x (1 + 4u)) >= exact (1 - u)^2 (1 + 4u) > exact`. (Underflow to subnormals, where
 * the error is absolute, is out of reach of bounds of real networks.)
 */
export function up(x: number): number {
  return x * (1 + 2 ** -51);
}

/** Veltkamp's split of `x` into two halves whose products are exact in float64. */
function split(x: number): [number, number] {
  const c = 134217729 * x;  // 2^27 + 1
  const hi = c - (c - x);
  return [hi, x - hi];
}

/**
 * `a b` (both >= 0) rounded up: unchanged when exact (Dekker's product error, `a b - fl(a b)`
 * exactly, is <= 0), so that exact products such as `1 x` stay as they are.
 */
export function mulUp(a: number, b: number): number {
  const p = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const err = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return Number.isFinite(err) && err <= 0 ? p : up(p);
}

/** `a + b` (both >= 0) rounded up: unchanged when exact (Knuth's sum error is <= 0). */
function addUp(a: number, b: number): number {
  const s = a + b;
  const bb = s - a;
  const err = (a - (s - bb)) + (b - bb);
  return Number.isFinite(err) && err <= 0 ? s : up(s);
}

/** A sum of non-negative terms, each addition rounded up. */
export function sumUp(xs: number[]): number {
  return xs.reduce(addUp, 0);
}

/** Combines the bounds of parts of one output vector (concatenation) under norm p, rounded up. */
export function concatBound(bounds: number[], p: Norm): number {
  if (p === Infinity || bounds.length === 1) return Math.max(...bounds);
  if (p === 1) return sumUp(bounds);
  return up(Math.sqrt(sumUp(bounds.map((b) => mulUp(b, b)))));
}
