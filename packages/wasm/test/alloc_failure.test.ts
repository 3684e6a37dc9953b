/**
 * Allocation failures inside the kernels (simulated: the backend's `_malloc` returns 0,
 * throws, or returns a block that ends past the heap, as 32-bit allocator arithmetic can near
 * a 4 GiB heap, for one request): the kernels throw the package's clear allocation error, and
 * leave no tensor, no backend data and no heap block behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import {LinearSpline, LinearSplineGrad} from '@deepspline/core';
import '@deepspline/wasm';
import {useWasm} from './helpers';

beforeAll(useWasm);

interface Module {
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}
interface Backend {
  wasm: Module;
  numDataIds(): number;
}

// x [4, 2] (32 bytes), coefficients [2, 5] (40 bytes): every request of a kernel call has its
// own size. Forward table 112 + 2 * 4 * 16 = 240 bytes, backward table 112 + 2 * 4 * 32 = 368.
const SIZES = {output: 32, forwardTable: 240, backwardTable: 368, dc: 40};

type Failure = 'returns 0' | 'throws' | 'ends past the heap';

/**
 * Runs `call` with `_malloc` failing (returning 0, throwing a RuntimeError, or returning a
 * block whose last 8 bytes lie inside the heap and the rest past it) for requests of `bytes`;
 * returns the error and what is left allocated (blocks malloc'ed and not freed during the
 * call, backend data ids, tensors).
 */
function failing(bytes: number, how: Failure, call: () => unknown) {
  const backend = tf.backend() as unknown as Backend & {wasm: {HEAPU8: Uint8Array}};
  const {_malloc, _free} = backend.wasm;
  const live = new Set<number>();
  const pastTheHeap = backend.wasm.HEAPU8.buffer.byteLength - 8;
  backend.wasm._malloc = (n: number) => {
    if (n === bytes) {
      if (how === 'throws') throw new WebAssembly.RuntimeError('memory access out of bounds');
      if (how === 'ends past the heap') {
        live.add(pastTheHeap);
        return pastTheHeap;
      }
      return 0;
    }
    const p = _malloc(n);
    live.add(p >>> 0);
    return p;
  };
  backend.wasm._free = (p: number) => {
    live.delete(p >>> 0);
    if (p >>> 0 !== pastTheHeap) _free(p);  // not a real block: the allocator must not see it
  };
  const tensors = tf.memory().numTensors;
  const ids = backend.numDataIds();
  let error: unknown = null;
  try {
    call();
  } catch (e) {
    error = e;
  } finally {
    backend.wasm._malloc = _malloc;
    backend.wasm._free = _free;
  }
  return {error: String(error), blocks: live.size, tensors: tf.memory().numTensors - tensors,
    dataIds: backend.numDataIds() - ids};
}

const x = () => tf.tensor2d([[-1, 0], [0.5, 1], [2, -2], [0.25, 3]]);
const c = () => tf.tensor2d([[0, 1, 0, 1, 0], [1, 2, 3, 2, 1]]);
const grid = {start: -1, step: 0.5};

describe.each(['returns 0', 'throws', 'ends past the heap'] as Failure[])('_malloc %s', (how) => {
  const clean = {blocks: 0, tensors: 0, dataIds: 0};

  test('forward: scratch table', () => {
    const [xt, ct] = [x(), c()];
    const r = failing(SIZES.forwardTable, how, () =>
      tf.engine().runKernel(LinearSpline, {x: xt, coefficients: ct}, grid));
    expect(r).toEqual({error: expect.stringMatching(
      /^Error: @deepspline\/wasm: the wasm backend could not allocate 240 bytes of scratch space/), ...clean});
    tf.dispose([xt, ct]);
  });

  test('forward: output', () => {
    const [xt, ct] = [x(), c()];
    const r = failing(SIZES.output, how, () =>
      tf.engine().runKernel(LinearSpline, {x: xt, coefficients: ct}, grid));
    expect(r).toEqual({error: expect.stringMatching(
      /^Error: @deepspline\/wasm: the wasm backend could not allocate 32 bytes for an output of shape \[4,2\]/),
    ...clean});
    tf.dispose([xt, ct]);
  });

  test.each([['scratch table', SIZES.backwardTable, /368 bytes of scratch space/],
    ['dx', SIZES.output, /32 bytes for an output of shape \[4,2\]/],
    ['dcoefficients', SIZES.dc, /40 bytes for an output of shape \[2,5\]/]])('backward: %s',
      (_what, bytes, message) => {
    const [xt, ct] = [x(), c()];
    const dy = tf.onesLike(xt);
    const r = failing(bytes as number, how, () =>
      tf.engine().runKernel(LinearSplineGrad, {dy, x: xt, coefficients: ct}, grid));
    expect(r).toEqual({error: expect.stringMatching(message as RegExp), ...clean});
    tf.dispose([xt, ct, dy]);
  });
});

test('after the failures the kernels still compute the spline', () => {
  const y = tf.tidy(() => Array.from((tf.engine().runKernel(LinearSpline, {x: x(), coefficients: c()},
    grid) as tf.Tensor).dataSync()));
  // channel 0 (row 0) at -1, 0.5, 2, 0.25; channel 1 (row 1) at 0, 1, -2, 3 (knots -1 .. 1)
  expect(y).toEqual([0, 3, 1, 1, -2, -1, 0.5, -3]);
});
