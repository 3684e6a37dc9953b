/**
 * Parses one IDX file; throws an Error naming `name` and what was expected when the magic
 * number, the type, the sizes or the length do not match. `data` holds `dims.reduce(*)`
 * values, host-endian.
 */
export function readIdx(bytes: Uint8Array, name?: string): {type: string, dims: number[],
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array};
