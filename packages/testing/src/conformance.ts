/**
 * The kernel conformance suite: one list of checks that every implementation of the
 * `LinearSpline` / `LinearSplineGrad` kernels passes (the cpu kernel, the composite fallback
 * on any backend, the wasm kernels with either binary, the webgl kernels in a browser).
 *
 * Each check runs the op (and, for kernels, `runKernel` directly) on the active backend and
 * compares with the float64 reference of `reference.ts`, which follows the Semantics section of
 * `packages/core/README.md`; bit-exact implementations must also give the cpu kernel's bits.
 * Checks are plain async functions that throw an `Error` saying what differs, so that a jest
 * file ({@link describeSplineKernel}) or a browser page ({@link runConformance}) can run them.
 */
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad, linearSpline, setSplineImplementation,
  splineImplementation} from '@deepspline/core';
import type {SplineImplementation} from '@deepspline/core';
import {linearSplineForwardImpl, linearSplineGradImpl} from '@deepspline/core/internal';
import {emptyCases, knotCases, loopPathCases, randomCases, specialFixtureCases,
  specialValueCases} from './cases.js';
import {compareValues, sameBits, show} from './compare.js';
import type {Comparison} from './compare.js';
import {referenceBackward, referenceForward} from './reference.js';
import type {SplineCase} from './reference.js';

/** Which implementation on which backend, and how exact it is. */
export interface ConformanceOptions {
  /** The tfjs backend the checks expect to be active (`'cpu'`, `'wasm'`, `'webgl'`, ...). */
  backend: string;
  /** The fused kernels, or the composite fallback (forced with `setSplineImplementation`). */
  implementation: SplineImplementation;
  /**
   * Whether results must equal the cpu kernel's bit for bit (the wasm kernels); otherwise they
   * are held to the reference within {@link ConformanceOptions.tolerance}.
   */
  bitExact: boolean;
  /**
   * Largest error allowed against the float64 reference: of `y` and `dx` over `max(|ref|, 1)`,
   * of each coefficient's gradient over the sum of the absolute values of its terms.
   * @defaultValue `1e-6`
   */
  tolerance?: number;
  /**
   * Whether the coefficient gradient must match with inputs of ±3.4e38, where float32
   * intermediates overflow (`(x - t_k) dy / step`): true for float64 implementations.
   * @defaultValue `bitExact`
   */
  dcWithHugeValues?: boolean;
  /** Shown in test names, e.g. `'scalar binary'`. */
  label?: string;
  /** Runs before every check (e.g. to select a wasm binary). */
  beforeEachCheck?: () => void | Promise<void>;
  /**
   * The backend's live memory blocks (e.g. the wasm heap's `_malloc`s not yet freed): the leak
   * check requires the same count before and after, scratch memory included.
   */
  liveAllocations?: () => number;
}

/** One named check. */
export interface ConformanceCheck {
  /** What is checked, e.g. `'random case 3: x [2,5], per-channel, K 7'`. */
  name: string;
  /** Throws an `Error` describing the difference when the implementation fails the check. */
  run(): Promise<void>;
}

/** What {@link runConformance} reports per check. */
export interface ConformanceResult {
  /** The check's name. */
  name: string;
  /** Whether it passed. */
  ok: boolean;
  /** The error message when it failed. */
  message?: string;
}

interface Results {
  y: Float32Array;
  dx: Float32Array;
  dc: Float32Array;
  dcShape: number[];
}

/** Forward and both gradients of one case through the op on the active backend. */
async function evaluate(k: SplineCase): Promise<Results> {
  const x = tf.tensor(k.x, k.xShape, 'float32');
  const c = tf.tensor2d(k.c, [k.C, k.K], 'float32');
  const dy = tf.tensor(k.dy, k.xShape, 'float32');
  const grid = {start: k.start, step: k.step};
  try {
    const y = linearSpline(x, c, grid);
    // dy as the upstream gradient, with no reduction (webgl's Sum fails on [3, 0] tensors)
    const [dx, dc] = tf.grads((a: tf.Tensor, b: tf.Tensor) => linearSpline(a, b, grid))([x, c], dy);
    const out = {y: await y.data() as Float32Array, dx: await dx.data() as Float32Array,
      dc: await dc.data() as Float32Array, dcShape: dc.shape.slice()};
    tf.dispose([y, dx, dc]);
    return out;
  } finally {
    tf.dispose([x, c, dy]);
  }
}

