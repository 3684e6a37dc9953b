/**
 * The script-tag bundles as a CDN serves them: a page loads tfjs's own tf.min.js,
 * tf-backend-wasm.min.js and tf-backend-webgpu.min.js and our six dist/deepspline-<name>.min.js with plain <script> tags
 * from a local server, then trains a spline model on wasm (its .wasm files found through
 * setWasmPaths), webgl and cpu, and in a browser with WebGPU on webgpu, each with our fused kernel. Runs on the built bundles:
 * `npm test` builds first.
 */
import {existsSync, readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {join} from 'node:path';
import type {Browser, Page} from 'playwright-core';
import {launchChromium, WEBGPU_ARGS} from '../../scripts/chromium.mjs';

const root = join(__dirname, '..', '..');
const ORDER = ['core', 'layers', 'wasm', 'webgl', 'webgpu', 'lipschitz'];
const wasmDist = join(root, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
const files: Record<string, string> = {
  '/tf.min.js': join(root, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js'),
  '/tf-backend-wasm.min.js': join(wasmDist, 'tf-backend-wasm.min.js'),
  '/tf-backend-webgpu.min.js': join(root, 'node_modules', '@tensorflow', 'tfjs-backend-webgpu', 'dist',
    'tf-backend-webgpu.min.js'),
  ...Object.fromEntries(['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']
    .map((f) => [`/tfjs-wasm/${f}`, join(wasmDist, f)])),
  ...Object.fromEntries(ORDER.flatMap((n) => ['.min.js', '.min.js.map'].map((ext) => [`/deepspline-${n}${ext}`,
    join(root, 'packages', n, 'dist', `deepspline-${n}${ext}`)]))),
};
const missing: string[] = [];
const page = '<!doctype html><html><head><meta charset="utf-8">\n' +
  ['/tf.min.js', '/tf-backend-wasm.min.js', '/tf-backend-webgpu.min.js', ...ORDER.map((n) => `/deepspline-${n}.min.js`)]
    .map((src) => `<script src="${src}"></script>`).join('\n') + '\n</head><body></body></html>';

let server: Server;
let base: string;
let browser: Browser;
const requested: string[] = [];

beforeAll(async () => {
  for (const [url, file] of Object.entries(files)) {
    if (!existsSync(file)) throw new Error(`${url}: ${file} is missing; run \`npm run build\` before the tests`);
  }
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost').pathname;
    requested.push(url);
    if (url === '/' || url === '/blank') {
      res.writeHead(200, {'content-type': 'text/html'}).end(url === '/' ? page : '<!doctype html>');
    } else if (url in files) {
      const type = url.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      res.writeHead(200, {'content-type': type}).end(readFileSync(files[url]));
    } else if (url === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      missing.push(url);
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
}, 60000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

interface Trained {
  backend: string; implementation: string; kernel: boolean; losses: number[]; spline: number[];
  tensorsBefore: number; tensorsAfter: number;
}

test('plain <script> tags: tf.deepspline.* globals, one copy of core, training on wasm, webgl and cpu', async () => {
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
  await p.goto(`${base}/`);
  const globals = await p.evaluate(() => {
    const tf = (window as any).tf;
    return Object.fromEntries(Object.entries(tf.deepspline).map(([k, v]) => [k, Object.keys(v as object).length]));
  });
  expect(Object.keys(globals).sort()).toEqual([...ORDER].sort());
  for (const n of ORDER) expect([n, globals[n]]).toEqual([n, expect.any(Number)]);
  const results = await trainOn(p, ['wasm', 'webgl', 'cpu']);
  checkTrained(results);
  expect(requested).toEqual(expect.arrayContaining(['/tfjs-wasm/tfjs-backend-wasm-simd.wasm']));
  expect([errors, missing]).toEqual([[], []]);
  await p.close();
});

test('plain <script> tags in a browser with WebGPU: the webgpu bundle trains on the webgpu kernels', async () => {
  const gpuBrowser = await launchChromium({args: WEBGPU_ARGS});
  try {
    const p = await gpuBrowser.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
    await p.goto(`${base}/`);
    const results = await trainOn(p, ['webgpu']);
    checkTrained(results);
    expect(results.map((r) => r.backend)).toEqual(['webgpu']);
    // no warning either: tfjs warns on a synchronous read from the GPU
    expect([errors, missing]).toEqual([[], []]);
    await p.close();
  } finally {
    await gpuBrowser.close();
  }
});

/**
 * In a page of the script tags: on each backend, the relu spline at the knots (values read
 * back) and a spline net trained with fit on |x|; reads are asynchronous.
 */
function trainOn(p: Page, backends: string[]): Promise<Trained[]> {
  return p.evaluate(async (names) => {
    const tf = (window as any).tf;
    const {core, layers} = tf.deepspline;
    tf.wasm.setWasmPaths('/tfjs-wasm/');
    const out = [];
    for (const backend of names) {
      if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not initialize`);
      if (backend === 'wasm') await tf.deepspline.wasm.ready();
      const tensorsBefore = tf.memory().numTensors;
      // relu on the knots -1, 0, 1 (independent value: max(x, 0), extrapolated linearly)
      const y = tf.tidy(() => core.linearSpline(tf.tensor2d([[-2, -0.5, 0.25, 3]]), tf.tensor2d([[0, 0, 1]]),
        {start: -1, step: 1}));
      const spline = Array.from(await y.data() as Float32Array);
      tf.dispose(y);
      const model = tf.sequential();
      model.add(tf.layers.dense({units: 8, inputShape: [1], kernelInitializer: tf.initializers.glorotUniform({seed: 1})}));
      model.add(layers.splineActivation({size: 11, range: 2}));
      model.add(tf.layers.dense({units: 1, kernelInitializer: tf.initializers.glorotUniform({seed: 2})}));
      const optimizer = tf.train.adam(0.02);
      model.compile({optimizer, loss: 'meanSquaredError'});
      const xs = tf.tidy(() => tf.reshape(tf.linspace(-1, 1, 64), [64, 1]));
      const ys = tf.abs(xs);
      const history = await model.fit(xs, ys, {epochs: 40, batchSize: 64, verbose: 0});
      tf.dispose([xs, ys]);
      model.dispose();
      optimizer.dispose();
      out.push({backend, implementation: core.splineImplementation(),
        kernel: tf.getKernel(core.LinearSplineGrad, backend) != null, losses: history.history.loss,
        spline, tensorsBefore, tensorsAfter: tf.memory().numTensors});
    }
    return out;
  }, backends);
}

/** The fused kernels ran, the spline is the relu at the knots, the loss fell 5x, no leak. */
function checkTrained(results: Trained[]): void {
  for (const r of results) {
    expect([r.backend, r.implementation, r.kernel]).toEqual([r.backend, 'kernel', true]);
    expect([r.backend, r.spline]).toEqual([r.backend, [0, 0, 0.25, 3]]);
    const [first, last] = [r.losses[0], r.losses[r.losses.length - 1]];
    expect([r.backend, last < first / 5]).toEqual([r.backend, true]);
    expect([r.backend, r.tensorsAfter]).toEqual([r.backend, r.tensorsBefore]);
  }
}

test('a bundle loaded before its dependency fails with an error naming the script to load first', async () => {
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(`${base}/blank`);
  await p.setContent(`<script src="${base}/tf.min.js"></script><script src="${base}/deepspline-layers.min.js"></script>`);
  expect(errors.join('\n')).toContain('@deepspline/core: the global tf.deepspline.core is missing; ' +
    'load deepspline-core.min.js with a <script> tag before this one');
  await p.close();
});

test('the core bundle loaded before tf.min.js fails with an error naming tf.min.js', async () => {
  // The bundle's own `var tf = tf || {}` makes an empty tf: tfjs's missing functions, not the object, tell.
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(String(e)));
  await p.goto(`${base}/blank`);
  await p.setContent(`<script src="${base}/deepspline-core.min.js"></script><script src="${base}/tf.min.js"></script>`);
  expect(errors).toEqual([expect.stringContaining('@tensorflow/tfjs-core: the global tf has no registerKernel; ' +
    'load tf.min.js with a <script> tag before this one')]);
  await p.close();
});
