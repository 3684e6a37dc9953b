/**
 * The shared-memory builds (for the multi-threaded wasm backend of cross-origin-isolated
 * pages, whose heap is a shared WebAssembly.Memory created in JS as `Module.wasmMemory`).
 * Node's wasm backend is single-threaded, so the binaries are run directly on a shared
 * memory here, and the memory lookup is checked on a backend-shaped object.
 */
import {linearSplineForwardImpl, linearSplineGradImpl} from '@deepspline/core/internal';
import {backendMemory} from '@deepspline/wasm/internal';
import {instanceOn, isSharedMemory} from '@deepspline/wasm/internal';
import type {WasmBinary} from '@deepspline/wasm';
import {expectClose, rng, sameBits} from '@deepspline/testing';

const memory = new WebAssembly.Memory({initial: 4, maximum: 32768, shared: true} as WebAssembly.MemoryDescriptor);

test('a threaded-style backend exposes its shared memory as wasmMemory', () => {
  expect(isSharedMemory(memory)).toBe(true);
  const backend = {wasm: {wasmMemory: memory, HEAPU8: new Uint8Array(memory.buffer),
    _malloc: () => 0, _free: () => undefined}};
  expect(backendMemory(backend)).toBe(memory);
  // A memory that is not the one behind HEAPU8 is refused.
  const other = {wasm: {wasmMemory: new WebAssembly.Memory({initial: 1}), HEAPU8: new Uint8Array(memory.buffer),
    _malloc: () => 0, _free: () => undefined}};
  expect(backendMemory(other)).toBeNull();
  expect(backendMemory({wasm: {}})).toBeNull();
  expect(backendMemory(null)).toBeNull();
});

test.each(['simd', 'scalar'] as WasmBinary[])('the %s shared build computes the cpu kernel\'s results', (binary) => {
  const k = instanceOn(memory, binary);
  const r = rng(5);
  const rows = 50;
  const C = 7;
  const K = 13;
  const n = rows * C;
  const start = -1.2;
  const step = 0.2;
  const x = Float32Array.from({length: n}, () => r() * 4 - 2);
  x[3] = NaN; x[10] = Infinity; x[11] = -Infinity;
  const c = Float32Array.from({length: C * K}, () => r() * 2 - 1);
  const dy = Float32Array.from({length: n}, () => r() * 2 - 1);
  // Layout in the shared heap (bytes): x | c | dy | y | dx | dc | forward table | backward table.
  const offs: number[] = [];
  let at = 1024;
  for (const bytes of [n * 4, C * K * 4, n * 4, n * 4, n * 4, C * K * 4, k.tableSize(C, K),
    k.gradTableSize(C, K)]) {
    offs.push(at);
    at += Math.ceil(bytes / 16) * 16;
  }
  const [xo, co, dyo, yo, dxo, dco, tab, gtab] = offs;
  const f32 = (o: number, len: number) => new Float32Array(memory.buffer, o, len);
  f32(xo, n).set(x); f32(co, C * K).set(c); f32(dyo, n).set(dy);
  k.prepare(co, tab, C, K, start, step);
  k.forward(xo, tab, yo, n, C, C, K, start, step);
  k.prepareGrad(co, gtab, C, K, start, step);
  k.backward(dyo, xo, gtab, dxo, n, C, C, K, start, step);
  k.finishGrad(gtab, dco, C, K);
  const y = linearSplineForwardImpl(x, c, C, K, start, step);
  const g = linearSplineGradImpl(dy, x, c, C, K, start, step);
  expectClose(f32(yo, n), y, 1e-6, 'y');
  expect(sameBits(f32(yo, n).slice(), y)).toBe(true);
  expect(sameBits(f32(dxo, n).slice(), g.dx)).toBe(true);
  expect(sameBits(f32(dco, C * K).slice(), g.dc)).toBe(true);
});
