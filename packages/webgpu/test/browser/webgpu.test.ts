// Browser tests of @deepspline/webgpu in headless Chromium (WebGPU on SwiftShader's adapter).
// The shared kernel conformance suite runs in the page (page.ts) and reports each check here;
// the webgpu-only checks compare with the cpu rule of @deepspline/core computed in float64 on
// the same inputs. Run: npm run test:browser
import {WEBGPU_ARGS} from '../../../../scripts/chromium.mjs';
import {openPage} from '../../../../test-browser/harness.mjs';
import type {BrowserPage} from '../../../../test-browser/harness.mjs';
import {checkFarFromOrigin, describeSplineKernel, expectCircleNetTrained} from '@deepspline/testing';
import type {CircleNetTraining, Comparison, ConformanceOptions, ConformanceResult, FarFromOriginResult}
  from '@deepspline/testing';
import {reductionPlan} from '@deepspline/webgpu/internal';

interface Parity {shape: number[], C: number, K: number, computedInput?: boolean, y: Comparison,
  dx: Comparison, dc: Comparison, dcPlain?: Comparison, name?: string, zeroDc?: number}

/** The README's parity bound for float32 GPU arithmetic on grids near the origin. */
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
function expectParity(r: Parity, parts: Array<'y' | 'dx' | 'dc'>) {
  for (const part of parts) {
    const c = r[part];
    const where = `${part} for ${r.name ? `${r.name}, ` : ''}x of shape [${r.shape}], C=${r.C}, K=${r.K}`;
    expect({where, mismatches: c.classMismatches, zeroSigns: c.zeroSignMismatches,
      negativeZeros: part === 'dx' ? 0 : c.negativeZeros, examples: c.examples})
      .toEqual({where, mismatches: 0, zeroSigns: 0, negativeZeros: 0, examples: []});
    if (!(c.maxError <= TOL)) throw new Error(`${where}: max relative error ${c.maxError} > ${TOL}`);
  }
}

function maxOf(results: Parity[], part: 'y' | 'dx' | 'dc' | 'dcPlain'): number {
  return Math.max(...results.map((r) => r[part]!.maxError));
}

/** Runs the whole suite once in the page and answers per check. */
function remote(options: ConformanceOptions) {
  let all: Promise<ConformanceResult[]> | null = null;
  return async (name: string): Promise<ConformanceResult> => {
    all ??= call<ConformanceResult[]>('conformance', options);
    return (await all).find((r) => r.name === name) ??
      {name, ok: false, message: 'the page did not run this check'};
  };
}

beforeAll(async () => {
  p = await openPage(require.resolve('./page.ts'), {args: WEBGPU_ARGS});
});

afterAll(async () => {
  // eslint-disable-next-line no-console
  console.log(`@deepspline/webgpu browser test summary:\n${JSON.stringify(summary, null, 1)}`);
  await p?.close();
});

// float32 arithmetic: within TOL of the reference; with ±3.4e38 inputs the float32 term
// (x - t_k) dy / step overflows, so the coefficient gradient is not compared there (README).
const options: ConformanceOptions = {backend: 'webgpu', implementation: 'kernel', bitExact: false,
  tolerance: TOL};
describeSplineKernel({...options, label: 'SwiftShader', remote: remote(options)});

test('WebGPU is available (SwiftShader adapter; no silent cpu fallback)', async () => {
  const env = await call<Record<string, unknown>>('environment');
  summary.environment = env;
  expect(env.webgpu).toBe(true);
  expect(env.backend).toBe('webgpu');
  expect(env.floatPrecision).toBe(32);
  // 1 + 2^-23, 16777217 -> 16777216 etc. survive upload, the kernel and download bit-exactly
  expect(env.identityExact).toBe(true);
  expect(env.implementation).toBe('kernel');
  expect((env.adapter as {architecture: string}).architecture).toBe('swiftshader');
});

test('parity with the cpu rule on 56 more random cases (ranks 0..6, shared and per-channel, K 3..101)', async () => {
  const results = [
    ...await call<Parity[]>('parityRandom', 1, 6),
    ...await call<Parity[]>('parityRandom', 2, 6),
  ];
  expect(results.length).toBe(2 * (18 + 6 + 4));
  expect(new Set(results.map((r) => r.shape.length))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6]));
  expect(Math.min(...results.map((r) => r.K))).toBe(3);
  expect(Math.max(...results.map((r) => r.K))).toBe(101);
  expect(results.some((r) => r.C === 1 && r.shape.length > 1)).toBe(true);
  expect(results.filter((r) => r.computedInput).length).toBe(8);
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  summary.parityRandom = {cases: results.length, maxRelY: maxOf(results, 'y'),
    maxRelDx: maxOf(results, 'dx'), maxRelDcOverTermsAndDy: maxOf(results, 'dc'),
    maxRelDcOverSumAbsDy: maxOf(results, 'dcPlain')};
});

test('far from the origin (|start| / step up to 3e6): y and dc within the README\'s float32 knot bounds', async () => {
  const results = await call<FarFromOriginResult[]>('farFromOrigin', 5);
  summary.farFromOrigin = results;
  checkFarFromOrigin(results, TOL);
});

