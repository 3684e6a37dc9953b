#!/usr/bin/env node
// WebGPU benchmark of @deepspline/webgpu (`npm run bench:webgpu`; not a test): our WGSL kernels
// vs the composite fallback vs tf.relu on tfjs's webgpu backend, in headless Chromium.
// Reports same-run ratios of medians of interleaved samples, and writes bench/webgpu-results.json.
// NOTE: on this machine WebGPU runs on SwiftShader, a CPU emulation of a GPU: the ratios say
// how much work each variant does, not how fast a real GPU runs it.
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {WEBGPU_ARGS} from '../../../scripts/chromium.mjs';
import {benchArgs} from '../../../scripts/bench-args.mjs';
import {openPage, ROOT} from '../../../test-browser/harness.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const {quick, out: outDir} = benchArgs('node packages/webgpu/bench/bench.mjs', join(ROOT, 'bench'));
const configs = [
  {shape: [1024, 64], K: 21, backward: false, samples: quick ? 3 : 9, reps: 5},
  {shape: [256, 1024], K: 21, backward: false, samples: quick ? 3 : 9, reps: 3},
  {shape: [4096, 256], K: 21, backward: false, samples: quick ? 3 : 7, reps: 1},
  {shape: [4096, 256], K: 101, backward: false, samples: quick ? 3 : 7, reps: 1},
  {shape: [256, 64], K: 21, backward: true, samples: quick ? 3 : 7, reps: 3},
  {shape: [1024, 64], K: 21, backward: true, samples: quick ? 3 : 7, reps: 1},
  ...(quick ? [] : [
    {shape: [4096, 256], K: 21, backward: true, samples: 5, reps: 1},
    {shape: [4096, 256], K: 101, backward: true, samples: 5, reps: 1},
    {shape: [1048576], K: 21, backward: true, samples: 5, reps: 1, shared: true},
  ]),
];

const p = await openPage(join(here, 'page.ts'), {args: WEBGPU_ARGS});
try {
  const env = await p.page.evaluate(() => window.bench.environment());
  if (env.backend !== 'webgpu') throw new Error(`WebGPU is not available in Chromium: ${JSON.stringify(env)}`);
  console.log(`webgpu adapter: ${env.adapter.vendor} ${env.adapter.architecture}`);
  console.log('SwiftShader is a CPU emulation of a GPU: these ratios measure work, not GPU speed.\n');
  const results = [];
  for (const config of configs) {
    const r = await p.page.evaluate((c) => window.bench.run(c), config);
    results.push(r);
    const f = (v) => v.toFixed(2).padStart(8);
    console.log(`x [${r.shape}] K=${r.K}${r.shared ? ' shared' : ''} ${r.pass.padEnd(16)} median ms: kernel ${f(r.medianMs.kernel)} ` +
      `fallback ${f(r.medianMs.fallback)} relu ${f(r.medianMs.relu)} | fallback/kernel ` +
      `${r.ratios.fallbackOverKernel.toFixed(2)}x, kernel/relu ${r.ratios.kernelOverRelu.toFixed(2)}x`);
  }
  if (p.errors.length) throw new Error(`page errors: ${p.errors.join('\n')}`);
  const out = {
    date: new Date().toISOString(),
    command: 'npm run bench:webgpu',
    note: 'Headless Chromium, tfjs webgpu backend on SwiftShader\'s WebGPU adapter (a CPU emulation of a GPU; no GPU ' +
      'on this machine). Medians of interleaved samples in one run; ratios are same-run ratios ' +
      'of medians. Each sample times repsPerSample calls and waits for the last outputs.',
    environment: env,
    results,
  };
  mkdirSync(outDir, {recursive: true});
  writeFileSync(join(outDir, 'webgpu-results.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${join(outDir, 'webgpu-results.json')}`);
} finally {
  await p.close();
}
