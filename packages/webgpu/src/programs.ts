/**
 * The WGSL programs of the WebGPU kernels, as tfjs `WebGPUProgram` objects run by
 * `WebGPUBackend.runWebGPUProgram` (compute shaders; tfjs adds the buffer bindings, the
 * uniform struct with the shapes and `NAN`, and `setOutputAtIndex`).
 *
 * Every program evaluates the per-element rule of `@deepspline/core` (`cpu_impl.ts`, its
 * README's "Semantics") the way `@deepspline/webgl` does, with `K` coefficients `c` per
 * channel and knots `t_k = start + k * step`:
 * ```
 * u = (x - start) / step
 * k = u >= K-2 ? K-2 : (u >= 0 ? floor(u) : 0)       // NaN: k = 0
 * k = k +/- 1 if x lies on the other side of the float32 knot t_{k+1} / t_k
 * s = (c[k+1] - c[k]) / step
 * bad = x is NaN, or c[k] or c[k+1] is ±Inf or NaN
 * y  = bad ? NaN : (s == 0 ? c[k] : c[k] + (x - t_k) s);   y = y == -0 ? +0 : y
 * dx = bad ? NaN : s dy                                     (IEEE's sign, -0 included)
 * g = (x - t_k) dy / step;   dc[k] += dy - g;   dc[k+1] += g;   dc = dc == -0 ? +0 : dc
 * ```
 * WGSL has only float32 arithmetic (the cpu kernel computes in float64 and rounds once) and
 * allows a division to be 2.5 ulp off; the knot check after `floor` keeps the segment choice
 * consistent with the float32 knots, so inputs exactly on a knot of a binary-exact grid pick
 * the same segment as the cpu kernel. `k` is clamped to `[0, K-2]`, so no input value can
 * address a coefficient outside the channel's row.
 *
 * WGSL lets implementations assume that no NaN or infinity occurs, so NaN and ±Inf are
 * recognised from the bit pattern (`bitcast<u32>`), never by `x != x`; NaN results are
 * tfjs's `NAN` uniform, and `-0` is made `+0` by testing its bits (a select on `v == 0.0`
 * could be folded to `v` by a compiler that ignores signed zeros).
 *
 * @packageDocumentation
 */
import type {WebGPUProgram} from '@tensorflow/tfjs-backend-webgpu';

/** A uniform value for `runWebGPUProgram` (tfjs's `ProgramUniform` entries). */
export interface UniformValue {
  /** `'float32'` or `'int32'`. */
  type: 'float32' | 'int32';
  /** The value (one scalar here). */
  data: number[];
}

/** Threads per workgroup of every program. */
export const WORKGROUP_SIZE = 64;

/** Coefficients a `dc` workgroup reduces per pass through its shared memory (8 KiB of f32). */
const COEFFICIENTS_PER_PASS = 32;

/** The grid, as uniforms of every program that evaluates the rule: no recompilation per grid. */
const GRID_UNIFORMS = 'splineStart : f32, splineStep : f32,';