test('the dcoefficients reduction at its plan\'s boundaries (1 .. 1e6 rows)', async () => {
  const results = await call<Array<Parity & {rows: number, plan: unknown}>>('parityReduction');
  for (const r of results) {
    expectParity(r, ['y', 'dx', 'dc']);
    // K = 21: also within the webgl README's measure (error over the plain sum of |dy|)
    expect(r.dcPlain!.maxError).toBeLessThanOrEqual(TOL);
  }
  summary.parityReduction = results.map((r) => ({rows: r.rows, plan: r.plan,
    dcMaxErrOverSumAbsDy: r.dcPlain!.maxError}));
});

test('dy = -0 through two reduction stages (shared and per-channel): dc is +0, never -0', async () => {
  // the suite's shared fixture (1000 elements) is two stages too; these add a per-channel case
  expect([reductionPlan(600, 1, 3).blocks, reductionPlan(20, 2, 3).blocks]).toEqual([2, 4]);
  const results = await call<Parity[]>('negativeZeroTwoStages');
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  expect(results.map((r) => r.zeroDc)).toEqual([3, 6]);
});

test('inputs on and just below the float32 knots of non-binary grids get the segment the knots give', async () => {
  const results = await call<Array<{start: number, step: number, inputs: number, floorMisses: number,
    wrongSegment: number, examples: string[]}>>('knotSegments');
  summary.knotSegments = results.map(({start, step, inputs, floorMisses, wrongSegment}) =>
    ({start, step, inputs, floorMisses, wrongSegment}));
  for (const r of results) expect({...r, wrongSegment: r.wrongSegment}).toEqual({...r, wrongSegment: 0});
  // the fixture needs the knot check: float32 floor((x - start) / step) alone misses some
  expect(results.reduce((a, r) => a + r.floorMisses, 0)).toBeGreaterThan(20);
});

test('dispatches over 65535 workgroups (folded by tfjs): 2^22 + 1 elements, shared and per-channel', async () => {
  const results = await call<Parity[]>('parityLargeDispatch');
  for (const r of results) expectParity(r, ['y', 'dx', 'dc']);
  summary.parityLargeDispatch = results.map((r) => ({shape: r.shape, C: r.C, maxRelY: r.y.maxError,
    maxRelDx: r.dx.maxError, maxRelDc: r.dc.maxError}));
});

test('no tensor or GPU buffer leaks (one- and two-stage reductions)', async () => {
  const m = await call<{before: number, after: number, bytesBefore: number, bytesAfter: number,
    blocks: number[]}>('leaks');
  expect(m.blocks[0]).toBe(1);
  expect(Math.min(m.blocks[1], m.blocks[2])).toBeGreaterThan(1);
  expect(m.after).toBe(m.before);
  expect(m.bytesAfter).toBe(m.bytesBefore);
});

test("core's derived quantities compute on the device within the README's float32 bound; lipschitzBoundAsync gives the cpu bound", async () => {
  const m = await call<{onDevice: boolean, worstSlope: number, worstTv: number, gpu: number, cpu: number,
    gpuPaper: number, cpuPaper: number}>('deviceMath');
  summary.deviceMath = m;
  expect(m.onDevice).toBe(true);
  expect(m.worstSlope).toBeLessThanOrEqual(1);  // error / bound
  expect(m.worstTv).toBeLessThanOrEqual(1);
  expect(Math.abs(m.gpu - m.cpu)).toBeLessThan(1e-5 * m.cpu);
  expect(Math.abs(m.gpuPaper - m.cpuPaper)).toBeLessThan(1e-5 * m.cpuPaper);
});

test('lipschitzCallback holds the bound under 1 during fit on webgpu (asynchronous reads); the cpu agrees', async () => {
  const m = await call<{backend: string, before: number, epochs: number[], batches: number[], loss: number[],
    cpu: number}>('constrainedFit');
  summary.constrainedFit = {before: m.before, epochs: m.epochs, cpu: m.cpu, loss: m.loss};
  expect(m.backend).toBe('webgpu');
  expect(m.before).toBeGreaterThan(1);  // so the callback had to act
  expect(m.batches).toHaveLength(24);
  expect(m.batches.every((b) => b <= 1)).toBe(true);
  expect(m.epochs.every((b) => b <= 1)).toBe(true);
  // the last epoch's cold bound, recomputed on the cpu from the same weights
  expect(Math.abs(m.epochs[2]! - m.cpu)).toBeLessThan(1e-5);
  expect(m.cpu).toBeLessThanOrEqual(1 + 1e-5);
  expect(m.loss.every(Number.isFinite)).toBe(true);
});

test('a small spline network trains with fit on webgpu (loss goes down)', async () => {
  summary.train = expectCircleNetTrained(await call<CircleNetTraining>('train'), 'webgpu');
});

test("the guide's backend choice: webgpu with an adapter, webgl (and its kernels) without", async () => {
  const chosen = [];
  for (const args of [WEBGPU_ARGS, []]) {
    const page = await openPage(require.resolve('./choose_page.ts'), {args});
    try {
      chosen.push(await page.page.evaluate(() =>
        (window as unknown as {choose: () => Promise<unknown>}).choose()));
    } finally {
      await page.close();
    }
  }
  // without --enable-unsafe-webgpu, Chromium has navigator.gpu but no adapter
  expect(chosen).toEqual([{hasFactory: true, backend: 'webgpu', implementation: 'kernel'},
    {hasFactory: true, backend: 'webgl', implementation: 'kernel'}]);
});

test('the page logged no errors', () => {
  expect(p.errors).toEqual([]);
});
