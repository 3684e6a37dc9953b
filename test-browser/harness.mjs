// Shared harness for the browser tests (`npm run test:browser`, jest.browser.config.cjs) and
// the browser benchmarks: bundles a page script with esbuild straight from the TypeScript
// sources (`@deepspline/x` -> `packages/x/src/index.ts`,
// `@deepspline/x/internal` -> `packages/x/src/internal.ts`) and opens it in headless Chromium
// (scripts/chromium.mjs: Debian's chromium, WebGL through SwiftShader).
//
// Plain ESM JavaScript so that both jest (which transforms it) and `node` scripts use it.
// Usage in a test file `<pkg or docs>/test/browser/NAME.test.ts`:
//   import {openPage} from '<relative path to>/test-browser/harness.mjs';
//   const p = await openPage(require.resolve('./page.ts'));   // window.* of your page script
//   const value = await p.page.evaluate(() => (window as any).myCheck());
//   expect(p.errors).toEqual([]);
//   await p.close();
import {build} from 'esbuild';
import {existsSync, readFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {launchChromium} from '../scripts/chromium.mjs';

/** The repository root: the nearest folder above the working directory holding tfjs-deepspline's package.json. */
function findRoot() {
  let dir = process.cwd();
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'tfjs-deepspline') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`test-browser/harness: run from inside the tfjs-deepspline checkout (cwd ${process.cwd()})`);
    dir = up;
  }
}

/** The repository root. */
export const ROOT = findRoot();

/**
 * esbuild plugin: `@deepspline/name` -> `packages/name/src/index.ts` (the sources, not dist).
 * @type {import('esbuild').Plugin}
 */
export const deepsplineSources = {
  name: 'deepspline-sources',
  setup(b) {
    b.onResolve({filter: /^@deepspline\/[a-z-]+(\/internal)?$/}, (args) => {
      const [name, entry = 'index'] = args.path.slice('@deepspline/'.length).split('/');
      const path = join(ROOT, 'packages', name, 'src', `${entry}.ts`);
      if (!existsSync(path)) return {errors: [{text: `${args.path}: no sources at ${path}`}]};
      return {path};
    });
  },
};

/**
 * Bundles `entry` (a TS/JS file) and its imports into one browser script (IIFE).
 * @param {string} entry
 * @returns {Promise<string>}
 */
export async function bundle(entry) {
  const result = await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'silent',
    plugins: [deepsplineSources],
    define: {'process.env.NODE_ENV': '"production"'},
  });
  return result.outputFiles[0].text;
}

/**
 * @typedef {object} BrowserPage
 * @property {import('playwright-core').Browser} browser
 * @property {import('playwright-core').Page} page
 * @property {string[]} errors Console errors and uncaught exceptions of the page so far.
 * @property {() => Promise<void>} close Closes the browser.
 */

/**
 * Launches headless Chromium and runs the bundle of `entry` in an empty page. The page is
 * served from `http://localhost/` (answered by playwright, no server): WebGPU exists only
 * in secure contexts, and localhost is one.
 * @param {string} entry Path of the page script.
 * @param {{args?: string[]}} [options] `args`: extra Chromium flags (e.g. `--enable-unsafe-webgpu`).
 * @returns {Promise<BrowserPage>}
 */
export async function openPage(entry, options = {}) {
  const script = await bundle(entry);
  const browser = await launchChromium({args: options.args});
  try {
    const page = await browser.newPage();
    /** @type {string[]} */
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.route('http://localhost/', (route) => route.fulfill({contentType: 'text/html',
      body: '<!doctype html><html><head><meta charset="utf-8"></head><body></body></html>'}));
    await page.goto('http://localhost/');
    await page.addScriptTag({content: script});
    return {browser, page, errors, close: () => browser.close()};
  } catch (e) {
    await browser.close();
    throw e;
  }
}
