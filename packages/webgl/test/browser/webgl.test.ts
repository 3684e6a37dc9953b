// Browser tests of @deepspline/webgl in headless Chromium (WebGL 2 and WebGL 1 through
// SwiftShader). The shared kernel conformance suite runs in the page (page.ts) and reports
// each check here; the webgl-only checks compare with the cpu rule of @deepspline/core
// computed in float64 on the same inputs. Run: npm run test:browser
import {openPage} from '../../../../test-browser/harness.mjs';
import type {BrowserPage} from '../../../../test-browser/harness.mjs';
import {checkFarFromOrigin, describeSplineKernel, expectCircleNetTrained} from '@deepspline/testing';
import type {CircleNetTraining, Comparison, ConformanceOptions, ConformanceResult, FarFromOriginResult}
  from '@deepspline/testing';

interface Parity {shape: number[], C: number, K: number, packedInput?: boolean, y: Comparison,
  dx: Comparison, dc: Comparison, name?: string}

/** The README's parity bound for float32 GPU arithmetic on grids near the origin. */
const TOL = 1e-5;
let p: BrowserPage;
let p1: BrowserPage;
const summary: Record<string, unknown> = {};

async function callOn<T>(page: BrowserPage, name: string, ...args: unknown[]): Promise<T> {
  return page.page.evaluate(([n, a]) => {
    const suite = (window as unknown as {suite: Record<string, (...x: unknown[]) => unknown>}).suite;
    return suite[n as string](...(a as unknown[]));
  }, [name, args] as const) as Promise<T>;
}
const call = <T>(name: string, ...args: unknown[]) => callOn<T>(p, name, ...args);

/**
 * The same class (NaN, ±Inf, finite) as the cpu kernel everywhere, the same sign wherever
 * both are zero, no -0 in y or dc (core README "Semantics"), finite values within TOL.
 */
function expectParity(r: Parity, parts: Array<'y' | 'dx' | 'dc'>) {
  for (const part of parts) {
    const c = r[part];
    const where = `${part} for ${r.name ? `${r.name}, ` : ''}x of shape [${r.shape}], C=${r.C}, K=${r.K}`;
    expect({where, mismatches: c.classMismatches, zeroSigns: c.zeroSignMismatches,
      negativeZeros: part === 'dx' ? 0 : c.negativeZeros})
      .toEqual({where, mismatches: 0, zeroSigns: 0, negativeZeros: 0});
    if (!(c.maxError <= TOL)) throw new Error(`${where}: max relative error ${c.maxError} > ${TOL}`);
  }
}

function maxOf(results: Parity[], part: 'y' | 'dx' | 'dc'): number {
  return Math.max(...results.map((r) => r[part].maxError));
}

/** Runs the whole suite once in `page()` and answers per check. */
function remote(page: () => BrowserPage, options: ConformanceOptions) {
  let all: Promise<ConformanceResult[]> | null = null;
  return async (name: string): Promise<ConformanceResult> => {
    all ??= callOn<ConformanceResult[]>(page(), 'conformance', options);
    return (await all).find((r) => r.name === name) ??
      {name, ok: false, message: 'the page did not run this check'};
  };
}

beforeAll(async () => {
  p = await openPage(require.resolve('./page.ts'));
  p1 = await openPage(require.resolve('./page.ts'));
  await callOn(p1, 'forceWebGL1');
});

afterAll(async () => {
  // eslint-disable-next-line no-console
  console.log(`@deepspline/webgl browser test summary:\n${JSON.stringify(summary, null, 1)}`);
  await p?.close();
  await p1?.close();
});

// float32 arithmetic: within TOL of the reference; with ±3.4e38 inputs the float32 term
// (x - t_k) dy / step overflows, so the coefficient gradient is not compared there (README).
const options: ConformanceOptions = {backend: 'webgl', implementation: 'kernel', bitExact: false,
  tolerance: TOL};
describeSplineKernel({...options, label: 'WebGL 2', remote: remote(() => p, options)});
describeSplineKernel({...options, label: 'WebGL 1', remote: remote(() => p1, options)});

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

test('far from the origin (|start| / step up to 3e6): y and dc within the README\'s float32 knot bounds', async () => {
  const results = await call<FarFromOriginResult[]>('farFromOrigin', 5);
  summary.farFromOrigin = results;
  checkFarFromOrigin(results, TOL);
});

test('the two-stage dcoefficients reduction at its block boundaries (64 .. 30000 rows)', async () => {
  const results = await call<Array<Parity & {rows: number, plan: unknown}>>('parityReduction');
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  summary.parityReduction = results.map((r) => ({rows: r.rows, plan: r.plan,
    dcMaxErrOverSumAbsDy: r.dc.maxError}));
});

test('a small spline network trains with fit on webgl (loss goes down)', async () => {
  summary.train = expectCircleNetTrained(await call<CircleNetTraining>('train'), 'webgl');
});

test('WebGL 1 (the GLSL ES 1.0 variant of the programs) is what the second page runs', async () => {
  const env = await callOn<Record<string, unknown>>(p1, 'environment');
  expect(env.WEBGL_VERSION).toBe(1);
  expect(env.WEBGL_RENDER_FLOAT32_ENABLED).toBe(true);
  expect(env.implementation).toBe('kernel');
  const packed = await callOn<Parity[]>(p1, 'parityPacked', 3);
  for (const r of packed) expectParity(r, ['y', 'dx', 'dc']);
});

test('parity when x is read from packed textures (matMul outputs)', async () => {
  const results = [...await call<Parity[]>('parityPacked', 1), ...await call<Parity[]>('parityPacked', 2)];
  expect(results.filter((r) => r.packedInput).length).toBe(8);
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  summary.parityPacked = {cases: results.length, maxRelY: maxOf(results, 'y'),
    maxRelDx: maxOf(results, 'dx'), maxRelDcOverSumAbsDy: maxOf(results, 'dc')};
});

test('the pages logged no errors', () => {
  expect(p.errors).toEqual([]);
  expect(p1.errors).toEqual([]);
});
