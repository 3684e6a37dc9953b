#!/usr/bin/env node
// WebGPU benchmark of @deepspline/webgpu (`npm run bench:webgpu`; not a test): our WGSL kernels
// vs the composite fallback vs tf.relu on tfjs's webgpu backend, in headless Chromium.
// Reports same-run ratios of medians of interleaved samples, and writes bench/webgpu-results.json.
// NOTE: on this machine WebGPU runs on SwiftShader, a CPU emulation of a GPU: the ratios say
// how much work each variant does, not how fast a real GPU runs it.
import {WEBGPU_ARGS} from '../../../scripts/chromium.mjs';
import {runBenchPage} from '../../../test-browser/bench_page.mjs';

const configs = (quick) => [
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

await runBenchPage({
  args: WEBGPU_ARGS, backend: 'webgpu', label: 'WebGPU', configs,
  describe: (env) => `webgpu adapter: ${env.adapter.vendor} ${env.adapter.architecture}`,
  command: 'npm run bench:webgpu',
  note: 'Headless Chromium, tfjs webgpu backend on SwiftShader\'s WebGPU adapter (a CPU emulation of a GPU; no GPU ' +
    'on this machine).',
});
