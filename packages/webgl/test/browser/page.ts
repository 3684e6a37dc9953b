// Page script of the @deepspline/webgl browser tests, bundled by test-browser/harness.ts.
// Exposes `window.suite`: the shared kernel conformance suite of @deepspline/testing (run in
// the page, reported to the test), and what only webgl has (packed input textures, the two-stage
// reduction, precision far from the origin, WebGL 1, a fit), each compared with the cpu rule
// of @deepspline/core (float64 arithmetic) on the same float32 inputs.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-layers';  // registers the gradients tf.grads needs
import {linearSpline, setSplineImplementation, splineImplementation} from '@deepspline/core';
import '@deepspline/webgl';
import {reductionPlan} from '@deepspline/webgl/internal';
import {caseInput, compareValues, cpuCase, farFromOrigin, randomCase, rng, rowSumAbsDy, runCase, runConformance,
  trainCircleNet, useBackend} from '@deepspline/testing';
import type {ConformanceOptions, SplineCase as Case} from '@deepspline/testing';

function isPacked(t: tf.Tensor): boolean {
  const b = tf.backend() as unknown as {texData: {get(id: object): {isPacked: boolean}}};
  return b.texData.get(t.dataId).isPacked;
}

/**
 * Runs a case on webgl; with `packed`, `x` is the (packed, lazily unpacked) output of a matMul
 * by the identity, so that the kernels get a packed texture of another shape to read.
 */
async function runWebgl(k: Case, packed = false):
    Promise<{y: Float32Array, dx: Float32Array, dc: Float32Array, packed: boolean}> {
  const x = caseInput(k, packed);
  const wasPacked = isPacked(x);
  return {...await runCase(k, x), packed: wasPacked};
}

/** y, dx against the cpu kernel over max(|y|, 1); dc over the sum of |dy| of its row. */
async function check(k: Case, packed = false) {
  const got = await runWebgl(k, packed);
  const {y, dx, dc} = cpuCase(k);
  return {
    shape: k.xShape, C: k.C, K: k.K, packedInput: got.packed,
    y: compareValues(got.y, y),
    dx: compareValues(got.dx, dx),
    dc: compareValues(got.dc, dc, rowSumAbsDy(k)),
  };
}

const useWebgl = () => useBackend('webgl');

const suite = {
  /**
   * Makes tfjs create a WebGL 1 context (call before anything else in a fresh page): runs
   * the programs through their GLSL ES 1.0 variant.
   */
  forceWebGL1() {
    tf.env().set('WEBGL_VERSION', 1);
  },

  /** WebGL environment facts, and the float precision actually seen through a kernel. */
  async environment() {
    const ok = await useWebgl();
    if (!ok) return {webgl: false};
    const backend = tf.backend() as unknown as {gpgpu: {gl: WebGL2RenderingContext}};
    const gl = backend.gpgpu.gl;
    const dbg = gl.getExtension('WEBGL_debug_renderer_info');
    const hp = gl.getShaderPrecisionFormat(gl.FRAGMENT_SHADER, gl.HIGH_FLOAT)!;
    // identity spline on [-1, 1]: y = x exactly when textures and arithmetic are float32
    const probe = new Float32Array([1 + 2 ** -23, 0.1, -0.7, 1e-30, 3.4e38, 16777217]);
    const y = linearSpline(tf.tensor1d(probe), tf.tensor2d([[-1, 0, 1]]), {start: -1, step: 1});
    const yv = await y.data();
    y.dispose();
    return {
      webgl: true,
      backend: tf.getBackend(),
      implementation: splineImplementation(),
      WEBGL_VERSION: tf.env().getNumber('WEBGL_VERSION'),
      WEBGL_RENDER_FLOAT32_CAPABLE: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
      WEBGL_RENDER_FLOAT32_ENABLED: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
      WEBGL_DOWNLOAD_FLOAT_ENABLED: tf.env().getBool('WEBGL_DOWNLOAD_FLOAT_ENABLED'),
      renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
      highpFloat: {rangeMin: hp.rangeMin, rangeMax: hp.rangeMax, precision: hp.precision},
      identityExact: Array.from(yv).every((v, i) => v === probe[i]),
      identity: Array.from(yv),
    };
  },

  /**
   * The shared conformance suite on webgl; the backend's memory is counted as the bytes of
   * textures in use.
   */
  async conformance(options: ConformanceOptions) {
    await useWebgl();
    return runConformance({...options, liveAllocations: () =>
      (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU});
  },

  /** Parity when x is read from packed textures (the usual case after a dense layer). */
  async parityPacked(seed: number) {
    await useWebgl();
    const r = rng(seed);
    const results = [];
    for (const [shape, shared, K] of [[[33, 4], false, 21], [[3, 5, 6], false, 7],
      [[2, 3, 4, 5], true, 9], [[257, 3], false, 21]] as Array<[number[], boolean, number]>) {
      results.push(await check(randomCase(r, shape, shared, K), true));
    }
    return results;
  },

  /** Grids far from the origin: @deepspline/testing's `farFromOrigin` on these kernels. */
  async farFromOrigin(seed: number) {
    await useWebgl();
    return farFromOrigin(seed, (k) => runWebgl(k));
  },

  /** The two-stage dc reduction at sizes around its block boundaries. */
  async parityReduction() {
    await useWebgl();
    const r = rng(7);
    const results = [];
    for (const rows of [64, 65, 255, 256, 257, 4097, 20000]) {
      results.push({rows, plan: reductionPlan(rows),
        ...(await check(randomCase(r, [rows, 2], false, 21)))});
    }
    results.push({rows: 30000, plan: reductionPlan(30000),
      ...(await check(randomCase(r, [30000], true, 21)))});
    return results;
  },

  /** A small spline network trained with fit on webgl (@deepspline/testing's trainCircleNet). */
  async train() {
    await useWebgl();
    return trainCircleNet();
  },
};

setSplineImplementation(null);
(window as unknown as {suite: typeof suite}).suite = suite;
(window as unknown as {tf: typeof tf}).tf = tf;
