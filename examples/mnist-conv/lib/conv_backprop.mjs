/**
 * A faster `Conv2DBackpropFilter` for tfjs-backend-cpu 4.22, whose own kernel is two orders of
 * magnitude slower than its forward convolution (measured here on a 2-core machine under load,
 * batch 128: the filter gradient of a 3x3 16 -> 32 convolution on 7x7 took 42 s, the forward
 * convolution 0.3 s), which made training even this small net take hours.
 *
 * The gradient as im2col and one product: the input's patches `P` (`[positions, kh kw cin]`,
 * copied in JavaScript from the cpu backend's arrays) and `dK = P^T dy` (the backend's
 * BatchMatMul). Only NHWC float32 without dilation (what Conv2DBackpropFilter receives from
 * tfjs's conv2d gradient); anything else goes to tfjs's kernel. Opt-in, this example only.
 */
import {backend_util, getKernel, registerKernel, unregisterKernel} from '@tensorflow/tfjs-core';

const NAME = 'Conv2DBackpropFilter';

/** Replaces the cpu backend's Conv2DBackpropFilter (once); returns false if it is not there. */
export function registerFastFilterGradient() {
  const original = getKernel(NAME, 'cpu');
  if (original == null) return false;
  if (original.kernelFunc.fast === true) return true;
  const matMul = getKernel('BatchMatMul', 'cpu');
  const reshape = getKernel('Reshape', 'cpu');
  const kernelFunc = ({inputs, backend, attrs}) => {
    const {x, dy} = inputs;
    const {strides, pad, dataFormat, dimRoundingMode, filterShape} = attrs;
    if (dataFormat !== 'NHWC' || x.dtype !== 'float32' || backend.data?.get == null) {
      return original.kernelFunc({inputs, backend, attrs});
    }
    const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
    const {batchSize, inHeight, inWidth, inChannels: cin, outHeight, outWidth, outChannels: cout,
      filterHeight: kh, filterWidth: kw, strideHeight, strideWidth, padInfo} = info;
    const k = kh * kw * cin;
    const positions = batchSize * outHeight * outWidth;
    const xv = backend.data.get(x.dataId).values;
    const patches = new Float32Array(positions * k);  // row (b, r, s), column (i kw + j) cin + c
    for (let b = 0, row = 0; b < batchSize; ++b) {
      for (let r = 0; r < outHeight; ++r) {
        for (let s = 0; s < outWidth; ++s, ++row) {
          for (let i = 0; i < kh; ++i) {
            const y = r * strideHeight - padInfo.top + i;
            if (y < 0 || y >= inHeight) continue;
            for (let j = 0; j < kw; ++j) {
              const xx = s * strideWidth - padInfo.left + j;
              if (xx < 0 || xx >= inWidth) continue;
              const from = ((b * inHeight + y) * inWidth + xx) * cin;
              patches.set(xv.subarray(from, from + cin), row * k + (i * kw + j) * cin);
            }
          }
        }
      }
    }
    const temporaries = [];
    const keep = (t) => { temporaries.push(t); return t; };
    try {
      const p = keep(backend.makeTensorInfo([1, positions, k], 'float32', patches));
      const g = keep(reshape.kernelFunc({inputs: {x: dy}, backend, attrs: {shape: [1, positions, cout]}}));
      const product = keep(matMul.kernelFunc({inputs: {a: p, b: g}, backend, attrs: {transposeA: true, transposeB: false}}));
      return reshape.kernelFunc({inputs: {x: product}, backend, attrs: {shape: [kh, kw, cin, cout]}});
    } finally {
      for (const t of temporaries) backend.disposeIntermediateTensorInfo(t);
    }
  };
  kernelFunc.fast = true;
  unregisterKernel(NAME, 'cpu');
  registerKernel({...original, kernelFunc});
  return true;
}