function fail(what: string, c: Comparison, detail: string): never {
  throw new Error(`${what}: ${detail}; class mismatches ${c.classMismatches}, zero-sign ` +
    `mismatches ${c.zeroSignMismatches}, -0 ${c.negativeZeros}, max error ${c.maxError}` +
    `${c.examples.length ? `; e.g. ${c.examples.join(', ')}` : ''}`);
}

/** Holds one part of the results to the reference: classes, zero signs, -0, error. */
function expectMatch(what: string, c: Comparison, tolerance: number, negativeZeroAllowed: boolean) {
  if (c.classMismatches > 0) fail(what, c, 'NaN/Inf where the reference differs');
  if (c.zeroSignMismatches > 0) fail(what, c, 'zeros of the wrong sign');
  if (!negativeZeroAllowed && c.negativeZeros > 0) fail(what, c, 'a -0 (never allowed here)');
  if (!(c.maxError <= tolerance)) fail(what, c, `error above ${tolerance}`);
}

/** The check of one case: reference (and the cpu kernel's bits when bit-exact). */
async function checkCase(k: SplineCase, o: ConformanceOptions, compareDc = true): Promise<void> {
  const tol = o.tolerance ?? 1e-6;
  const got = await evaluate(k);
  const y = referenceForward(k);
  const {dx, dc, dcScale} = referenceBackward(k);
  expectMatch('y', compareValues(got.y, y), tol, false);
  expectMatch('dx', compareValues(got.dx, dx), tol, true);
  if (got.dcShape.join() !== `${k.C},${k.K}`) {
    throw new Error(`dcoefficients: shape [${got.dcShape}], expected [${k.C},${k.K}]`);
  }
  if (compareDc) expectMatch('dcoefficients', compareValues(got.dc, dc, dcScale), tol, false);
  if (o.bitExact) {
    const cy = linearSplineForwardImpl(k.x, k.c, k.C, k.K, k.start, k.step);
    const g = linearSplineGradImpl(k.dy, k.x, k.c, k.C, k.K, k.start, k.step);
    for (const [part, a, b] of [['y', got.y, cy], ['dx', got.dx, g.dx], ['dcoefficients', got.dc, g.dc]] as const) {
      if (!sameBits(a, b)) {
        const i = Array.from(a).findIndex((v, j) => !Object.is(v, b[j]) && !(Number.isNaN(v) && Number.isNaN(b[j])));
        throw new Error(`${part}: not the cpu kernel's bits: [${i}] got ${show(a[i])}, cpu ${show(b[i])}`);
      }
    }
  }
}

/** A tensor from a spec: shape, dtype, values (zeros). */
function t(shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): tf.Tensor {
  return tf.zeros(shape, dtype);
}

interface ErrorCase {
  name: string;
  /** Reachable through the op (and so by the fallback too), or only by `runKernel`. */
  kernelOnly: boolean;
  call(): unknown;
  message: string;
}

