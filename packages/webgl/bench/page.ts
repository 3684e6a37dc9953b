// Page script of the WebGL benchmark (bench.mjs): times our fused kernel, the composite
// fallback and tf.relu on the webgl backend, interleaved, in the same page.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';  // registers tfjs-core's gradients (tf.grads in bench_timing)
import '@tensorflow/tfjs-backend-webgl';
import '@deepspline/webgl';
import {interleavedMedians} from '../../../test-browser/bench_timing';

(window as unknown as {bench: unknown}).bench = {
  async environment() {
    const ok = await tf.setBackend('webgl');
    await tf.ready();
    const gl = (tf.backend() as unknown as {gpgpu: {gl: WebGL2RenderingContext}}).gpgpu.gl;
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    return {backend: ok ? tf.getBackend() : 'none', webglVersion: tf.env().getNumber('WEBGL_VERSION'),
      float32: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
      renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER)};
  },

  /** Interleaved samples of the three variants on x of shape `shape`, K coefficients. */
  async run({shape, K, backward, samples, reps}: {shape: number[], K: number, backward: boolean, samples: number,
      reps: number}) {
    await tf.setBackend('webgl');
    const channels = shape[shape.length - 1];
    const x = tf.randomNormal(shape, 0, 1.5, 'float32', 1);
    const c = tf.randomNormal([channels, K], 0, 1, 'float32', 2);
    const grid = {start: -2, step: 4 / (K - 1)};
    const medians = await interleavedMedians(x, c, grid, backward, samples, reps);
    tf.dispose([x, c]);
    return {shape, K, pass: backward ? 'forward+backward' : 'forward', samples, repsPerSample: reps,
      ...medians};
  },
};
