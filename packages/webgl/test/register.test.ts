// Node-side checks of @deepspline/webgl (no WebGL here: the GPU behaviour is tested in
// headless Chromium by test/browser/webgl.test.ts, `npm run test:browser`).
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {linearSplineGradWebGLConfig, linearSplineWebGLConfig} from '@deepspline/webgl';
import {LinearSplineDcPartialProgram, LinearSplineDcSumProgram, LinearSplineDxProgram, LinearSplineProgram, reductionPlan} from '@deepspline/webgl/internal';

test("import registers both kernels for 'webgl' (the op needs both to choose them)", () => {
  expect(tf.getKernel(LinearSpline, 'webgl')).toBe(linearSplineWebGLConfig);
  expect(tf.getKernel(LinearSplineGrad, 'webgl')).toBe(linearSplineGradWebGLConfig);
  expect(linearSplineWebGLConfig.backendName).toBe('webgl');
});

test('reductionPlan covers every row exactly once, with about sqrt(rows) per block', () => {
  for (const rows of [1, 2, 63, 64, 65, 100, 255, 256, 257, 1000, 4097, 123457, 1e6]) {
    const {rowsPerBlock, blocks} = reductionPlan(rows);
    expect(blocks * rowsPerBlock).toBeGreaterThanOrEqual(rows);
    expect((blocks - 1) * rowsPerBlock).toBeLessThan(rows);
    if (rows <= 64) expect(blocks).toBe(1);
    else expect(rowsPerBlock).toBe(Math.max(16, Math.ceil(Math.sqrt(rows))));
  }
});

test('programs: output shapes, grid uniforms, bit-pattern NaN test on WebGL 2', () => {
  const fwd = new LinearSplineProgram([5, 3, 4], 4, 21, 2);
  expect(fwd.outputShape).toEqual([5, 3, 4]);
  expect(fwd.variableNames).toEqual(['X', 'C']);
  expect(fwd.customUniforms.map((u) => u.name)).toEqual(['splineStart', 'splineStep']);
  expect(fwd.userCode).toContain('floatBitsToUint');
  expect(fwd.userCode).toContain('getOutputCoords().z');
  expect(new LinearSplineProgram([5, 3, 4], 4, 21, 1).userCode).not.toContain('floatBitsToUint');
  expect(new LinearSplineProgram([5, 3, 4], 1, 21, 2).userCode).toContain('int ch = 0;');
  const plan = reductionPlan(1000);
  const partial = new LinearSplineDcPartialProgram([1000, 4], 4, 21, plan, 2);
  expect(partial.outputShape).toEqual([plan.blocks, 84]);
  expect(partial.userCode).toContain(`i < ${plan.rowsPerBlock}`);
  expect(new LinearSplineDcSumProgram(4, 21, plan.blocks).outputShape).toEqual([4, 21]);
});

test('special-case code in every program: NaN results from tfjs\'s NAN uniform, +0 by a select', () => {
  const plan = reductionPlan(1000);
  for (const version of [1, 2]) {
    const programs = [new LinearSplineProgram([5, 3], 3, 7, version),
      new LinearSplineDxProgram([5, 3], 3, 7, version),
      new LinearSplineDcPartialProgram([1000, 3], 3, 7, plan, version)];
    for (const {userCode} of programs) {
      expect(userCode).toContain('spline_plus_zero(');
      expect(userCode).not.toMatch(/\+ 0\.0\b/);   // compilers may fold v + 0.0 to v
    }
    // forward and dx: NaN where x is NaN or the segment holds a non-finite coefficient
    for (const {userCode} of programs.slice(0, 2)) {
      expect(userCode).toContain('spline_bad(x, c0, c1)');
      expect(userCode).toMatch(/\bNAN\b/);
    }
    // non-finite test from the bits on WebGL 2, against tfjs's INFINITY uniform on WebGL 1
    expect(programs[0].userCode.includes('0x7f800000u) != 0x7f800000u')).toBe(version === 2);
    expect(programs[0].userCode.includes('abs(v) != INFINITY')).toBe(version === 1);
  }
  expect(new LinearSplineDcSumProgram(3, 7, 4).userCode).toContain('acc == 0.0 ? 0.0 : acc');
});

test('the kernels validate their inputs before touching the backend', () => {
  const x = {dataId: {}, shape: [4, 3], dtype: 'float32' as const};
  const bad = {dataId: {}, shape: [2, 5], dtype: 'float32' as const};
  const run = (attrs: object, c = bad) => () => linearSplineWebGLConfig.kernelFunc(
    {inputs: {x, coefficients: c}, backend: {} as never, attrs: attrs as never});
  expect(run({start: -1, step: 0.5})).toThrow(
    /linearSpline: coefficients of shape \[2,5\] do not match x of shape \[4,3\]/);
  expect(run({start: -1, step: -1}, {...bad, shape: [3, 5]})).toThrow(/expected step > 0, got -1/);
  const grad = () => linearSplineGradWebGLConfig.kernelFunc({inputs: {dy: {...x, shape: [4, 2]}, x,
    coefficients: {...bad, shape: [3, 5]}}, backend: {} as never, attrs: {start: -1, step: 1}});
  expect(grad).toThrow(/expected dy of shape \[4,3\], got \[4,2\]/);
});
