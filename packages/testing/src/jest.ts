/**
 * The conformance suite as jest tests: one `test` per check, run in this process or, with
 * `remote`, in a browser page (the page runs {@link runConformance} and reports).
 */
import {conformanceChecks, runConformanceCheck} from './conformance.js';
import type {ConformanceOptions, ConformanceResult} from './conformance.js';

/** Options of {@link describeSplineKernel}. */
export interface DescribeSplineKernelOptions extends ConformanceOptions {
  /** Runs once before the checks (e.g. `tf.setBackend('wasm')`). */
  setup?: () => Promise<void>;
  /**
   * Runs the named check elsewhere (a browser page) and returns its result; without it the
   * checks run in this process.
   */
  remote?: (name: string) => Promise<ConformanceResult>;
}

/**
 * Declares the conformance suite for one implementation:
 * `describeSplineKernel({backend: 'wasm', implementation: 'kernel', bitExact: true})`.
 */
export function describeSplineKernel(o: DescribeSplineKernelOptions): void {
  const title = `LinearSpline conformance: ${o.implementation} on ${o.backend}` +
    `${o.label ? ` (${o.label})` : ''}`;
  describe(title, () => {
    if (o.setup !== undefined) beforeAll(o.setup);
    for (const check of conformanceChecks(o)) {
      test(check.name, async () => {
        if (o.remote === undefined) {
          await runConformanceCheck(o, check);
          return;
        }
        const r = await o.remote(check.name);
        if (!r.ok) throw new Error(r.message);
      });
    }
  });
}
