/**
 * A reader for the IDX files of the original MNIST distribution (LeCun, Cortes, Burges;
 * http://yann.lecun.com/exdb/mnist/): big-endian; a magic number `0x00 0x00 type ndims`, then
 * `ndims` unsigned 32-bit sizes, then the data, row-major.
 */

/** IDX data types by their code: the typed array a value is read into and its byte size. */
const TYPES = {
  0x08: {name: 'uint8', bytes: 1},
  0x09: {name: 'int8', bytes: 1},
  0x0b: {name: 'int16', bytes: 2},
  0x0c: {name: 'int32', bytes: 4},
  0x0d: {name: 'float32', bytes: 4},
  0x0e: {name: 'float64', bytes: 8},
};

/**
 * Parses one IDX file. Throws an Error naming `name` and what was expected when the magic
 * number, the type, the sizes or the length do not match.
 * @param {Uint8Array} bytes the whole file
 * @param {string} [name] used in error messages (a path)
 * @returns {{type: string, dims: number[], data: Uint8Array | Int8Array | Int16Array | Int32Array |
 *   Float32Array | Float64Array}} `data` holds `dims.reduce(*)` values, host-endian
 */
export function readIdx(bytes, name = 'IDX data') {
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`readIdx: expected the bytes of ${name} as a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  }
  if (bytes.length < 4) throw new Error(`${name}: expected an IDX file of at least 4 bytes, got ${bytes.length}`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new Error(`${name}: expected an IDX magic number starting 0x00 0x00, got 0x${hex(bytes[0])} 0x${hex(bytes[1])} ` +
      '(is this a gzipped file?)');
  }
  const type = TYPES[bytes[2]];
  if (type === undefined) {
    throw new Error(`${name}: unknown IDX data type 0x${hex(bytes[2])}; expected one of ` +
      Object.keys(TYPES).map((k) => `0x${hex(Number(k))}`).join(', '));
  }
  const ndims = bytes[3];
  if (ndims === 0) throw new Error(`${name}: expected at least one dimension, got 0`);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new Error(`${name}: expected a header of ${header} bytes (${ndims} dimensions), the file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({length: ndims}, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = header + count * type.bytes;
  if (bytes.length !== expected) {
    throw new Error(`${name}: dimensions [${dims.join(', ')}] of ${type.name} need ${expected} bytes, the file has ${bytes.length}`);
  }
  let data;
  if (type.name === 'uint8') data = bytes.slice(header, expected);
  else if (type.name === 'int8') data = new Int8Array(bytes.slice(header, expected).buffer);
  else {
    const Array_ = {int16: Int16Array, int32: Int32Array, float32: Float32Array, float64: Float64Array}[type.name];
    const getter = {int16: 'getInt16', int32: 'getInt32', float32: 'getFloat32', float64: 'getFloat64'}[type.name];
    data = new Array_(count);
    for (let i = 0; i < count; ++i) data[i] = view[getter](header + i * type.bytes, false);
  }
  return {type: type.name, dims, data};
}

const hex = (b) => b.toString(16).padStart(2, '0');
