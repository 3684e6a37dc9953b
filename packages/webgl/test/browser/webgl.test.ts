// Browser tests of @deepspline/webgl in headless Chromium (WebGL 2 through SwiftShader).
// The page (page.ts) runs the kernels through the op and compares with the cpu rule of
// @deepspline/core computed in float64 on the same inputs. Run: npm run test:browser
import {openPage} from '../../../../test-browser/harness.mjs';
import type {BrowserPage} from '../../../../test-browser/harness.mjs';

interface Compare {maxRel: number, classMismatches: number, zeroSignMismatches: number,
  negativeZeros: number, examples: string[]}
interface Parity {shape: number[], C: number, K: number, packedInput?: boolean, y: Compare,
  dx: Compare, dc: Compare, name?: string}
interface SpecialParity extends Parity {
  name: string;
  reference: {nanY: number, nanDx: number, finiteY: number, negativeZeroDx: number,
    positiveZeroDx: number, zeroY: number, zeroDc: number};
}
interface ZeroChannels {
  xShape: number[];
  C: number;
  got: {y: number[], dx: number[], dc: number[], dcValues: string[], yLength: number,
    dxLength: number};
  expected: {dcValues: string[]};
}

const TOL = 1e-5;
let p: BrowserPage;
const summary: Record<string, unknown> = {};

async function call<T>(name: string, ...args: unknown[]): Promise<T> {
  return p.page.evaluate(([n, a]) => {
    const suite = (window as unknown as {suite: Record<string, (...x: unknown[]) => unknown>}).suite;
    return suite[n as string](...(a as unknown[]));
  }, [name, args] as const) as Promise<T>;
}

/**
 * The same class (NaN, ±Inf, finite) as the cpu kernel everywhere, the same sign wherever
 * both are zero, no -0 in y or dc (core README "Semantics"), finite values within TOL.
 */
function expectParity(r: Parity | (Parity & {rows: number}), parts: Array<'y' | 'dx' | 'dc'>) {
  for (const part of parts) {
    const c = r[part];
    const where = `${part} for ${r.name ? `${r.name}, ` : ''}x of shape [${r.shape}], C=${r.C}, K=${r.K}`;
    expect({where, mismatches: c.classMismatches, zeroSigns: c.zeroSignMismatches,
      negativeZeros: part === 'dx' ? 0 : c.negativeZeros, examples: c.examples})
      .toEqual({where, mismatches: 0, zeroSigns: 0, negativeZeros: 0, examples: []});
    if (!(c.maxRel <= TOL)) throw new Error(`${where}: max relative error ${c.maxRel} > ${TOL}`);
  }
}

function maxOf(results: Parity[], part: 'y' | 'dx' | 'dc'): number {
  return Math.max(...results.map((r) => r[part].maxRel));
}

beforeAll(async () => {
  p = await openPage(require.resolve('./page.ts'));
});

afterAll(async () => {
  // eslint-disable-next-line no-console
  console.log(`@deepspline/webgl browser test summary:\n${JSON.stringify(summary, null, 1)}`);
  await p?.close();
});

test('WebGL 2 is available with float32 render targets (no silent cpu fallback)', async () => {
  const env = await call<Record<string, unknown>>('environment');
  summary.environment = env;
  expect(env.webgl).toBe(true);
  expect(env.backend).toBe('webgl');
  expect(env.WEBGL_VERSION).toBe(2);
  expect(env.WEBGL_RENDER_FLOAT32_ENABLED).toBe(true);
  expect(env.highpFloat).toEqual({rangeMin: 127, rangeMax: 127, precision: 23});
  // 1 + 2^-23, 16777217 -> 16777216 etc. survive upload, the kernel and download bit-exactly
  expect(env.identityExact).toBe(true);
  expect(env.implementation).toBe('kernel');
});

test("import '@deepspline/webgl' makes the op run the fused kernels, not the fallback", async () => {
  const forward = await call<string[]>('kernelsUsed', 'forward');
  const backward = await call<string[]>('kernelsUsed', 'backward');
  summary.kernels = {forward, backward};
  expect(forward).toContain('LinearSpline');
  expect(backward).toContain('LinearSplineGrad');
  for (const fallbackKernel of ['GatherV2', 'Floor', 'UnsortedSegmentSum', 'ClipByValue']) {
    expect(forward).not.toContain(fallbackKernel);
    expect(backward).not.toContain(fallbackKernel);
  }
});

