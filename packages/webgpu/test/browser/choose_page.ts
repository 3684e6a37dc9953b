// Page script of the backend-choice test (webgpu.test.ts): the Backends guide's snippet that
// picks webgpu where the browser offers it and webgl otherwise.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import '@deepspline/webgl';
import '@deepspline/webgpu';
import {splineImplementation} from '@deepspline/core';

(window as unknown as {choose: () => Promise<unknown>}).choose = async () => {
  // as in docs/guides/backends-and-performance.md: no factory without navigator.gpu (an
  // insecure page), setBackend false without an adapter
  const webgpu = tf.findBackendFactory('webgpu') != null && await tf.setBackend('webgpu');
  if (!webgpu) await tf.setBackend('webgl');
  return {hasFactory: tf.findBackendFactory('webgpu') != null, backend: tf.getBackend(),
    implementation: splineImplementation()};
};
