// Page script of the WebGPU benchmark (bench.mjs): times our kernels, the composite fallback
// and tf.relu on the webgpu backend, interleaved, in the same page.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';  // registers tfjs-core's gradients (tf.grads below)
import '@tensorflow/tfjs-backend-webgpu';
import {linearSpline, setSplineImplementation} from '@deepspline/core';
import '@deepspline/webgpu';

type Variant = 'kernel' | 'fallback' | 'relu';

function op(variant: Variant, x: tf.Tensor, c: tf.Tensor, grid: {start: number, step: number},
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
async function sample(variant: Variant, x: tf.Tensor, c: tf.Tensor,
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

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

(window as unknown as {bench: unknown}).bench = {
  async environment() {
    const gpu = (navigator as unknown as {gpu?: unknown}).gpu;
    const ok = gpu != null && await tf.setBackend('webgpu');
    await tf.ready();
    if (!ok) return {backend: 'none', secureContext: isSecureContext};
    const info = (tf.backend() as unknown as {adapterInfo: {vendor: string, architecture: string}})
      .adapterInfo;
    return {backend: tf.getBackend(), adapter: {vendor: info.vendor, architecture: info.architecture}};
  },

  /**
   * Interleaved samples of the three variants on x of shape `shape`, K coefficients per
   * channel (`shared`: one spline for every element).
   */
  async run({shape, K, backward, samples, reps, shared = false}: {shape: number[], K: number,
      backward: boolean, samples: number, reps: number, shared?: boolean}) {
    await tf.setBackend('webgpu');
    const channels = shape[shape.length - 1];
    const x = tf.randomNormal(shape, 0, 1.5, 'float32', 1);
    const c = tf.randomNormal([shared ? 1 : channels, K], 0, 1, 'float32', 2);
    const grid = {start: -2, step: 4 / (K - 1)};
    const variants: Variant[] = ['kernel', 'fallback', 'relu'];
    const times: Record<Variant, number[]> = {kernel: [], fallback: [], relu: []};
    for (const v of variants) await sample(v, x, c, grid, backward, 2);       // compile, warm up
    for (let s = 0; s < samples; ++s) {
      for (const v of variants) times[v].push(await sample(v, x, c, grid, backward, reps));
    }
    tf.dispose([x, c]);
    const med = {kernel: median(times.kernel), fallback: median(times.fallback), relu: median(times.relu)};
    return {shape, K, shared, pass: backward ? 'forward+backward' : 'forward', samples,
      repsPerSample: reps,
      medianMs: med,
      ratios: {fallbackOverKernel: med.fallback / med.kernel, kernelOverRelu: med.kernel / med.relu}};
  },
};
