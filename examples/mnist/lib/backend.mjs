/** The wasm backend with the @deepspline/wasm spline kernels, as twod's `--backend wasm`. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import {registerTransposingMatMul} from './wasm_matmul.mjs';

/**
 * Selects the wasm backend; registers the @deepspline/wasm kernels when available (else the
 * composite fallback runs) and the transposing matMul. Returns a description of the kernels.
 */
export async function setupWasm() {
  registerTransposingMatMul();
  let kernels;
  try {
    const wasm = await import('@deepspline/wasm');
    if (typeof wasm.ready === 'function') await wasm.ready();
    kernels = '@deepspline/wasm kernels';
  } catch (e) {
    kernels = `composite fallback (@deepspline/wasm not available: ${String(e?.message ?? e).split('\n')[0]})`;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('could not initialize the wasm backend');
  await tf.ready();
  return kernels;
}
