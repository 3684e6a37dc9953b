/**
 * Where the backend's WebAssembly.Memory cannot be reached (simulated: the wasm backend's
 * factory is wrapped so the emscripten module no longer exposes its memory), the kernels
 * unregister themselves, warn exactly once, and `linearSpline` keeps working through the
 * fallback with the cpu kernel's results.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import {LinearSpline, linearSpline, splineImplementation} from '@deepspline/core';
import {linearSplineForwardImpl} from '@deepspline/core/internal';
import {expectClose, rng} from '@deepspline/testing';

const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);

type Factory = () => Promise<tf.KernelBackend>;
const registry = (tf.engine() as unknown as {registryFactory: Record<string, {factory: Factory, priority: number}>})
  .registryFactory;
const original = registry['wasm'];
tf.removeBackend('wasm');
tf.registerBackend('wasm', async () => {
  const backend = await original.factory() as unknown as {wasm: {asm: Record<string, unknown>}};
  const exports = {...backend.wasm.asm};
  delete exports['memory'];
  backend.wasm.asm = exports;  // emscripten keeps its own reference; only the property is gone
  return backend as unknown as tf.KernelBackend;
}, original.priority);

const ours = (): string[] => warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes('@deepspline/wasm'));

test('imported before setBackend: fallback, one warning, correct results, no leaks', async () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wasmPkg = require('@deepspline/wasm') as typeof import('@deepspline/wasm');
  expect(tf.getKernel(LinearSpline, 'wasm')).toBeDefined();
  expect(await tf.setBackend('wasm')).toBe(true);
  expect(ours()).toHaveLength(1);
  expect(ours()[0]).toMatch(/WebAssembly.Memory .* cannot be reached; linearSpline uses the composite fallback/);
  expect(tf.getKernel(LinearSpline, 'wasm')).toBeUndefined();
  expect(splineImplementation()).toBe('fallback');
  expect(wasmPkg.wasmKernelInfo().registered).toBe(false);
  await wasmPkg.ready();

  const r = rng(3);
  const xv = Float32Array.from({length: 40 * 6}, () => r() * 6 - 3);
  const cv = Float32Array.from({length: 6 * 7}, () => r() * 2 - 1);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; ++i) {
    const y = tf.tidy(() => linearSpline(tf.tensor2d(xv, [40, 6]), tf.tensor2d(cv, [6, 7]),
      {start: -1.5, step: 0.5}).dataSync());
    expectClose(y as Float32Array, linearSplineForwardImpl(xv, cv, 6, 7, -1.5, 0.5), 1e-5, 'y', 1e-3);
  }
  await tf.setBackend('cpu');
  await tf.setBackend('wasm');
  tf.tidy(() => { linearSpline(tf.tensor2d(xv, [40, 6]), tf.tensor2d(cv, [6, 7]), {start: -1.5, step: 0.5}); });
  expect(tf.memory().numTensors).toBe(before);
  expect(ours()).toHaveLength(1);  // warned once only
});
