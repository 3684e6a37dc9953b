#!/usr/bin/env node
// WebGL benchmark of @deepspline/webgl (`npm run bench:webgl`; not a test): our fused kernel
// vs the composite fallback vs tf.relu on tfjs's webgl backend, in headless Chromium.
// Reports same-run ratios of medians of interleaved samples, and writes bench/webgl-results.json.
// NOTE: on this machine WebGL runs on SwiftShader, a CPU emulation of a GPU: the ratios say
// how much work each variant does, not how fast a real GPU runs it.
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {benchArgs} from '../../../scripts/bench-args.mjs';
import {openPage, ROOT} from '../../../test-browser/harness.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const {quick, out: outDir} = benchArgs('node packages/webgl/bench/bench.mjs', join(ROOT, 'bench'));
// The fallback's backward (tfjs's webgl UnsortedSegmentSum) takes seconds per call here:
// fewer samples for the forward+backward rows.
const configs = [
  {shape: [1024, 64], K: 21, backward: false, samples: quick ? 3 : 9, reps: 5},
  {shape: [256, 1024], K: 21, backward: false, samples: quick ? 3 : 9, reps: 3},
  {shape: [256, 64], K: 21, backward: true, samples: quick ? 3 : 5, reps: 1},
  ...(quick ? [] : [{shape: [1024, 64], K: 21, backward: true, samples: 3, reps: 1}]),
];

const p = await openPage(join(here, 'page.ts'));
try {
  const env = await p.page.evaluate(() => window.bench.environment());
  if (env.backend !== 'webgl') throw new Error(`WebGL is not available in Chromium: ${JSON.stringify(env)}`);
  console.log(`webgl ${env.webglVersion}, float32 ${env.float32}, renderer: ${env.renderer}`);
  console.log('SwiftShader is a CPU emulation of a GPU: these ratios measure work, not GPU speed.\n');
  const results = [];
  for (const {shape, K, backward, samples, reps} of configs) {
    const r = await p.page.evaluate(([s, k, b, n, m]) => window.bench.run(s, k, b, n, m),
      [shape, K, backward, samples, reps]);
    results.push(r);
    const f = (v) => v.toFixed(2).padStart(8);
    console.log(`x [${shape}] K=${K} ${r.pass.padEnd(16)} median ms: kernel ${f(r.medianMs.kernel)} ` +
      `fallback ${f(r.medianMs.fallback)} relu ${f(r.medianMs.relu)} | fallback/kernel ` +
      `${r.ratios.fallbackOverKernel.toFixed(2)}x, kernel/relu ${r.ratios.kernelOverRelu.toFixed(2)}x`);
  }
  if (p.errors.length) throw new Error(`page errors: ${p.errors.join('\n')}`);
  const out = {
    date: new Date().toISOString(),
    command: 'npm run bench:webgl',
    note: 'Headless Chromium, tfjs webgl backend on SwiftShader (a CPU emulation of a GPU; no GPU ' +
      'on this machine). Medians of interleaved samples in one run; ratios are same-run ratios ' +
      'of medians. Each sample times repsPerSample calls and waits for the last outputs.',
    environment: env,
    results,
  };
  mkdirSync(outDir, {recursive: true});
  writeFileSync(join(outDir, 'webgl-results.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${join(outDir, 'webgl-results.json')}`);
} finally {
  await p.close();
}
