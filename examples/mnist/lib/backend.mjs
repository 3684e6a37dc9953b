/** The wasm backend with the @deepspline/wasm spline kernels, as twod's `--backend wasm`. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

/**
 * Selects the wasm backend; registers the @deepspline/wasm kernels when available (else the
 * composite fallback runs) and opts in to the package's transposing matMul (tfjs-backend-wasm
 * 4.22's transposed products are ~10x slower). Returns a description of the kernels.
 */
export async function setupWasm() {
  let kernels;
  try {
    const wasm = await import('@deepspline/wasm');
    wasm.registerTransposingMatMul();
    if (typeof wasm.ready === 'function') await wasm.ready();
    kernels = '@deepspline/wasm kernels';
  } catch (e) {
    kernels = `composite fallback (@deepspline/wasm not available: ${String(e?.message ?? e).split('\n')[0]})`;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('could not initialize the wasm backend');
  await tf.ready();
  return kernels;
}
