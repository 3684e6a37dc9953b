/** Shared helpers of the @deepspline/wasm tests. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
export {rng} from '../../core/test/reference';

/** Makes `wasm` the active backend (its .wasm binary loads from node_modules, offline). */
export async function useWasm(): Promise<void> {
  const ok = await tf.setBackend('wasm');
  if (!ok || tf.getBackend() !== 'wasm') throw new Error('could not initialize the wasm backend');
}

/** Max over i of |a - b| / max(|b|, floor): the relative error, NaN/±Inf required to match. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number,
    what: string, floor: ArrayLike<number> | number = 1e-30): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; ++i) {
    const a = actual[i];
    const e = expected[i];
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) {
        throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
      }
      continue;
    }
    const f = typeof floor === 'number' ? floor : floor[i];
    const tol = rel * Math.max(Math.abs(e), f);
    if (!(Math.abs(a - e) <= tol)) {
      throw new Error(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e)} > ${tol})`);
    }
  }
}

/** Whether two float32 arrays are bitwise equal (any NaN equals any NaN). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; ++i) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  }
  return true;
}
