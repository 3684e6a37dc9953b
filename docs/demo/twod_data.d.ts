// Types of the 2-D example's data and model modules (plain JavaScript), the parts the demo uses.
declare module '*/examples/twod/lib/data.mjs' {
  export function label(dataset: string, x: number, y: number): number;
  export function uniformSet(dataset: string, n: number, seed: number):
    {x: Float32Array, y: Float32Array, n: number};
}

declare module '*/examples/twod/lib/models.mjs' {
  import type {Sequential} from '@tensorflow/tfjs-layers';
  export function buildModel(kind: string, options: {seed: number, lambda: number, weightDecay: number,
    splineInit?: string}): Sequential;
}