/** Values of the grid uniforms for `runWebGPUProgram`, in declaration order. */
export function gridUniformValues(start: number, step: number): UniformValue[] {
  return [{type: 'float32', data: [start]}, {type: 'float32', data: [step]}];
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * WGSL helpers shared by the programs, for splines of `K` coefficients: `spline_isnan(v)`,
 * `spline_bad(x, c0, c1)` (whether the rule above gives NaN), `spline_plus_zero(v)` (`-0`
 * made `+0`), `spline_knot(k)` and `spline_segment(x)` (the segment index `k` above).
 */
export function splineHelpers(K: number): string {
  return `
      fn spline_isnan(v : f32) -> bool {
        return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
      }

      fn spline_isfinite(v : f32) -> bool {
        return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
      }

      fn spline_bad(x : f32, c0 : f32, c1 : f32) -> bool {
        return spline_isnan(x) || !spline_isfinite(c0) || !spline_isfinite(c1);
      }

      fn spline_plus_zero(v : f32) -> f32 {
        return select(v, 0.0, bitcast<u32>(v) == 0x80000000u);
      }

      fn spline_knot(k : i32) -> f32 {
        return uniforms.splineStart + f32(k) * uniforms.splineStep;
      }

      fn spline_segment(x : f32) -> i32 {
        if (spline_isnan(x)) {
          return 0;
        }
        let u = (x - uniforms.splineStart) / uniforms.splineStep;
        var k = 0;
        if (u >= ${K - 2}.0) {
          k = ${K - 2};
        } else if (u >= 0.0) {
          k = clamp(i32(floor(u)), 0, ${K - 2});
        }
        // A float32 division may be a few ulp off: settle the segment against the knots.
        if (k < ${K - 2} && x >= spline_knot(k + 1)) {
          k = k + 1;
        } else if (k > 0 && x < spline_knot(k)) {
          k = k - 1;
        }
        return k;
      }
  `;
}

/**
 * Shared fields of the elementwise programs: one thread per element of `x`, flat dispatch; the
 * WGSL is the spline helpers and a `main` that declares the element's segment (see
 * {@link segmentOf}) and runs {@link ElementwiseProgram.elementCode}.
 */
abstract class ElementwiseProgram implements WebGPUProgram {
  abstract variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  uniforms = GRID_UNIFORMS;
  /** tfjs declares `uniforms.size`, the number of output elements. */
  size = true;
  protected readonly K: number;

  constructor(name: string, xShape: readonly number[], K: number) {
    this.outputShape = xShape.slice();
    this.dispatchLayout = {x: xShape.map((_d, i) => i)};
    this.dispatch = [Math.ceil(sizeOf(xShape) / WORKGROUP_SIZE), 1, 1];
    this.K = K;
    // tfjs appends the ranks and dtypes of the inputs and the output to the key.
    this.shaderKey = `deepspline_${name}_${K}`;
  }

  /** WGSL run for element `index` after {@link segmentOf}: sets its output. */
  protected abstract elementCode(): string;

  /** The WGSL of the program (called by tfjs when it compiles the pipeline). */
  getUserCode(): string {
    return `
      ${splineHelpers(this.K)}

      fn main(index : i32) {
        if (index < uniforms.size) {
          ${segmentOf(this.K)}
          ${this.elementCode()}
        }
      }
    `;
  }
}

/**
 * WGSL that declares the segment `k`, the coefficients `c0`, `c1` and the slope `s` of
 * element `index` of `X` (the channel is `index % C`: the last axis is the fastest, and
 * `C = 1` for a shared spline).
 */
function segmentOf(K: number): string {
  return `
          let x = X[index];
          let k = spline_segment(x);
          let row = (index % uniforms.cShape.x) * ${K};
          let c0 = C[row + k];
          let c1 = C[row + k + 1];
          let s = (c1 - c0) / uniforms.splineStep;`;
}

/**
 * Forward program: one thread per element of `x`, `y = spline(x)`. Inputs `X` (any rank up to
 * 6) and `C` (`[C, K]`).
 */
export class LinearSplineProgram extends ElementwiseProgram {
  variableNames = ['X', 'C'];

  /** @param xShape Shape of `x`. @param K Coefficients per spline. */
  constructor(xShape: readonly number[], K: number) {
    super('linearSpline', xShape, K);
  }

  protected elementCode(): string {
    return `var y = c0;
          if (spline_bad(x, c0, c1)) {
            y = uniforms.NAN;
          } else if (s != 0.0) {
            y = c0 + (x - spline_knot(k)) * s;
          }
          setOutputAtIndex(index, spline_plus_zero(y));`;
  }
}

/**
 * Backward program for `dx = s * dy` (NaN where `x` is NaN or the segment holds a non-finite
 * coefficient), one thread per element. Inputs `DY`, `X` (same shape) and `C`.
 */
export class LinearSplineDxProgram extends ElementwiseProgram {
  variableNames = ['DY', 'X', 'C'];

  /** Same parameters as {@link LinearSplineProgram}. */
  constructor(xShape: readonly number[], K: number) {
    super('linearSplineDx', xShape, K);
  }

  protected elementCode(): string {
    return 'setOutputAtIndex(index, select(s * DY[index], uniforms.NAN, spline_bad(x, c0, c1)));';
  }
}

/**
 * How the coefficient gradient is reduced: every output `dc[c, j]` is a sum over the `rows`
 * input elements that use spline `c`, split into `blocks` blocks of `rowsPerBlock` elements.
 * Stage 1 writes one partial sum per block, spline and coefficient; stage 2 adds the blocks'
 * partial sums (skipped when `blocks = 1`).
 */
export interface ReductionPlan {
  /** Input elements per spline (`n / C`: all `n` for a shared spline). */
  rows: number;
  /** Threads that share a block: 64 (a workgroup) for a shared spline, else 1. */
  lanes: number;
  /** Elements per block (`lanes` times the elements each thread adds). */
  rowsPerBlock: number;
  /** Blocks per spline (`ceil(rows / rowsPerBlock)`). */
  blocks: number;
}

/**
 * Splits the reduction over the `rows` elements of each of `C` splines of `K` coefficients.
 *
 * Per-channel splines (`C > 1`): one thread per block and spline, adjacent threads on
 * adjacent channels (so they read adjacent elements). A shared spline (`C = 1`): one
 * workgroup of 64 threads per block, whose accumulators are then added up in shared memory.
 * Each thread adds `L = max(2K, ceil(sqrt(rows / lanes)))` elements: the `sqrt` balances
 * the threads' loops against stage 2's loop over the blocks, and `2K` keeps the cost of
 * writing (and, shared, of combining) a thread's `K` sums below that of its elements.
 */
export function reductionPlan(rows: number, C: number, K: number): ReductionPlan {
  const lanes = C === 1 ? WORKGROUP_SIZE : 1;
  const perThread = Math.max(2 * K, Math.ceil(Math.sqrt(rows / lanes)));
  const rowsPerBlock = lanes * perThread;
  return {rows, lanes, rowsPerBlock, blocks: Math.max(1, Math.ceil(rows / rowsPerBlock))};
}

/** Names of the uniforms of {@link LinearSplineDcPartialProgram} after the grid's. */
const PARTIAL_UNIFORMS = 'splineRows : i32, splineRowsPerBlock : i32, splineCount : i32,';

/**
 * Values of the uniforms of {@link LinearSplineDcPartialProgram}: the grid, then the plan
 * and the number of splines `C`.
 */
export function partialUniformValues(start: number, step: number, plan: ReductionPlan,
    C: number): UniformValue[] {
  return [...gridUniformValues(start, step), {type: 'int32', data: [plan.rows]},
    {type: 'int32', data: [plan.rowsPerBlock]}, {type: 'int32', data: [C]}];
}

/** WGSL: adds the contributions of element `e` (row `r` of spline `c`) into `acc`. */
const ACCUMULATE = `
            let e = r * uniforms.splineCount + c;
            let x = X[e];
            let dy = DY[e];
            let k = spline_segment(x);
            let g = (x - spline_knot(k)) * dy / uniforms.splineStep;
            acc[k] = acc[k] + (dy - g);
            acc[k + 1] = acc[k + 1] + g;`;

/**
 * Stage 1 of the coefficient gradient: output `[blocks * C, K]`, row `b * C + c` holding
 * block `b`'s partial sums for spline `c` (element `r * C + c` for row `r`; `C = 1`: every
 * element). Each thread adds `dy - g` and `g` into its private `acc[k]`, `acc[k + 1]` over
 * its elements, reading each element once ({@link reductionPlan}: per-channel, thread
 * `b * C + c` owns a whole block and writes its `acc`; shared, the workgroup's 64 threads
 * split the block and add up their `acc` through shared memory, 32 coefficients per pass). Inputs `DY` and `X` (same shape); uniforms from
 * {@link partialUniformValues}.
 */
export class LinearSplineDcPartialProgram implements WebGPUProgram {
  variableNames = ['DY', 'X'];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  uniforms = `${GRID_UNIFORMS} ${PARTIAL_UNIFORMS}`;
  private readonly K: number;
  private readonly shared: boolean;

  /**
   * @param C Rows of the coefficients (1: shared spline, reduced over every element).
   * @param K Coefficients per spline.
   * @param plan From {@link reductionPlan} for these `C` and `K`.
   */
  constructor(C: number, K: number, plan: ReductionPlan) {
    this.outputShape = [plan.blocks * C, K];
    this.dispatchLayout = {x: [0, 1]};
    this.shared = plan.lanes > 1;
    // Shared: one workgroup per block; never over 65535 of them (blocks <= sqrt(rows / 64)),
    // so tfjs never folds this dispatch into idle workgroups. Per-channel: tfjs folds a
    // dispatch over 65535 workgroups into 2 or 3 dimensions; `index` stays the linear index.
    this.dispatch = [this.shared ? plan.blocks : Math.ceil(plan.blocks * C / WORKGROUP_SIZE), 1, 1];
    this.K = K;
    this.shaderKey = `deepspline_linearSplineDcPartial_${K}_${this.shared ? 'shared' : 'channels'}`;
  }

  /** The WGSL of the program. */
  getUserCode(): string {
    return `
      ${splineHelpers(this.K)}
      ${this.shared ? this.sharedCode() : this.channelsCode()}
    `;
  }

  private channelsCode(): string {
    const K = this.K;
    return `
      fn main(index : i32) {
        if (index < uniforms.outShape.x) {
          let b = index / uniforms.splineCount;
          let c = index - b * uniforms.splineCount;
          var acc : array<f32, ${K}>;
          let rowBegin = b * uniforms.splineRowsPerBlock;
          let rowEnd = min(rowBegin + uniforms.splineRowsPerBlock, uniforms.splineRows);
          for (var r = rowBegin; r < rowEnd; r = r + 1) {${ACCUMULATE}
          }
          for (var j = 0; j < ${K}; j = j + 1) {
            setOutputAtIndex(index * ${K} + j, spline_plus_zero(acc[j]));
          }
        }
      }
    `;
  }

  private sharedCode(): string {
    const K = this.K;
    const W = WORKGROUP_SIZE;
    const J = Math.min(COEFFICIENTS_PER_PASS, K);
    return `
      var<workgroup> spline_partials : array<f32, ${J * W}>;

      fn main(index : i32) {
        let b = index / ${W};
        let lane = i32(localId.x);
        let c = 0;
        var acc : array<f32, ${K}>;
        let rowBegin = b * uniforms.splineRowsPerBlock;
        let rowEnd = min(rowBegin + uniforms.splineRowsPerBlock, uniforms.splineRows);
        for (var r = rowBegin + lane; r < rowEnd; r = r + ${W}) {${ACCUMULATE}
        }
        for (var j0 = 0; j0 < ${K}; j0 = j0 + ${J}) {
          for (var j = 0; j < ${J}; j = j + 1) {
            if (j0 + j < ${K}) {
              spline_partials[j * ${W} + lane] = acc[j0 + j];
            }
          }
          workgroupBarrier();
          if (lane < ${J} && j0 + lane < ${K}) {
            var sum = 0.0;
            for (var t = 0; t < ${W}; t = t + 1) {
              sum = sum + spline_partials[lane * ${W} + t];
            }
            setOutputAtIndex(b * ${K} + j0 + lane, spline_plus_zero(sum));
          }
          workgroupBarrier();
        }
      }
    `;
  }
}

/**
 * Stage 2 of the coefficient gradient: sums the `[blocks * C, K]` partials `P` of
 * {@link LinearSplineDcPartialProgram} to `[C, K]`, one thread per output, blocks in order.
 */
export class LinearSplineDcSumProgram implements WebGPUProgram {
  variableNames = ['P'];
  outputShape: number[];
  shaderKey = 'deepspline_linearSplineDcSum';
  dispatchLayout = {x: [0, 1]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP_SIZE, 1, 1];
  size = true;

  /** @param C Rows of the coefficients. @param K Coefficients per spline. */
  constructor(C: number, K: number) {
    this.outputShape = [C, K];
    this.dispatch = [Math.ceil(C * K / WORKGROUP_SIZE), 1, 1];
  }

  /** The WGSL of the program. */
  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let blocks = uniforms.pShape.x / uniforms.outShape.x;
          var sum = 0.0;
          for (var b = 0; b < blocks; b = b + 1) {
            sum = sum + P[b * uniforms.size + index];
          }
          // never -0, as spline_plus_zero
          setOutputAtIndex(index, select(sum, 0.0, bitcast<u32>(sum) == 0x80000000u));
        }
      }
    `;
  }
}
