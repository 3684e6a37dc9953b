/**
 * An opt-in speed fix for tfjs-backend-wasm's matrix products: its `BatchMatMul` and
 * `_FusedMatMul` kernels (4.22) are about 10x slower with `transposeA` or `transposeB` than
 * without, and every dense layer's gradient uses transposed products. The fix replaces both
 * tfjs kernels for the `wasm` backend by wrappers that transpose such operands with the
 * backend's own `Transpose` kernel first and then call tfjs's kernel untransposed.
 */
import {getKernel, registerKernel, unregisterKernel} from '@tensorflow/tfjs-core';
import type {KernelConfig, KernelFunc, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

const WRAPPED = ['BatchMatMul', '_FusedMatMul'] as const;

/** tfjs's kernels this package replaced, by name (empty when tfjs's own are registered). */
const originals = new Map<string, KernelConfig>();
/** Our wrappers, to recognise them in the registry. */
const wrappers = new Set<KernelFunc>();

interface Backend { disposeData(dataId: object): unknown }

/** `x` with its last two axes swapped by the backend's Transpose kernel (a new tensor). */
function transposeLast2(x: TensorInfo, backend: unknown, transpose: KernelConfig): TensorInfo {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1]!, perm[n - 2]!];
  return transpose.kernelFunc({inputs: {x}, backend: backend as never, attrs: {perm}}) as TensorInfo;
}

function wrap(original: KernelConfig): KernelFunc {
  const kernelFunc: KernelFunc = ({inputs, backend, attrs}) => {
    const a = attrs as NamedAttrMap & {transposeA?: boolean, transposeB?: boolean};
    const transpose = getKernel('Transpose', 'wasm');
    const {a: x, b: y} = inputs as {a?: TensorInfo, b?: TensorInfo};
    if (transpose == null || x == null || y == null || x.shape.length < 2 || y.shape.length < 2 ||
        (a.transposeA !== true && a.transposeB !== true)) {
      return original.kernelFunc({inputs, backend, attrs});
    }
    const temporaries: TensorInfo[] = [];
    try {
      const plain = (t: TensorInfo, transposed: boolean | undefined) => {
        if (transposed !== true) return t;
        const result = transposeLast2(t, backend, transpose);
        temporaries.push(result);
        return result;
      };
      return original.kernelFunc({
        inputs: {...inputs, a: plain(x, a.transposeA), b: plain(y, a.transposeB)},
        backend, attrs: {...attrs, transposeA: false, transposeB: false},
      });
    } finally {
      for (const t of temporaries) (backend as unknown as Backend).disposeData(t.dataId);
    }
  };
  wrappers.add(kernelFunc);
  return kernelFunc;
}

/**
 * Replaces tfjs-backend-wasm's `BatchMatMul` and `_FusedMatMul` kernels (registered under the
 * `wasm` backend by `@tensorflow/tfjs-backend-wasm`) with wrappers that, for a product with
 * `transposeA` or `transposeB`, transpose that operand with the backend's `Transpose` kernel
 * and then run tfjs's own kernel untransposed. In tfjs-backend-wasm 4.22 the transposed
 * products are about 10x slower than the plain ones, and every `tf.matMul` gradient (so every
 * dense layer's training step) uses them: with the fix, dense training on wasm is several times
 * faster (see the package README's benchmark). Results are the same up to float32 summation
 * order (the same kernel multiplies; only the memory layout of the operand differs). Products
 * without a transpose go straight to tfjs's kernel; the transposed copy is freed at once.
 * (tfjs-backend-wasm 4.22's own `_FusedMatMul` is wrong for some transposed products, e.g.
 * `[53, 37]^T x [53, 29]`; through the wrapper they are right.)
 *
 * **This replaces kernels of tfjs in the global kernel registry**, for every user of the wasm
 * backend in this JavaScript realm; it is not done on import. {@link restoreTfjsMatMul} puts
 * tfjs's kernels back. Call it after importing `@tensorflow/tfjs-backend-wasm`, before or after
 * `tf.setBackend('wasm')`.
 *
 * Safe to call in any case: it is idempotent (a second call changes nothing); where the `wasm`
 * backend's kernels are not registered (tfjs-backend-wasm not imported) it does nothing and
 * returns `false`; on a build whose transposed products are already fast the wrapper only adds
 * one transposed copy of an operand (O(mk) memory traffic against the product's O(mnk)
 * arithmetic). A kernel someone else registered over it later is left alone by
 * {@link restoreTfjsMatMul}.
 *
 * @returns whether the transposing kernels are registered now.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@tensorflow/tfjs-backend-wasm';
 * import {registerTransposingMatMul, restoreTfjsMatMul} from '@deepspline/wasm';
 * registerTransposingMatMul();   // opt in: replaces tfjs's BatchMatMul and _FusedMatMul on wasm
 * await tf.setBackend('wasm');
 * // ... train ...
 * restoreTfjsMatMul();           // tfjs's kernels again
 * ```
 */
export function registerTransposingMatMul(): boolean {
  if (getKernel('Transpose', 'wasm') == null) return false;
  let any = false;
  for (const name of WRAPPED) {
    const current = getKernel(name, 'wasm');
    if (current == null) continue;
    any = true;
    if (wrappers.has(current.kernelFunc)) continue;
    unregisterKernel(name, 'wasm');
    // setupFunc and disposeFunc stay tfjs's: the backend still initializes the original
    registerKernel({...current, kernelFunc: wrap(current)});
    originals.set(name, current);
  }
  return any;
}

/**
 * Undoes {@link registerTransposingMatMul}: registers tfjs's own `BatchMatMul` and
 * `_FusedMatMul` kernels for `wasm` again where our wrappers are registered. Idempotent; a kernel
 * registered over ours by someone else since is kept.
 *
 * @returns whether tfjs's kernels are registered now (`true` also when nothing was replaced).
 */
export function restoreTfjsMatMul(): boolean {
  let restored = true;
  for (const name of WRAPPED) {
    const original = originals.get(name);
    if (original == null) continue;
    const current = getKernel(name, 'wasm');
    if (current != null && !wrappers.has(current.kernelFunc)) {
      restored = false;
      continue;
    }
    if (current != null) unregisterKernel(name, 'wasm');
    registerKernel(original);
    originals.delete(name);
  }
  return restored;
}

/** Whether {@link registerTransposingMatMul}'s kernel is the registered wasm `BatchMatMul`. */
export function transposingMatMulRegistered(): boolean {
  const current = getKernel('BatchMatMul', 'wasm');
  return current != null && wrappers.has(current.kernelFunc);
}
