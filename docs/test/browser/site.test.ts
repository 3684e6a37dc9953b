/**
 * End-to-end tests of the docs site in headless Chromium: builds the site into a temporary
 * folder (or, with DOCS_SKIP_BUILD=1, uses an existing docs/dist), serves it with
 * docs/scripts/serve.mjs, and checks
 * that every page loads cleanly, that the API reference documents splineActivation's
 * arguments, that the site search finds lipschitzBound, and that the demo learns.
 * Writes test-artifacts/demo.png.
 */
import {execFileSync, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, relative} from 'node:path';
import type {Browser, Page} from 'playwright-core';
import {launchChromium} from '../../../scripts/chromium.mjs';

const ROOT = join(__dirname, '..', '..', '..');
const REUSE = process.env.DOCS_SKIP_BUILD === '1';
// A private output folder: a test run never touches (or races with) someone's docs/dist.
const DIST = REUSE ? join(ROOT, 'docs', 'dist') : mkdtempSync(join(tmpdir(), 'deepspline-site-'));
const ARTIFACTS = join(ROOT, 'test-artifacts');

let browser: Browser;
let server: ChildProcess;
let base: string;

function htmlPages(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((d) => {
    const path = join(dir, d.name);
    return d.isDirectory() ? htmlPages(path) : d.name.endsWith('.html') ? [relative(DIST, path)] : [];
  }).sort();
}

/** Loads `path` and returns everything that went wrong: console errors, page errors, failed requests. */
async function loadClean(page: Page, path: string): Promise<string[]> {
  const problems: string[] = [];
  const onConsole = (msg: {type(): string, text(): string}) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  };
  const onPageError = (err: Error) => problems.push(`page error: ${err.message}`);
  // ERR_ABORTED is a request cut short by the next navigation (e.g. the favicon), not a
  // failure; a missing file shows up as an HTTP status >= 400 below.
  const onFailed = (req: {url(): string, failure(): {errorText: string} | null}) => {
    if (req.failure()?.errorText !== 'net::ERR_ABORTED') {
      problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
    }
  };
  const onResponse = (res: {url(): string, status(): number}) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  };
  page.on('console', onConsole);
  page.on('pageerror', onPageError);
  page.on('requestfailed', onFailed);
  page.on('response', onResponse);
  try {
    await page.goto(base + path, {waitUntil: 'load'});
  } finally {
    page.off('console', onConsole);
    page.off('pageerror', onPageError);
    page.off('requestfailed', onFailed);
    page.off('response', onResponse);
  }
  return problems;
}

beforeAll(async () => {
  if (!REUSE) {
    execFileSync(process.execPath, [join(ROOT, 'docs', 'scripts', 'build.mjs'), '--out', DIST],
      {stdio: 'inherit'});
  } else if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error('DOCS_SKIP_BUILD=1 but docs/dist/index.html does not exist: run npm run docs');
  }
  server = spawn(process.execPath, [join(ROOT, 'docs', 'scripts', 'serve.mjs'), '--port', '0',
    '--dir', DIST],
    {stdio: ['ignore', 'pipe', 'inherit']});
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(http:\/\/\S+\/)/.exec(out);
      if (match) resolve(match[1]);
    });
    server.once('exit', (code) => reject(new Error(`serve.mjs exited with ${code}: ${out}`)));
  });
  browser = await launchChromium();
}, 240000);

afterAll(async () => {
  await browser?.close();
  server?.kill();
  if (!REUSE) rmSync(DIST, {recursive: true, force: true});
});

test('every page loads with no console errors and no failed requests', async () => {
  const pages = htmlPages(DIST).filter((p) => p !== join('demo', 'index.html'));
  expect(pages).toEqual(expect.arrayContaining(['index.html', join('api', 'index.html'),
    join('guides', 'concepts.html')]));
  // A few tabs at once: most of the time is spent waiting on each page's scripts.
  const context = await browser.newContext();
  const problems: string[] = [];
  const queue = [...pages];
  await Promise.all(Array.from({length: 4}, async () => {
    const page = await context.newPage();
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      for (const p of await loadClean(page, path)) problems.push(`${path}: ${p}`);
    }
  }));
  await context.close();
  expect(problems).toEqual([]);
});

