/** A labelled set: `x` row-major `[n, 2]`, `y` the labels (0 or 1). */
export interface PointSet {x: Float32Array, y: Float32Array, n: number}
/** The paper's datasets: what `--dataset all` (the default run) trains on. */
export const PAPER_DATASETS: string[];
/** Every dataset name: the paper's and `annulus`, the recipe's transfer task. */
export const DATASETS: string[];
/** Squared radius of the circle holding half of the square [-1, 1]^2 (2 / pi). */
export const CIRCLE_RADIUS_SQ: number;
/** The annulus's squared radii: label 1 where `inner < x^2 + y^2 < outer`. */
export const ANNULUS_RADII_SQ: {inner: number, outer: number};
/** The label (0 or 1) of a point; throws naming the datasets for an unknown name. */
export function label(dataset: string, x: number, y: number): number;
/** `n` points uniform in [-1, 1]^2 from a seeded generator, with their labels. */
export function uniformSet(dataset: string, n: number, seed: number): PointSet;
/** Side of the test grid. */
export const GRID_SIDE: number;
/** The test set: the 200 x 200 grid of cell centres. */
export function gridSet(dataset: string): PointSet & {side: number, centres: Float64Array};
/** Training (1500), validation (1500) and test (grid) sets of a dataset for a seed. */
export function makeDataset(dataset: string, seed: number, sizes?: {train?: number, val?: number}):
  {name: string, train: PointSet, val: PointSet, test: PointSet & {side: number, centres: Float64Array}};