/** Every validation error of the op and the kernels, with its exact message. */
function errorCases(): ErrorCase[] {
  const grid = {start: -1, step: 1};
  const x = () => t([1, 2]);
  const c = () => tf.tensor2d([[0, 1, 2], [1, 0, 1]]);
  const forward = (xx: tf.Tensor, cc: tf.Tensor, attrs: object) => ({op: () => linearSpline(xx, cc,
    attrs as {start: number, step: number}), kernel: () => tf.engine().runKernel(LinearSpline,
    {x: xx, coefficients: cc}, attrs as tf.NamedAttrMap)});
  const cases: ErrorCase[] = [];
  const both = (name: string, make: () => {op: () => unknown, kernel: () => unknown}, message: string) => {
    cases.push({name: `${name} (op)`, kernelOnly: false, call: () => make().op(), message});
    cases.push({name: `${name} (runKernel)`, kernelOnly: true, call: () => make().kernel(), message});
  };
  both('x of dtype int32', () => forward(t([1, 2], 'int32'), c(), grid),
    'linearSpline: expected x to be a float32 tensor, got dtype "int32"');
  both('coefficients of dtype int32', () => forward(x(), t([2, 3], 'int32'), grid),
    'linearSpline: expected coefficients to be a float32 tensor, got dtype "int32"');
  both('coefficients of rank 1', () => forward(x(), t([3]), grid),
    'linearSpline: expected coefficients of rank 2 ([C, K]), got shape [3]');
  both('K = 2', () => forward(x(), t([2, 2]), grid),
    'linearSpline: expected at least 3 coefficients per spline (K >= 3), got coefficients of shape [2,2]');
  both('C not matching the last axis', () => forward(x(), t([3, 5]), grid),
    'linearSpline: coefficients of shape [3,5] do not match x of shape [1,2]: expected [2, K] ' +
    '(one spline per channel of the last axis) or [1, K] (one shared spline)');
  both('start NaN', () => forward(x(), c(), {start: NaN, step: 1}),
    'linearSpline: expected start to be a finite number, got NaN');
  both('start missing', () => forward(x(), c(), {step: 1}),
    'linearSpline: expected start to be a finite number, got undefined');
  both('step 0', () => forward(x(), c(), {start: -1, step: 0}), 'linearSpline: expected step > 0, got 0');
  both('step -1', () => forward(x(), c(), {start: -1, step: -1}), 'linearSpline: expected step > 0, got -1');
  both('step Infinity', () => forward(x(), c(), {start: -1, step: Infinity}),
    'linearSpline: expected step to be a finite number, got Infinity');
  both('knots beyond float64\'s range', () => forward(x(), c(), {start: 0, step: 1e308}),
    'linearSpline: expected the last knot start + (K - 1) * step to be finite, got start 0, ' +
    'step 1e+308, K 3');
  cases.push({name: 'coefficients missing (runKernel)', kernelOnly: true,
    call: () => tf.engine().runKernel(LinearSpline, {x: x()}, grid),
    message: 'linearSpline: expected input coefficients to be a tensor, got undefined'});
  const grad = (dy: () => tf.Tensor, attrs: object = grid) => () => tf.engine().runKernel(
    LinearSplineGrad, {dy: dy(), x: x(), coefficients: c()}, attrs as tf.NamedAttrMap);
  cases.push({name: 'gradient: dy of another shape', kernelOnly: true, call: grad(() => t([2, 2])),
    message: 'linearSpline gradient: expected dy of shape [1,2], got [2,2]'});
  for (const dtype of ['int32', 'bool'] as const) {
    cases.push({name: `gradient: dy of dtype ${dtype}`, kernelOnly: true, call: grad(() => t([1, 2], dtype)),
      message: `linearSpline gradient: expected dy to be a float32 tensor, got dtype "${dtype}"`});
  }
  cases.push({name: 'gradient: step 0', kernelOnly: true, call: grad(() => t([1, 2]), {start: 0, step: 0}),
    message: 'linearSpline gradient: expected step > 0, got 0'});
  cases.push({name: 'gradient: dy missing', kernelOnly: true,
    call: () => tf.engine().runKernel(LinearSplineGrad, {x: x(), coefficients: c()}, grid),
    message: 'linearSpline gradient: expected input dy to be a tensor, got undefined'});
  return cases;
}

/** Kernels that only the composite fallback runs. */
const FALLBACK_KERNELS = ['GatherV2', 'Floor', 'UnsortedSegmentSum', 'ClipByValue'];

/** The kernels one call of the op and of its gradient runs. */
async function kernelsRun(): Promise<string[]> {
  const x = tf.tensor2d([[-1.5, 0.25, 3]]);
  const c = tf.tensor2d([[0, 1, 0.5, 2, 1], [1, 0, 1, 0, 1], [2, 1, 0, 1, 2]]);
  const grid = {start: -1, step: 0.5};
  const info = await tf.profile(() => {
    const y = linearSpline(x, c, grid);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => linearSpline(a, b, grid))([x, c]);
    return [y, ...g];
  });
  tf.dispose(info.result as tf.Tensor[]);
  tf.dispose([x, c]);
  return info.kernelNames;
}

