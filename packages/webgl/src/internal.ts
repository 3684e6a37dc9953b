/**
 * `@deepspline/webgl/internal`: the GLSL programs of the kernels and the reduction plan, for
 * backend authors and the package's own tests; not part of the user-facing API.
 *
 * @packageDocumentation
 */
export {LinearSplineDcPartialProgram, LinearSplineDcSumProgram, LinearSplineDxProgram,
  LinearSplineProgram, reductionPlan} from './programs.js';
export type {ReductionPlan} from './programs.js';
