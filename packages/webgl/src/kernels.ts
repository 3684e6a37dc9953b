/**
 * The `LinearSpline` / `LinearSplineGrad` kernels for tfjs's `webgl` backend.
 *
 * Forward: one program. Backward: `dx` in one program; `dcoefficients` by a two-stage
 * reduction (see {@link reductionPlan} and the README for the cost).
 */
import {env} from '@tensorflow/tfjs-core';
import type {KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import type {MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {splineGradKernelArgs, splineKernelArgs} from '@deepspline/core/internal';
import {gridUniformValues, LinearSplineDcPartialProgram, LinearSplineDcSumProgram,
  LinearSplineDxProgram, LinearSplineProgram, reductionPlan} from './programs.js';

function webglVersion(): number {
  return env().getNumber('WEBGL_VERSION');
}

const forward: KernelFunc = ({inputs, backend, attrs}) => {
  const {x, coefficients, start, step, C, K} = splineKernelArgs<TensorInfo>(inputs, attrs);
  const webgl = backend as MathBackendWebGL;
  const program = new LinearSplineProgram(x.shape, C, K, webglVersion());
  return webgl.runWebGLProgram(program, [x, coefficients], 'float32',
    gridUniformValues(start, step));
};

const backward: KernelFunc = ({inputs, backend, attrs}) => {
  const {dy, x, coefficients, start, step, C, K, channels, size: n} =
    splineGradKernelArgs<TensorInfo>(inputs, attrs);
  const webgl = backend as MathBackendWebGL;
  const version = webglVersion();
  const uniforms = gridUniformValues(start, step);
  const dx = webgl.runWebGLProgram(new LinearSplineDxProgram(x.shape, C, K, version),
    [dy, x, coefficients], 'float32', uniforms);
  if (n === 0) {
    return [dx, webgl.makeTensorInfo([C, K], 'float32', new Float32Array(C * K))];
  }
  const plan = reductionPlan(C === 1 ? n : n / channels);
  const partial = webgl.runWebGLProgram(
    new LinearSplineDcPartialProgram(x.shape, C, K, plan, version), [dy, x], 'float32', uniforms);
  if (plan.blocks === 1) {
    // [1, C*K] -> [C, K] is a free reshape of an unpacked texture.
    return [dx, {dataId: partial.dataId, shape: [C, K], dtype: 'float32'}];
  }
  const dc = webgl.runWebGLProgram(new LinearSplineDcSumProgram(C, K, plan.blocks), [partial],
    'float32');
  webgl.disposeIntermediateTensorInfo(partial);
  return [dx, dc];
};

/** Kernel config of the webgl forward kernel (`LinearSpline`). */
export const linearSplineWebGLConfig: KernelConfig =
    {kernelName: LinearSpline, backendName: 'webgl', kernelFunc: forward};
/** Kernel config of the webgl backward kernel (`LinearSplineGrad`, returns `[dx, dcoefficients]`). */
export const linearSplineGradWebGLConfig: KernelConfig =
    {kernelName: LinearSplineGrad, backendName: 'webgl', kernelFunc: backward};