test('parity with the cpu rule on random shapes (ranks 0..6, shared and per-channel)', async () => {
  const results = [
    ...await call<Parity[]>('parityRandom', 1),
    ...await call<Parity[]>('parityRandom', 2),
  ];
  expect(results.length).toBe(38);
  // 4 cases per seed read x from a packed texture (matMul output), the others unpacked
  expect(results.filter((r) => r.packedInput).length).toBe(8);
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  summary.parityRandom = {cases: results.length, maxRelY: maxOf(results, 'y'),
    maxRelDx: maxOf(results, 'dx'), maxRelDcOverSumAbsDy: maxOf(results, 'dc')};
});

test('parity on the special values: NaN, ±Inf, ±3.4e38, subnormals, ±0, knots', async () => {
  const all = await call<Array<Parity & {got: {y: string[]}, expected: {y: string[]}}>>(
    'paritySpecial', true);
  for (const r of all) expectParity({...r, shape: ['specials' as unknown as number], K: 9}, ['y', 'dx']);
  // with ±3.4e38 the float32 term (x - t_k) dy / step overflows on the GPU (float64 on cpu):
  // the only dcoefficients difference allowed is NaN (Inf - Inf) where the cpu has ±Inf
  for (const r of all) {
    for (const e of r.dc.examples) expect(e).toMatch(/got NaN, expected -?Infinity$/);
    expect(r.dc.maxRel).toBeLessThanOrEqual(TOL);
  }
  // without ±3.4e38 the coefficient gradient matches too, including NaN and ±Inf entries
  const noHuge = await call<Parity[]>('paritySpecial', false);
  for (const r of noHuge) expectParity({...r, shape: ['specials' as unknown as number], K: 9}, ['y', 'dx', 'dc']);
  // spot checks of the rule itself: NaN -> NaN; +Inf on a flat end segment -> end value
  const flat = all[1];
  expect(flat.got.y[0]).toBe('NaN');
  expect(flat.got.y[1]).toBe('-1');        // c[K-1] of the flat channel
  expect(flat.got.y[2]).toBe('1');         // c[0]
  summary.paritySpecial = {maxRelY: maxOf(all, 'y'), maxRelDx: maxOf(all, 'dx'),
    maxRelDcWithoutHuge: maxOf(noHuge, 'dc')};
});

/** The checks of the special cases (shared by the WebGL 2 and WebGL 1 tests). */
function expectSpecialCases(results: SpecialParity[]) {
  expect(results.map((r) => r.name)).toEqual(['non-finite coefficients',
    '-0 inputs and coefficients', 'dy = -0, one stage', 'dy = -0, two stages']);
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  // the fixtures exercise the rules: NaN and finite values next to non-finite coefficients,
  // -0 and +0 slopes times dy, zero values, coefficient gradients that are sums of -0
  const [nonFinite, zeros, dyZero1, dyZero2] = results.map((r) => r.reference);
  expect(nonFinite.nanY).toBeGreaterThan(nonFinite.nanDx / 2);
  expect(nonFinite.nanY).toBeGreaterThan(20);
  expect(nonFinite.finiteY).toBeGreaterThan(20);
  expect(zeros.negativeZeroDx).toBeGreaterThan(5);
  expect(zeros.positiveZeroDx).toBeGreaterThan(5);
  expect(zeros.zeroY).toBeGreaterThan(10);
  expect([dyZero1.zeroDc, dyZero2.zeroDc]).toEqual([3, 3]);
}

/** Empty inputs and zero channels: the shapes of x and of the coefficients, dc = +0. */
function expectZeroChannels(results: ZeroChannels[]) {
  expect(results.length).toBe(5);
  for (const r of results) {
    expect({xShape: r.xShape, C: r.C, ...r.got}).toEqual({xShape: r.xShape, C: r.C, y: r.xShape,
      dx: r.xShape, dc: [r.C, 5], dcValues: r.expected.dcValues, yLength: 0, dxLength: 0});
  }
}

test('special cases as the cpu kernel: non-finite coefficients, -0 inputs, coefficients, dy', async () => {
  const results = await call<SpecialParity[]>('specialCases');
  summary.specialCases = results.map((r) => ({name: r.name, reference: r.reference,
    maxRelY: r.y.maxRel, maxRelDx: r.dx.maxRel, maxRelDc: r.dc.maxRel}));
  expectSpecialCases(results);
});

test('zero channels and empty inputs: x [3, 0], [0, 4], [2, 0, 3], per-channel and shared', async () => {
  expectZeroChannels(await call<ZeroChannels[]>('zeroChannels'));
});

