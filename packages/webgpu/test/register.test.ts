// Node-side checks of @deepspline/webgpu (no WebGPU here: the GPU behaviour is tested in
// headless Chromium by test/browser/webgpu.test.ts, `npm run test:browser`).
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import {linearSplineGradWebGPUConfig, linearSplineWebGPUConfig} from '@deepspline/webgpu';
import {gridUniformValues, LinearSplineDcPartialProgram, LinearSplineDcSumProgram,
  LinearSplineDxProgram, LinearSplineProgram, partialUniformValues, reductionPlan,
  WORKGROUP_SIZE} from '@deepspline/webgpu/internal';

test("import registers both kernels for 'webgpu' (the op needs both to choose them)", () => {
  expect(tf.getKernel(LinearSpline, 'webgpu')).toBe(linearSplineWebGPUConfig);
  expect(tf.getKernel(LinearSplineGrad, 'webgpu')).toBe(linearSplineGradWebGPUConfig);
  expect(linearSplineWebGPUConfig.backendName).toBe('webgpu');
});

test('reductionPlan covers every row exactly once; threads add max(2K, sqrt(rows / lanes)) rows', () => {
  for (const [C, K] of [[1, 3], [1, 21], [1, 101], [4, 3], [256, 21], [7, 101]]) {
    for (const rows of [1, 2, 63, 64, 255, 256, 257, 1024, 1025, 4097, 123457, 1e6, 5e7]) {
      const plan = reductionPlan(rows, C, K);
      const {lanes, rowsPerBlock, blocks} = plan;
      expect(lanes).toBe(C === 1 ? WORKGROUP_SIZE : 1);
      expect(rowsPerBlock % lanes).toBe(0);
      expect(blocks * rowsPerBlock).toBeGreaterThanOrEqual(rows);
      expect((blocks - 1) * rowsPerBlock).toBeLessThan(rows);
      const perThread = rowsPerBlock / lanes;
      expect(perThread).toBe(Math.max(2 * K, Math.ceil(Math.sqrt(rows / lanes))));
      if (rows <= 2 * K * lanes) expect(blocks).toBe(1);
      // stage 2 loops over the blocks: no longer than a thread's loop
      expect(blocks).toBeLessThanOrEqual(perThread + 1);
      // a shared spline's workgroups never need tfjs's folding of dispatches over 65535
      if (C === 1) expect(new LinearSplineDcPartialProgram(1, K, plan).dispatch[0]).toBeLessThan(65536);
    }
  }
});

test('programs: output shapes, dispatch, shader keys with K, uniforms in declaration order', () => {
  const fwd = new LinearSplineProgram([5, 3, 4], 21);
  expect(fwd.outputShape).toEqual([5, 3, 4]);
  expect(fwd.variableNames).toEqual(['X', 'C']);
  expect(fwd.dispatch).toEqual([Math.ceil(60 / 64), 1, 1]);
  expect(fwd.dispatchLayout).toEqual({x: [0, 1, 2]});
  expect(fwd.shaderKey).toBe('deepspline_linearSpline_21');
  expect(fwd.uniforms).toBe('splineStart : f32, splineStep : f32,');
  expect(gridUniformValues(-1, 0.5)).toEqual([{type: 'float32', data: [-1]},
    {type: 'float32', data: [0.5]}]);
  expect(new LinearSplineProgram([], 3).dispatch).toEqual([1, 1, 1]);
  expect(new LinearSplineDxProgram([130], 7).dispatch).toEqual([3, 1, 1]);
  const plan = reductionPlan(1000, 4, 21);
  const partial = new LinearSplineDcPartialProgram(4, 21, plan);
  expect(partial.outputShape).toEqual([plan.blocks * 4, 21]);
  // per-channel: one thread per block and channel
  expect(partial.dispatch).toEqual([Math.ceil(plan.blocks * 4 / 64), 1, 1]);
  // shared: one workgroup per block
  const sharedPlan = reductionPlan(1e6, 1, 21);
  expect(new LinearSplineDcPartialProgram(1, 21, sharedPlan).dispatch).toEqual([sharedPlan.blocks, 1, 1]);
  expect(partial.uniforms).toBe('splineStart : f32, splineStep : f32, ' +
    'splineRows : i32, splineRowsPerBlock : i32, splineCount : i32,');
  expect(partialUniformValues(-1, 0.5, plan, 4).map((u) => [u.type, u.data[0]])).toEqual([
    ['float32', -1], ['float32', 0.5], ['int32', 1000], ['int32', plan.rowsPerBlock],
    ['int32', 4]]);
  // the thread's accumulators are a private array of K floats: K is baked into the shader
  expect(partial.getUserCode()).toContain('var acc : array<f32, 21>;');
  expect(partial.shaderKey).toBe('deepspline_linearSplineDcPartial_21_channels');
  const sharedCode = new LinearSplineDcPartialProgram(1, 21, sharedPlan).getUserCode();
  expect(sharedCode).toContain('workgroupBarrier()');
  expect(partial.getUserCode()).not.toContain('workgroupBarrier()');
  expect(new LinearSplineDcSumProgram(4, 21).outputShape).toEqual([4, 21]);
});

test('special-case code in every program: bit tests for NaN, ±Inf and -0, tfjs\'s NAN uniform', () => {
  const programs = [new LinearSplineProgram([5, 3], 7), new LinearSplineDxProgram([5, 3], 7),
    new LinearSplineDcPartialProgram(3, 7, reductionPlan(1000, 3, 7)),
    new LinearSplineDcPartialProgram(1, 7, reductionPlan(1000, 1, 7))];
  for (const program of programs) {
    const code = program.getUserCode();
    expect(code).toContain('spline_plus_zero(');
    expect(code).toContain('bitcast<u32>(v) == 0x80000000u');
    expect(code).toContain('(bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u');
    // WGSL may assume NaN never occurs: no x != x, no builtin-style isnan
    expect(code).not.toMatch(/\b(\w+) != \1\b/);
    expect(code).not.toMatch(/[^_]isnan\(/);
  }
  for (const program of programs.slice(0, 2)) {
    expect(program.getUserCode()).toContain('spline_bad(x, c0, c1)');
    expect(program.getUserCode()).toContain('uniforms.NAN');
  }
  expect(new LinearSplineDcSumProgram(3, 7).getUserCode()).toContain('0x80000000u');
});

test('the kernels validate their inputs before touching the backend', () => {
  const x = {dataId: {}, shape: [4, 3], dtype: 'float32' as const};
  const bad = {dataId: {}, shape: [2, 5], dtype: 'float32' as const};
  const run = (attrs: object, c = bad) => () => linearSplineWebGPUConfig.kernelFunc(
    {inputs: {x, coefficients: c}, backend: {} as never, attrs: attrs as never});
  expect(run({start: -1, step: 0.5})).toThrow(
    /linearSpline: coefficients of shape \[2,5\] do not match x of shape \[4,3\]/);
  expect(run({start: -1, step: -1}, {...bad, shape: [3, 5]})).toThrow(/expected step > 0, got -1/);
  const grad = () => linearSplineGradWebGPUConfig.kernelFunc({inputs: {dy: {...x, shape: [4, 2]}, x,
    coefficients: {...bad, shape: [3, 5]}}, backend: {} as never, attrs: {start: -1, step: 1}});
  expect(grad).toThrow(/expected dy of shape \[4,3\], got \[4,2\]/);
});
