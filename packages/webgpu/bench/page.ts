// Page script of the WebGPU benchmark (bench.mjs): times our kernels, the composite fallback
// and tf.relu on the webgpu backend, interleaved, in the same page.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';  // registers tfjs-core's gradients (tf.grads in bench_timing)
import '@tensorflow/tfjs-backend-webgpu';
import '@deepspline/webgpu';
import {interleavedMedians} from '../../../test-browser/bench_timing';

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
    const medians = await interleavedMedians(x, c, grid, backward, samples, reps);
    tf.dispose([x, c]);
    return {shape, K, shared, pass: backward ? 'forward+backward' : 'forward', samples, repsPerSample: reps,
      ...medians};
  },
};
