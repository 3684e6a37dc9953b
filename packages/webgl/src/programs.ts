/**
 * The GLSL programs of the WebGL kernels, as tfjs `GPGPUProgram` objects run by
 * `MathBackendWebGL.runWebGLProgram`.
 *
 * Every program evaluates the per-element rule of `@deepspline/core` (`cpu_impl.ts`, its
 * README's "Semantics"), with `K` coefficients `c` per channel and knots `t_k = start + k * step`:
 * ```
 * u = (x - start) / step
 * k = u >= K-2 ? K-2 : (u >= 0 ? floor(u) : 0)       // NaN: k = 0
 * k = k +/- 1 if x lies on the other side of the float32 knot t_{k+1} / t_k  (see below)
 * s = (c[k+1] - c[k]) / step
 * bad = x is NaN, or c[k] or c[k+1] is ±Inf or NaN
 * y  = bad ? NaN : (s == 0 ? c[k] : c[k] + (x - t_k) s);   y = y == 0 ? +0 : y
 * dx = bad ? NaN : s dy                                     (IEEE's sign, -0 included)
 * g = (x - t_k) dy / step;   dc[k] += dy - g;   dc[k+1] += g;   dc = dc == 0 ? +0 : dc
 * ```
 * GLSL forces float32 arithmetic throughout (the cpu kernel computes in float64 and rounds
 * once) and allows a division to be off by a few ulp; the knot check after `floor` keeps
 * the segment choice consistent with the float32 knots, so inputs that sit exactly on a knot
 * of a binary-exact grid pick the same segment as the cpu kernel. `k` is clamped to
 * `[0, K-2]` after that, so no input value (NaN, ±Inf, ±3.4e38, subnormals) can address a
 * coefficient outside the channel's row.
 *
 * NaN and ±Inf are detected from the bit pattern (`floatBitsToUint`, WebGL 2) instead of
 * `x != x` or the builtins `isnan` / `isinf`, which shader compilers may fold to `false`; NaN
 * results are tfjs's `NAN` uniform (every tfjs program declares it). A zero result is made
 * `+0` by a select (`v == 0.0 ? 0.0 : v`), not by `v + 0.0`, which compilers may fold away.
 *
 * @packageDocumentation
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';

type CustomUniforms = NonNullable<GPGPUProgram['customUniforms']>;

/** The uniforms every program declares: the grid, so that a new grid needs no recompilation. */
const GRID_UNIFORMS: CustomUniforms = [
  {name: 'splineStart', type: 'float'},
  {name: 'splineStep', type: 'float'},
];

/** Values of {@link GRID_UNIFORMS} for `runWebGLProgram`. */
export function gridUniformValues(start: number, step: number): number[][] {
  return [[start], [step]];
}