test('far from the origin (|start| / step up to 3e6): y and dc within the README\'s float32 knot bounds', async () => {
  const results = await call<Array<{start: number, step: number, errOverBound: number,
    errOverD: number, errOverMaxAbsY1: number, dcErrOverSumAbsDy: number, dcKnotTerm: number}>>(
    'farFromOrigin', 5);
  summary.farFromOrigin = results;
  expect(results.length).toBe(10);
  for (const r of results) {
    expect({...r, withinBound: r.errOverBound <= 1,
      dcWithinBound: r.dcErrOverSumAbsDy <= r.dcKnotTerm + TOL})
      .toEqual({...r, withinBound: true, dcWithinBound: true});
  }
  // binary-exact grids (every knot a float32) keep the parity tolerance at any offset
  for (const r of results.slice(-2)) expect(r.errOverMaxAbsY1).toBeLessThanOrEqual(TOL);
  // others do not: the limit the README states is real
  expect(Math.max(...results.map((r) => r.errOverMaxAbsY1))).toBeGreaterThan(1e-3);
});

test('the two-stage dcoefficients reduction at its block boundaries (64 .. 30000 rows)', async () => {
  const results = await call<Array<Parity & {rows: number, plan: unknown}>>('parityReduction');
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  summary.parityReduction = results.map((r) => ({rows: r.rows, plan: r.plan,
    dcMaxErrOverSumAbsDy: r.dc.maxRel}));
});

test('bad input to the kernel fails with the clear checkSplineArgs error', async () => {
  const messages = await call<string[]>('badInput');
  expect(messages[0]).toMatch(/coefficients of shape \[2,5\] do not match x of shape \[4,3\]/);
  expect(messages[1]).toMatch(/K >= 3/);
  expect(messages[2]).toMatch(/expected step > 0, got 0/);
  expect(messages[3]).toMatch(/float32.*int32/);
});

test('no tensor or texture leaks', async () => {
  const m = await call<{before: number, after: number, bytesBefore: number, bytesAfter: number}>('leaks');
  expect(m.after).toBe(m.before);
  expect(m.bytesAfter).toBe(m.bytesBefore);
});

test('a small spline network trains with fit on webgl (loss goes down)', async () => {
  const t = await call<{backend: string, implementation: string, losses: number[],
    accuracy: number, tensors: {mid: number, end: number}}>('train');
  summary.train = {firstLoss: t.losses[0], lastLoss: t.losses[t.losses.length - 1],
    epochs: t.losses.length, accuracy: t.accuracy};
  expect(t.backend).toBe('webgl');
  expect(t.implementation).toBe('kernel');
  expect(t.losses.every(Number.isFinite)).toBe(true);
  expect(t.losses[t.losses.length - 1]).toBeLessThan(0.25 * t.losses[0]);
  expect(t.accuracy).toBeGreaterThan(0.9);
  expect(t.tensors.end).toBe(t.tensors.mid);
});

test('WebGL 1 (the GLSL ES 1.0 variant of the programs): parity on random shapes and specials', async () => {
  const p1 = await openPage(require.resolve('./page.ts'));
  try {
    const call1 = <T>(name: string, ...args: unknown[]) => p1.page.evaluate(([n, a]) => {
      const suite = (window as unknown as {suite: Record<string, (...x: unknown[]) => unknown>}).suite;
      return suite[n as string](...(a as unknown[]));
    }, [name, args] as const) as Promise<T>;
    await call1('forceWebGL1');
    const env = await call1<Record<string, unknown>>('environment');
    expect(env.WEBGL_VERSION).toBe(1);
    expect(env.WEBGL_RENDER_FLOAT32_ENABLED).toBe(true);
    expect(env.implementation).toBe('kernel');
    const random = await call1<Parity[]>('parityRandom', 3, true);
    for (const r of random) expectParity(r, ['y', 'dx', 'dc']);
    const special = await call1<Parity[]>('paritySpecial', false);
    for (const r of special) expectParity({...r, shape: ['specials' as unknown as number], K: 9}, ['y', 'dx', 'dc']);
    expectSpecialCases(await call1<SpecialParity[]>('specialCases'));
    expectZeroChannels(await call1<ZeroChannels[]>('zeroChannels'));
    expect(p1.errors).toEqual([]);
    summary.webgl1 = {cases: random.length + special.length, maxRelY: maxOf(random, 'y'),
      maxRelDx: maxOf(random, 'dx'), maxRelDcOverSumAbsDy: maxOf(random, 'dc')};
  } finally {
    await p1.close();
  }
});

test('the page logged no errors', () => {
  expect(p.errors).toEqual([]);
});
