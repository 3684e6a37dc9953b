/**
 * The bound multiplies per-layer factors in float64, and every product can round down by
 * 2^-53 relative: the bound must still be >= the exact product of its factors, checked in
 * exact rational arithmetic (BigInt) on a chain whose float64 product rounds down.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import {lipschitzBound} from '@deepspline/lipschitz';
import {rng, useCpu} from './helpers.js';

beforeAll(useCpu);

/** A finite positive float64 as `m 2^e` (BigInt m). */
function exact(x: number): {m: bigint, e: number} {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  return biased === 0 ? {m: frac, e: -1074} : {m: frac | (1n << 52n), e: biased - 1075};
}

/** Whether `x >= prod(factors)` exactly. */
function atLeastProduct(x: number, factors: number[]): boolean {
  let m = 1n;
  let e = 0;
  for (const f of factors) { const r = exact(f); m *= r.m; e += r.e; }
  const b = exact(x);
  // compare b.m 2^b.e with m 2^e
  const shift = b.e - e;
  return shift >= 0 ? (b.m << BigInt(shift)) >= m : b.m >= (m << BigInt(-shift));
}

/** Alphas of LeakyReLU layers (factor max(1, |alpha|), exactly) whose float64 product rounds down. */
function roundingDownChain(layers: number): number[] {
  const r = rng(53);
  for (let attempt = 0; attempt < 1000; ++attempt) {
    const alphas = Array.from({length: layers}, () => 1 + r());
    const chain = alphas.reduce((a, b) => a * b, 1);
    if (!atLeastProduct(chain, alphas)) return alphas;
  }
  throw new Error('no chain rounds down');
}

test('the bound of a chain of factors is >= their exact product (norms 1, 2, Infinity)', () => {
  for (const layers of [2, 5, 12]) {
    const alphas = roundingDownChain(layers);
    expect(atLeastProduct(alphas.reduce((a, b) => a * b, 1), alphas)).toBe(false);  // float64 rounds down
    const model = tfl.sequential({layers: [tfl.layers.inputLayer({inputShape: [3]}),
      ...alphas.map((alpha) => tfl.layers.leakyReLU({alpha}))]});
    for (const norm of [1, 2, Infinity]) {
      const {bound, layers: entries} = lipschitzBound(model, {norm});
      expect(entries.slice(1).map((l) => l.factor)).toEqual(alphas);
      expect(atLeastProduct(bound, alphas)).toBe(true);
      expect(bound / alphas.reduce((a, b) => a * b, 1) - 1).toBeLessThan(1e-14);
    }
    model.dispose();
  }
});

test('Add and Concatenate of branches: >= the exact sum / root of sum of squares', () => {
  const alphas = roundingDownChain(4);
  const input = tfl.input({shape: [3]});
  const a = tfl.layers.leakyReLU({alpha: alphas[0]!}).apply(input) as tfl.SymbolicTensor;
  const b = tfl.layers.leakyReLU({alpha: alphas[1]!}).apply(a) as tfl.SymbolicTensor;
  const c = tfl.layers.leakyReLU({alpha: alphas[2]!}).apply(input) as tfl.SymbolicTensor;
  const d = tfl.layers.leakyReLU({alpha: alphas[3]!}).apply(c) as tfl.SymbolicTensor;
  const sum = tfl.model({inputs: input, outputs: tfl.layers.add().apply([b, d]) as tfl.SymbolicTensor});
  const cat = tfl.model({inputs: input, outputs: tfl.layers.concatenate().apply([b, d]) as tfl.SymbolicTensor});
  const bd = [alphas[0]!, alphas[1]!];
  const cd = [alphas[2]!, alphas[3]!];
  // the bound and the two branch products as integers on one scale (exact comparisons)
  const exactSum = (x: number) => {
    const [p, q] = [bd, cd].map((fs) => { let m = 1n, e = 0; for (const f of fs) { const r = exact(f); m *= r.m; e += r.e; } return {m, e}; });
    const e = Math.min(p!.e, q!.e, exact(x).e);
    const lift = (v: {m: bigint, e: number}) => v.m << BigInt(v.e - e);
    return {x: lift(exact(x)), p: lift(p!), q: lift(q!)};
  };
  for (const norm of [1, 2, Infinity]) {
    const s = exactSum(lipschitzBound(sum, {norm}).bound);
    expect(s.x >= s.p + s.q).toBe(true);
  }
  const c2 = exactSum(lipschitzBound(cat, {norm: 2}).bound);
  expect(c2.x * c2.x >= c2.p * c2.p + c2.q * c2.q).toBe(true);
  const c1 = exactSum(lipschitzBound(cat, {norm: 1}).bound);
  expect(c1.x >= c1.p + c1.q).toBe(true);
  sum.dispose();  // the layers are shared with `cat`
});