/** The checks for `o`, in a stable order (their names are the same on every run). */
export function conformanceChecks(o: ConformanceOptions): ConformanceCheck[] {
  const checks: ConformanceCheck[] = [];
  const add = (name: string, run: () => Promise<void>) => checks.push({name, run});
  add(`the op runs the ${o.implementation === 'kernel' ? 'fused kernels' : 'composite fallback'}`, async () => {
    const names = await kernelsRun();
    const fused = names.includes(LinearSpline) && names.includes(LinearSplineGrad);
    const composite = FALLBACK_KERNELS.some((n) => names.includes(n));
    if (o.implementation === 'kernel' ? !fused || composite : names.includes(LinearSpline) || !composite) {
      throw new Error(`kernels run: ${names.join(', ')}`);
    }
  });
  for (const [i, k] of randomCases(2024, 28).entries()) {
    add(`random case ${i}: ${k.name}`, () => checkCase(k, o));
  }
  if (o.bitExact) {
    for (const k of knotCases()) add(`at and next to every knot: ${k.name}`, () => checkCase(k, o));
    for (const k of loopPathCases()) add(`loop paths: ${k.name}`, () => checkCase(k, o));
  }
  for (const k of specialValueCases(false)) add(k.name!, () => checkCase(k, o));
  const hugeDc = o.dcWithHugeValues ?? o.bitExact;
  for (const k of specialValueCases(true)) {
    add(`${k.name}${hugeDc ? '' : ' (y and dx; dcoefficients overflow in float32)'}`,
      () => checkCase(k, o, hugeDc));
  }
  for (const k of specialFixtureCases()) add(`special case: ${k.name}`, () => checkCase(k, o));
  for (const k of emptyCases()) add(`empty or scalar: ${k.name}`, () => checkCase(k, o));

  for (const e of errorCases()) {
    if (e.kernelOnly && o.implementation !== 'kernel') continue;
    add(`clear error: ${e.name}`, async () => {
      const before = tf.memory().numTensors;
      let message: string | null = null;
      tf.tidy(() => {
        try { e.call(); } catch (err) { message = (err as Error).message; }
      });
      if (message !== e.message) {
        throw new Error(`expected the error ${JSON.stringify(e.message)}, got ${message === null ?
          'no error' : JSON.stringify(message)}`);
      }
      if (tf.memory().numTensors !== before) {
        throw new Error(`tensors leaked: ${tf.memory().numTensors - before}`);
      }
    });
  }

  add('no leaks: tensors, and backend memory blocks (scratch included)', async () => {
    const x = tf.tensor2d(Float32Array.from({length: 96}, (_v, i) => Math.sin(i) * 3), [12, 8]);
    const c = tf.tensor2d(Float32Array.from({length: 56}, (_v, i) => Math.cos(i)), [8, 7]);
    const grid = {start: -1.5, step: 0.5};
    const f = (a: tf.Tensor, b: tf.Tensor) => tf.sum(linearSpline(a, b, grid));
    const once = async () => {
      const y = linearSpline(x, c, grid);
      await y.data();
      const g = tf.grads(f)([x, c]);
      await Promise.all(g.map((v) => v.data()));
      const v = tf.variable(c);
      const {value, grads} = tf.variableGrads(() => f(x, v) as tf.Scalar, [v]);
      const gx = tf.grad((a: tf.Tensor) => f(a, c))(x);
      tf.dispose([y, ...g, value, v, ...Object.values(grads), gx]);
    };
    await once();  // warm-up: programs compiled, kernels instantiated
    const tensors = tf.memory().numTensors;
    const blocks = o.liveAllocations?.() ?? 0;
    for (let i = 0; i < 3; ++i) await once();
    const after = {tensors: tf.memory().numTensors, blocks: o.liveAllocations?.() ?? 0};
    tf.dispose([x, c]);
    if (after.tensors !== tensors || after.blocks !== blocks) {
      throw new Error(`leaked ${after.tensors - tensors} tensors and ${after.blocks - blocks} ` +
        'memory blocks over 3 calls');
    }
  });
  return checks;
}

/** Runs `check` with the options' implementation forced and its hook, on the right backend. */
export async function runConformanceCheck(o: ConformanceOptions, check: ConformanceCheck): Promise<void> {
  if (tf.getBackend() !== o.backend) {
    throw new Error(`expected the ${o.backend} backend to be active, got ${tf.getBackend()}`);
  }
  await o.beforeEachCheck?.();
  setSplineImplementation(o.implementation);
  try {
    if (splineImplementation() !== o.implementation) {
      throw new Error(`the op uses ${splineImplementation()}, expected ${o.implementation}`);
    }
    await check.run();
  } finally {
    setSplineImplementation(null);
  }
}

/** Runs the checks named `names` (default: all) and reports each; for browser pages. */
export async function runConformance(o: ConformanceOptions, names?: string[]): Promise<ConformanceResult[]> {
  const checks = conformanceChecks(o).filter((c) => names === undefined || names.includes(c.name));
  const results: ConformanceResult[] = [];
  for (const check of checks) {
    try {
      await runConformanceCheck(o, check);
      results.push({name: check.name, ok: true});
    } catch (e) {
      results.push({name: check.name, ok: false, message: (e as Error).message});
    }
  }
  return results;
}
