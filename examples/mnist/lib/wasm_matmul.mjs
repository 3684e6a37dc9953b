/**
 * A speed workaround for tfjs-backend-wasm 4.22: its BatchMatMul kernel is about 10x slower
 * with `transposeA` or `transposeB` than without (measured here: a [256, 784]^T x [256, 256]
 * product 38 ms transposed, 3.4 ms after an explicit transpose). Every dense layer's gradient
 * and the Björck iterations of spectralDense use transposed products, so this wraps the wasm
 * kernel: transposed operands are transposed by the Transpose kernel first, then multiplied
 * plainly. Same results up to float32 summation order.
 */
import * as tf from '@tensorflow/tfjs-core';

const NAME = 'BatchMatMul';

/**
 * Re-registers the wasm BatchMatMul kernel with explicit transposes. Call after importing
 * `@tensorflow/tfjs-backend-wasm` (which registers the original); idempotent.
 */
export function registerTransposingMatMul() {
  const original = tf.getKernel(NAME, 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (original == null || transpose == null) {
    throw new Error(`registerTransposingMatMul: the wasm backend has no ${original == null ? NAME : 'Transpose'} ` +
      `kernel; import @tensorflow/tfjs-backend-wasm first`);
  }
  if (original.transposing) return;
  const kernelFunc = ({inputs, backend, attrs}) => {
    const temporaries = [];
    const plain = (x, transposed) => {
      if (!transposed) return x;
      const perm = x.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      const t = transpose.kernelFunc({inputs: {x}, backend, attrs: {perm}});
      temporaries.push(t);
      return t;
    };
    try {
      return original.kernelFunc({
        inputs: {a: plain(inputs.a, attrs.transposeA), b: plain(inputs.b, attrs.transposeB)},
        backend, attrs: {...attrs, transposeA: false, transposeB: false},
      });
    } finally {
      for (const t of temporaries) backend.disposeData(t.dataId);
    }
  };
  tf.unregisterKernel(NAME, 'wasm');
  tf.registerKernel({...original, kernelFunc, transposing: true});
}
