#!/usr/bin/env node
// WebGL benchmark of @deepspline/webgl (`npm run bench:webgl`; not a test): our fused kernel
// vs the composite fallback vs tf.relu on tfjs's webgl backend, in headless Chromium.
// Reports same-run ratios of medians of interleaved samples, and writes bench/webgl-results.json.
// NOTE: on this machine WebGL runs on SwiftShader, a CPU emulation of a GPU: the ratios say
// how much work each variant does, not how fast a real GPU runs it.
import {runBenchPage} from '../../../test-browser/bench_page.mjs';

// The fallback's backward (tfjs's webgl UnsortedSegmentSum) takes seconds per call here:
// fewer samples for the forward+backward rows.
const configs = (quick) => [
  {shape: [1024, 64], K: 21, backward: false, samples: quick ? 3 : 9, reps: 5},
  {shape: [256, 1024], K: 21, backward: false, samples: quick ? 3 : 9, reps: 3},
  {shape: [256, 64], K: 21, backward: true, samples: quick ? 3 : 5, reps: 1},
  ...(quick ? [] : [{shape: [1024, 64], K: 21, backward: true, samples: 3, reps: 1}]),
];

await runBenchPage({
  backend: 'webgl', label: 'WebGL', configs,
  describe: (env) => `webgl ${env.webglVersion}, float32 ${env.float32}, renderer: ${env.renderer}`,
  command: 'npm run bench:webgl',
  note: 'Headless Chromium, tfjs webgl backend on SwiftShader (a CPU emulation of a GPU; no GPU on this machine).',
});
