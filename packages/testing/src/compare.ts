/**
 * Comparisons that say what differs: the class of each value (NaN, ±Inf, finite), the sign
 * of zeros, and the largest error of finite values over a scale. Results are plain objects,
 * so that a browser page can return them to the test.
 */

/** What {@link compareValues} found. */
export interface Comparison {
  /** Largest `|got - want| / scale` over elements where `want` is finite. */
  maxError: number;
  /** Elements whose class (NaN, +Inf, -Inf, finite) differs from the expected one. */
  classMismatches: number;
  /** Elements where both are zero with different signs. */
  zeroSignMismatches: number;
  /** Elements of `got` that are `-0`. */
  negativeZeros: number;
  /** Elements whose bits differ (any NaN equals any NaN). */
  bitMismatches: number;
  /** The first few offending elements, for messages. */
  examples: string[];
}

/** NaN, +Inf, -Inf or finite. */
export function valueClass(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : 'finite';
}

/** A number as a message shows it (`-0` visible). */
export function show(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Compares `got` (float32 results) with `want` (float64 reference, or float32 results of
 * another implementation). The expected class is the class of `want` rounded to float32, so a
 * float64 value beyond float32's range expects ±Inf. `scale[i]` (default `max(|want|, 1)`)
 * divides the error of finite values.
 */
export function compareValues(got: ArrayLike<number>, want: ArrayLike<number>,
    scale?: ArrayLike<number>): Comparison {
  const r: Comparison = {maxError: 0, classMismatches: 0, zeroSignMismatches: 0, negativeZeros: 0,
    bitMismatches: 0, examples: []};
  if (got.length !== want.length) {
    r.classMismatches = Math.max(got.length, want.length);
    r.examples.push(`length ${got.length}, expected ${want.length}`);
    return r;
  }
  const note = (i: number, w: number) => {
    if (r.examples.length < 6) r.examples.push(`[${i}] got ${show(got[i])}, expected ${show(w)}`);
  };
  for (let i = 0; i < want.length; ++i) {
    const a = got[i];
    const w = Math.fround(want[i]);
    if (Object.is(a, -0)) r.negativeZeros++;
    if (!Object.is(a, w) && !(Number.isNaN(a) && Number.isNaN(w))) r.bitMismatches++;
    if (valueClass(a) !== valueClass(w)) {
      r.classMismatches++;
      note(i, want[i]);
      continue;
    }
    if (a === 0 && w === 0 && !Object.is(a, w)) {
      r.zeroSignMismatches++;
      note(i, w);
      continue;
    }
    if (valueClass(w) !== 'finite') continue;
    const s = scale === undefined ? Math.max(Math.abs(want[i]), 1) : Math.max(scale[i], 1e-300);
    const e = Math.abs(a - want[i]) / s;
    if (e > r.maxError) {
      r.maxError = e;
      if (e > 1e-3) note(i, want[i]);
    }
  }
  return r;
}

/** Whether two arrays hold the same float32 bits (any NaN equals any NaN). */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; ++i) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  }
  return true;
}

/** The largest `|x|` of an array (0 when empty). */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; ++i) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/**
 * Throws unless `actual[i]` is within `rel * max(|expected[i]|, floor)` of `expected[i]` for
 * every `i`, with non-finite values required to match exactly (any NaN equals any NaN).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number,
    what: string, floor: ArrayLike<number> | number = 1e-30): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length}, expected ${expected.length}`);
  }
  for (let i = 0; i < expected.length; ++i) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) {
        throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
      }
      continue;
    }
    const f = typeof floor === 'number' ? floor : floor[i];
    const tol = rel * Math.max(Math.abs(e), f);
    if (!(Math.abs(a - e) <= tol)) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
    }
  }
}

/** Largest `|a - b| / (atol + rtol |b|)` over two arrays (`<= 1`: within tolerance), and where. */
export function worst(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number):
    {ratio: number, index: number} {
  let ratio = 0;
  let index = -1;
  for (let i = 0; i < b.length; ++i) {
    const r = Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i]));
    if (!(r <= ratio)) { ratio = r; index = i; }
  }
  return {ratio, index};
}
