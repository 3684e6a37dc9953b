// Types of the 2-D example's data module (plain JavaScript), the parts the demo uses.
declare module '*/examples/twod/lib/data.mjs' {
  export function label(dataset: string, x: number, y: number): number;
  export function uniformSet(dataset: string, n: number, seed: number):
    {x: Float32Array, y: Float32Array, n: number};
}
