/** The shared kernel conformance suite on the cpu backend: the fused kernels and the fallback. */
import * as tf from '@tensorflow/tfjs-core';
import '@deepspline/core';
import {describeSplineKernel} from '@deepspline/testing';

const setup = async () => { await tf.setBackend('cpu'); };
describeSplineKernel({backend: 'cpu', implementation: 'kernel', bitExact: true, setup});
describeSplineKernel({backend: 'cpu', implementation: 'fallback', bitExact: false, setup});
