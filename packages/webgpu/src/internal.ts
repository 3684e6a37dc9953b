/**
 * `@deepspline/webgpu/internal`: the WGSL programs of the kernels, their uniforms and the
 * reduction plan, for backend authors and the package's own tests; not part of the
 * user-facing API.
 *
 * @packageDocumentation
 */
export {gridUniformValues, LinearSplineDcPartialProgram, LinearSplineDcSumProgram,
  LinearSplineDxProgram, LinearSplineProgram, partialUniformValues, reductionPlan,
  splineHelpers, WORKGROUP_SIZE} from './programs.js';
export type {ReductionPlan, UniformValue} from './programs.js';
