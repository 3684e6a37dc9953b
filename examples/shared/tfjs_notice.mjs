// tfjs's cpu backend prints a notice in Node the first time it stores a tensor ("Hi, looks like
// you are running TensorFlow.js in Node.js. To speed things up dramatically, install our node
// backend ..."): with no tensor made yet, it lands in the middle of an example's output. The
// examples make that first tensor before they print anything, and say once what it means here.
import * as tf from '@tensorflow/tfjs-core';

/** What follows tfjs's notice. */
export const NOTICE_EXPLAINED = "(tfjs's notice above: @tensorflow/tfjs-node, a native TensorFlow build, is " +
  "optional; these examples run on tfjs's JavaScript and WebAssembly backends, with @deepspline's kernels for them.)";

/**
 * On the cpu backend in Node, stores one tensor now so that tfjs's notice comes first (on
 * stderr), then prints {@link NOTICE_EXPLAINED}. Elsewhere (wasm, a browser) does nothing:
 * there is no notice.
 */
export function tfjsNoticeFirst() {
  if (tf.getBackend() !== 'cpu' || !tf.env().getBool('IS_NODE')) return;
  tf.dispose(tf.scalar(0));
  console.warn(`${NOTICE_EXPLAINED}\n`);
}
