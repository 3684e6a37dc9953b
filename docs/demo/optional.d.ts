// The virtual module `demo:optional` (scripts/demo.mjs): the workspace packages that may not
// exist yet when the site is built, or null. Typed by the parts the demo uses.
declare module 'demo:optional' {
  import type {LayersModel} from '@tensorflow/tfjs-layers';
  import type {Scalar, Tensor} from '@tensorflow/tfjs-core';
  import type {SplineGrid} from '@deepspline/core';

  export const wasmPackage: null | {ready?: () => Promise<unknown>};
  export const webglPackage: null | object;
  export const lipschitzPackage: null | {
    lipschitzBound?: (model: LayersModel, options?: {norm?: number, method?: string}) =>
      {bound: number} | Promise<{bound: number}>;
    tv2?: (args?: {lambda?: number}) => {setSplineGrid(grid: SplineGrid): void, apply(x: Tensor): Scalar};
  };
}

declare module '*/examples/twod/lib/data.mjs' {
  export function label(dataset: string, x: number, y: number): number;
  export function uniformSet(dataset: string, n: number, seed: number):
    {x: Float32Array, y: Float32Array, n: number};
}
