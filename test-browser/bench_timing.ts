// Timing of the browser benchmarks' page scripts (packages/webgl/bench, packages/webgpu/bench):
// one definition of what a sample is, so that the backends' numbers mean the same thing.
import * as tf from '@tensorflow/tfjs-core';
import {linearSpline, setSplineImplementation} from '@deepspline/core';

/** What is timed: our fused kernels, the composite fallback, or tf.relu as the baseline. */
export type Variant = 'kernel' | 'fallback' | 'relu';

/** One call of `variant` (forward, or forward and backward through `tf.grads`). */
export function op(variant: Variant, x: tf.Tensor, c: tf.Tensor, grid: {start: number, step: number},
    backward: boolean): tf.Tensor[] {
  if (variant === 'relu') {
    return backward ? tf.grads((a: tf.Tensor) => tf.relu(a))([x]) : [tf.relu(x)];
  }
  setSplineImplementation(variant);
  try {
    return backward ? tf.grads((a: tf.Tensor, b: tf.Tensor) => linearSpline(a, b, grid))([x, c]) :
      [linearSpline(x, c, grid)];
  } finally {
    setSplineImplementation(null);
  }
}

/** Milliseconds per call: `reps` calls, waiting for the last outputs' data. */
export async function sample(variant: Variant, x: tf.Tensor, c: tf.Tensor,
    grid: {start: number, step: number}, backward: boolean, reps: number): Promise<number> {
  const t0 = performance.now();
  let out: tf.Tensor[] = [];
  for (let i = 0; i < reps; ++i) {
    tf.dispose(out);
    out = op(variant, x, c, grid, backward);
  }
  await Promise.all(out.map((t) => t.data()));
  const ms = (performance.now() - t0) / reps;
  tf.dispose(out);
  return ms;
}

/** The median of `v`. */
export function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The medians of interleaved samples of the three variants on `x`, `c` (each sampled `samples`
 * times with `reps` calls, after a warm-up that compiles the programs), and the two ratios the
 * benchmarks report.
 */
export async function interleavedMedians(x: tf.Tensor, c: tf.Tensor, grid: {start: number, step: number},
    backward: boolean, samples: number, reps: number) {
  const variants: Variant[] = ['kernel', 'fallback', 'relu'];
  const times: Record<Variant, number[]> = {kernel: [], fallback: [], relu: []};
  for (const v of variants) await sample(v, x, c, grid, backward, 2);       // compile, warm up
  for (let s = 0; s < samples; ++s) {
    for (const v of variants) times[v].push(await sample(v, x, c, grid, backward, reps));
  }
  const med = {kernel: median(times.kernel), fallback: median(times.fallback), relu: median(times.relu)};
  return {medianMs: med, ratios: {fallbackOverKernel: med.fallback / med.kernel, kernelOverRelu: med.kernel / med.relu}};
}
