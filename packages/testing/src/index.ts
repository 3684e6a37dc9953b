/**
 * `@deepspline/testing` (private, not published): what every test suite of the repository
 * shares, so that no test imports another package's `test/` folder:
 * - the float64 reference of the spline op (the Semantics section of `packages/core/README.md`);
 * - one seeded PRNG; case generators (shapes, special values, knots, empty tensors);
 * - comparisons that report classes, signs of zeros, bits and errors;
 * - model helpers (random weights, save/load round trip);
 * - an oracle for norms from ml-matrix (never a copy of our own solvers);
 * - the kernel conformance suite, {@link describeSplineKernel} / {@link runConformance}.
 *
 * @packageDocumentation
 */
export * from './prng.js';
export * from './reference.js';
export * from './cases.js';
export * from './compare.js';
export * from './oracle.js';
export * from './models.js';
export * from './conformance.js';
export * from './float32_gpu.js';
export * from './jest.js';
