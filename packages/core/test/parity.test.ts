/**
 * The fused cpu kernel equals the composite fallback (and both equal the float64 reference)
 * on random shapes: rank 2-5, C 1..300, K 3..101, shared and per-channel.
 */
import {refBackward, refForward, worst} from './reference';
import {maxAbs, randomArray, rng, run, useCpu, withImpl} from './helpers';

beforeAll(useCpu);

interface Case {
  shape: number[];
  C: number;
  K: number;
  shared: boolean;
  start: number;
  step: number;
}

function randomCases(count: number, seed: number): Case[] {
  const next = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const cases: Case[] = [];
  for (let i = 0; i < count; ++i) {
    const rank = 2 + (i % 4);
    const channels = i === 0 ? 300 : i === 1 ? 1 : int(1, 300);
    const K = i === 2 ? 3 : i === 3 ? 101 : int(3, 101);
    const shared = i % 3 === 0;
    const budget = Math.max(1, Math.floor(6000 / channels));
    const shape = [channels];
    let rest = budget;
    for (let d = 1; d < rank; ++d) {
      const size = Math.max(1, Math.min(rest, int(1, d === rank - 1 ? rest : 6)));
      shape.unshift(size);
      rest = Math.max(1, Math.floor(rest / size));
    }
    const range = 0.5 + 3 * next();
    cases.push({shape, C: shared ? 1 : channels, K, shared, start: -range,
      step: 2 * range / (K - 1)});
  }
  return cases;
}

describe.each(randomCases(16, 2024).map((c) => [JSON.stringify(c), c] as [string, Case]))(
    'case %s', (_name, cs) => {
  const next = rng(cs.K * 1000 + cs.C);
  const n = cs.shape.reduce((a, b) => a * b, 1);
  const channels = cs.shape[cs.shape.length - 1];
  const range = -cs.start;
  // values inside the grid, on it, and beyond both ends
  const x = randomArray(n, -1.5 * range, 1.5 * range, next);
  const c = randomArray(cs.C * cs.K, -2, 2, next);
  const dy = randomArray(n, -1, 1, next);
  const spline = {c, C: cs.C, K: cs.K, start: cs.start, step: cs.step};

  test('forward and backward: kernel == fallback == reference', () => {
    const kernel = withImpl('kernel', () => run(x, cs.shape, c, cs.C, cs.K, cs.start, cs.step, dy));
    const fallback = withImpl('fallback',
      () => run(x, cs.shape, c, cs.C, cs.K, cs.start, cs.step, dy));
    const ref = refForward(spline, x, channels);
    const maxSlope = 4 / cs.step;
    const atolY = 1e-6 * (maxAbs(c) + 2.5 * range * maxSlope);
    expect(worst(kernel.y, fallback.y, 1e-6, atolY).ratio).toBeLessThanOrEqual(1);
    expect(worst(kernel.y, ref, 1e-6, atolY).ratio).toBeLessThanOrEqual(1);

    const g = refBackward(spline, x, dy, channels);
    expect(worst(kernel.dx!, fallback.dx!, 1e-6, 1e-6 * maxSlope).ratio).toBeLessThanOrEqual(1);
    expect(worst(kernel.dx!, g.dx, 1e-6, 1e-6 * maxSlope).ratio).toBeLessThanOrEqual(1);
    // a sum over many elements: tolerance scaled by the sum of |contributions| per coefficient
    const atolC = 1e-6 * maxAbs(g.scale) + 1e-6;
    expect(worst(kernel.dc!, fallback.dc!, 1e-6, atolC).ratio).toBeLessThanOrEqual(1);
    expect(worst(kernel.dc!, g.dc, 1e-6, atolC).ratio).toBeLessThanOrEqual(1);
  });
});