/** Formats a JavaScript number as a GLSL float literal. */
function glslFloat(v: number): string {
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

/**
 * GLSL helpers shared by the programs: `spline_isnan(x)`, `spline_bad(x, c0, c1)` (whether
 * the rule above gives NaN: `x` NaN or a non-finite coefficient of the segment),
 * `spline_plus_zero(v)` (`-0` made `+0`) and `spline_segment(x)` (the segment index `k` of
 * the rule above) for splines of `K` coefficients.
 */
export function splineHelpers(K: number, webglVersion: number): string {
  const classify = webglVersion === 2 ?
    // IEEE 754: exponent all ones (mantissa non-zero: NaN). Survives any compiler folding.
    `bool spline_isnan(float v) {
        return (floatBitsToUint(v) & 0x7fffffffu) > 0x7f800000u;
      }

      bool spline_isfinite(float v) {
        return (floatBitsToUint(v) & 0x7f800000u) != 0x7f800000u;
      }` :
    // WebGL 1 has no bit casts; these are the forms tfjs itself uses there (INFINITY is the
    // uniform tfjs declares and sets in every WebGL 1 program).
    `bool spline_isnan(float v) {
        return (v > 0.0 || v < 1.0 || v == 0.0) ? false : true;
      }

      bool spline_isfinite(float v) {
        return spline_isnan(v) ? false : abs(v) != INFINITY;
      }`;
  return `
      ${classify}

      bool spline_bad(float x, float c0, float c1) {
        return spline_isnan(x) || !spline_isfinite(c0) || !spline_isfinite(c1);
      }

      float spline_plus_zero(float v) {
        return v == 0.0 ? 0.0 : v;
      }

      int spline_segment(float x) {
        float u = (x - splineStart) / splineStep;
        int k = 0;
        if (u >= ${glslFloat(K - 2)}) {
          k = ${K - 2};
        } else if (u >= 0.0) {
          k = int(floor(u));
        }
        // (no integer clamp() in GLSL ES 1.0)
        if (k < 0) {
          k = 0;
        } else if (k > ${K - 2}) {
          k = ${K - 2};
        }
        // A float32 division may be a few ulp off: settle the segment against the knots.
        if (k < ${K - 2} && x >= splineStart + float(k + 1) * splineStep) {
          k += 1;
        } else if (k > 0 && x < splineStart + float(k) * splineStep) {
          k -= 1;
        }
        return k;
      }
  `;
}

/**
 * GLSL that declares `int ch`, the coefficient row of the current output element (its
 * index on the last axis, or 0 for a shared spline), for an output of rank `rank`.
 */
function channelOfOutput(rank: number, shared: boolean): string {
  if (shared || rank === 0) return 'int ch = 0;';
  if (rank === 1) return 'int ch = getOutputCoords();';
  const field = ['x', 'y', 'z', 'w', 'u', 'v'][rank - 1];
  return `int ch = getOutputCoords().${field};`;
}

/**
 * GLSL that declares, for the current output element of an elementwise program (see
 * {@link channelOfOutput}), its input `x`, segment `k`, coefficients `c0`, `c1` and slope `s`.
 */
function segmentOfOutput(rank: number, shared: boolean): string {
  return `${channelOfOutput(rank, shared)}
        float x = getXAtOutCoords();
        int k = spline_segment(x);
        float c0 = getC(ch, k);
        float c1 = getC(ch, k + 1);
        float s = (c1 - c0) / splineStep;`;
}

/**
 * Shared fields of the elementwise programs, one output element per input element: the GLSL
 * is the spline helpers and a `main` that declares the element's segment (see
 * {@link segmentOfOutput}) and runs `body`, which sets the output.
 */
abstract class ElementwiseProgram implements GPGPUProgram {
  abstract variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms = GRID_UNIFORMS;

  constructor(xShape: readonly number[], C: number, K: number, webglVersion: number, body: string) {
    this.outputShape = xShape.slice();
    this.userCode = `
      ${splineHelpers(K, webglVersion)}

      void main() {
        ${segmentOfOutput(xShape.length, C === 1)}
        ${body}
      }
    `;
  }
}

/**
 * Forward program: one output element per input element, `y = spline(x)`.
 * Inputs `X` (any rank up to 6) and `C` (`[C, K]`).
 */
export class LinearSplineProgram extends ElementwiseProgram {
  variableNames = ['X', 'C'];

  /**
   * @param xShape Shape of `x`.
   * @param C Rows of the coefficients (1: shared spline).
   * @param K Coefficients per spline.
   * @param webglVersion `env().getNumber('WEBGL_VERSION')`.
   */
  constructor(xShape: readonly number[], C: number, K: number, webglVersion: number) {
    super(xShape, C, K, webglVersion, `float y;
        if (spline_bad(x, c0, c1)) {
          y = NAN;
        } else if (s == 0.0) {
          y = c0;
        } else {
          y = c0 + (x - (splineStart + float(k) * splineStep)) * s;
        }
        setOutput(spline_plus_zero(y));`);
  }
}

/**
 * Backward program for `dx = s * dy` (NaN where `x` is NaN or the segment holds a non-finite
 * coefficient), one output element per input element. Inputs `DY`, `X` (same shape) and `C`.
 */
export class LinearSplineDxProgram extends ElementwiseProgram {
  variableNames = ['DY', 'X', 'C'];

  /** Same parameters as {@link LinearSplineProgram}. */
  constructor(xShape: readonly number[], C: number, K: number, webglVersion: number) {
    super(xShape, C, K, webglVersion, `float dy = getDYAtOutCoords();
        setOutput(spline_bad(x, c0, c1) ? NAN : s * dy);`);
  }
}

/**
 * How the coefficient gradient is reduced: every output `dc[c, j]` is a sum over the
 * `rows` input elements that use spline `c`, split into `blocks` partial sums of
 * `rowsPerBlock` elements (stage 1), which stage 2 adds up (skipped when `blocks = 1`).
 */
export interface ReductionPlan {
  /** Input elements per spline (`n / channels`, or `n` for a shared spline). */
  rows: number;
  /** Elements each stage-1 thread loops over. */
  rowsPerBlock: number;
  /** Partial sums per output (`ceil(rows / rowsPerBlock)`). */
  blocks: number;
}

/**
 * Splits a reduction over `rows` elements: one stage up to 64 elements, else blocks of
 * `max(16, ceil(sqrt(rows)))` elements, so that both stages loop about `sqrt(rows)` times.
 */
export function reductionPlan(rows: number): ReductionPlan {
  if (rows <= 64) return {rows, rowsPerBlock: Math.max(rows, 1), blocks: 1};
  const rowsPerBlock = Math.max(16, Math.ceil(Math.sqrt(rows)));
  return {rows, rowsPerBlock, blocks: Math.ceil(rows / rowsPerBlock)};
}

/** GLSL arguments `i0, i1, ...` of `getX(...)` for a flat index `e` into `shape`. */
function unravel(shape: readonly number[]): {code: string, args: string} {
  const rank = shape.length;
  if (rank === 0) return {code: '', args: ''};
  const lines: string[] = ['int rem = e;'];
  const names: string[] = [];
  let stride = shape.reduce((a, b) => a * b, 1);
  for (let d = 0; d < rank - 1; ++d) {
    stride /= shape[d];
    lines.push(`int i${d} = rem / ${stride}; rem -= i${d} * ${stride};`);
    names.push(`i${d}`);
  }
  names.push('rem');
  return {code: lines.join('\n          '), args: names.join(', ')};
}

/**
 * Stage 1 of the coefficient gradient: output `[blocks, C * K]`; thread `(b, c*K + j)`
 * loops over elements `b * rowsPerBlock ...` of spline `c` and adds the contributions
 * `dy - g` (where the element's segment is `k = j`) and `g` (where `k + 1 = j`).
 * Inputs `DY` and `X` (same shape).
 */
export class LinearSplineDcPartialProgram implements GPGPUProgram {
  variableNames = ['DY', 'X'];
  outputShape: number[];
  userCode: string;
  customUniforms = GRID_UNIFORMS;

  /**
   * @param xShape Shape of `x`.
   * @param C Rows of the coefficients (1: shared spline, reduced over every element).
   * @param K Coefficients per spline.
   * @param plan From {@link reductionPlan} for the number of elements per spline.
   * @param webglVersion `env().getNumber('WEBGL_VERSION')`.
   */
  constructor(xShape: readonly number[], C: number, K: number, plan: ReductionPlan,
      webglVersion: number) {
    this.outputShape = [plan.blocks, C * K];
    const channels = xShape.length === 0 ? 1 : xShape[xShape.length - 1];
    const element = C === 1 ? 'int e = r;' : `int e = r * ${channels} + c;`;
    const {code, args} = unravel(xShape);
    this.userCode = `
      ${splineHelpers(K, webglVersion)}

      void main() {
        ivec2 coords = getOutputCoords();
        int b = coords.x;
        int c = coords.y / ${K};
        int j = coords.y - c * ${K};
        float acc = 0.0;
        for (int i = 0; i < ${plan.rowsPerBlock}; i++) {
          int r = b * ${plan.rowsPerBlock} + i;
          if (r >= ${plan.rows}) {
            break;
          }
          ${element}
          ${code}
          float x = getX(${args});
          int k = spline_segment(x);
          if (k == j || k + 1 == j) {
            float dy = getDY(${args});
            float g = (x - (splineStart + float(k) * splineStep)) * dy / splineStep;
            acc += k == j ? dy - g : g;
          }
        }
        setOutput(spline_plus_zero(acc));
      }
    `;
  }
}

/** Stage 2 of the coefficient gradient: sums the `[blocks, C * K]` partials `P` to `[C, K]`. */
export class LinearSplineDcSumProgram implements GPGPUProgram {
  variableNames = ['P'];
  outputShape: number[];
  userCode: string;

  /** @param C Rows of the coefficients. @param K Coefficients per spline. @param blocks Partial sums. */
  constructor(C: number, K: number, blocks: number) {
    this.outputShape = [C, K];
    this.userCode = `
      void main() {
        ivec2 coords = getOutputCoords();
        int col = coords.x * ${K} + coords.y;
        float acc = 0.0;
        for (int b = 0; b < ${blocks}; b++) {
          acc += getP(b, col);
        }
        setOutput(acc == 0.0 ? 0.0 : acc);  // never -0, as spline_plus_zero
      }
    `;
  }
}