test('the API page of splineActivation documents its arguments', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}api/functions/_deepspline_layers.splineActivation.html`);
  await expect(page.locator('h1').innerText()).resolves.toContain('splineActivation');
  const signature = await page.locator('.tsd-signature').first().innerText();
  expect(signature).toMatch(/splineActivation\(\s*args\?: SplineActivationArgs/);
  await page.locator('a', {hasText: 'SplineActivationArgs'}).first().click();
  await page.waitForURL(/SplineActivationArgs\.html/);
  const text = await page.locator('main, .col-content').first().innerText();
  for (const [name, doc] of [['size', 'Coefficients per spline'], ['range', 'One-sided range'],
    ['grid', 'Knot spacing'], ['init', 'Initial activation'], ['shared', 'shared by every channel'],
    ['maxSlope', 'slope-clipped'], ['coefficientsRegularizer', 'Regularizer of the coefficients']]) {
    expect(text).toContain(name);
    expect(text).toContain(doc);
  }
  await page.close();
});

test('the site search finds lipschitzBound and leads to its API page', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}guides/concepts.html`);
  await page.locator('#site-search').fill('lipschitzBound');
  const first = page.locator('#site-search-results li a').first();
  await expect(first.locator('.result-title').innerText()).resolves.toBe('lipschitzBound');
  await first.click();
  await page.waitForURL(/lipschitzBound\.html$/);
  await expect(page.locator('h1').innerText()).resolves.toContain('lipschitzBound');
  await page.close();
});

test('the demo trains: loss goes down, bound updates, on the wasm kernels', async () => {
  const context = await browser.newContext({viewport: {width: 1400, height: 1000}});
  const page = await context.newPage();
  const problems = await loadClean(page, 'demo/index.html');
  type State = {backend: string, implementation: string, steps: number, losses: number[],
    bounds: number[], accuracy: number, stepsPerSecond: number, measureMs: number, error: string | null};
  const state = () => page.evaluate(() => (window as unknown as {deepsplineDemo: State}).deepsplineDemo);
  await page.waitForFunction(() => {
    const s = (window as unknown as {deepsplineDemo?: State}).deepsplineDemo;
    return s != null && (s.error != null || s.losses.length >= 2);
  }, undefined, {timeout: 60000});
  const start = await state();
  expect(start.error).toBeNull();
  const first = start.losses[0];
  // Train until the loss is below 90 % of the untrained network's (a few seconds here), or fail.
  await page.waitForFunction((limit) => {
    const s = (window as unknown as {deepsplineDemo: State}).deepsplineDemo;
    return s.error != null || (s.losses.length > 3 && s.losses[s.losses.length - 1] < limit);
  }, 0.9 * first, {timeout: 60000});
  const end = await state();
  expect(end.error).toBeNull();
  expect(end.backend).toBe('wasm');
  expect(end.implementation).toBe('kernel');
  expect(end.steps).toBeGreaterThan(start.steps);
  const last = end.losses[end.losses.length - 1];
  expect(last).toBeLessThan(0.9 * first);
  expect(end.bounds.length).toBeGreaterThan(2);
  expect(end.bounds.every((b) => Number.isFinite(b) && b > 0)).toBe(true);
  expect(new Set(end.bounds.map((b) => b.toPrecision(6))).size).toBeGreaterThan(1);
  // For the screenshot, let it train a little longer (a picture of a learned region).
  await page.waitForFunction(() => (window as unknown as {deepsplineDemo: State}).deepsplineDemo.accuracy > 0.9,
    undefined, {timeout: 12000}).catch(() => undefined);
  mkdirSync(ARTIFACTS, {recursive: true});
  await page.screenshot({path: join(ARTIFACTS, 'demo.png'), fullPage: true});
  console.log(`demo: ${end.stepsPerSecond.toFixed(0)} steps/s, redraw ${end.measureMs.toFixed(0)} ms; ${end.steps} steps on ${end.backend} (${end.implementation}); loss ${first.toFixed(4)} -> ` +
    `${last.toFixed(4)}; accuracy ${(100 * end.accuracy).toFixed(1)} %; bound ${end.bounds[end.bounds.length - 1]}`);
  expect(problems).toEqual([]);
  await context.close();
});
