/** Thin access to the tfjs engine, typed for our kernels. */
import * as tf from '@tensorflow/tfjs-core';
import type {NamedAttrMap, NamedTensorMap, Tensor} from '@tensorflow/tfjs-core';

export const registerGradient = tf.registerGradient;

/** Runs a registered kernel through the engine (recorded on the tape, tracked by tidy). */
export function ENGINE_RUN(kernelName: string, inputs: NamedTensorMap, attrs: NamedAttrMap):
    Tensor | Tensor[] {
  return tf.engine().runKernel(kernelName, inputs, attrs);
}

/** Whether `backendName` has a kernel registered under `kernelName`. */
export function hasKernel(kernelName: string, backendName: string): boolean {
  return tf.getKernel(kernelName, backendName) != null;
}
