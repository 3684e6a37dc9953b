/** One parsed IDX file: its data type, its dimensions and the values, row-major, host-endian. */
export interface Idx {
  type: 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}
/** Parses the bytes of one IDX file; throws an Error naming `name` on a malformed file. */
export function readIdx(bytes: Uint8Array, name?: string): Idx;
