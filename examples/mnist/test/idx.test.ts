// The IDX reader of the MNIST example on hand-made files (big-endian header and data).
import {readIdx} from '../lib/idx.mjs';

/** An IDX file: magic 0 0 type ndims, big-endian uint32 sizes, then `body`. */
function idx(type: number, dims: number[], body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  header.set([0, 0, type, dims.length]);
  const view = new DataView(header.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

test('uint8 images [2, 2, 3]: dims and row-major values', () => {
  const body = Uint8Array.from({length: 12}, (_, i) => i * 20);
  const r = readIdx(idx(0x08, [2, 2, 3], body), 'images');
  expect(r.type).toBe('uint8');
  expect(r.dims).toEqual([2, 2, 3]);
  expect(Array.from(r.data)).toEqual(Array.from(body));
});

test('int32, int16 and float32 data are big-endian in the file', () => {
  const be = (bytes: number[]) => Uint8Array.from(bytes);
  expect(Array.from(readIdx(idx(0x0c, [2], be([0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe]))).data)).toEqual([258, -2]);
  expect(Array.from(readIdx(idx(0x0b, [1], be([0x80, 0x01]))).data)).toEqual([-32767]);
  // 1.5 = 0x3fc00000; -2 = 0xc0000000
  expect(Array.from(readIdx(idx(0x0d, [2], be([0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0]))).data)).toEqual([1.5, -2]);
  expect(Array.from(readIdx(idx(0x09, [2], be([0x7f, 0x80]))).data)).toEqual([127, -128]);
});

test('bad files get a clear error naming the file and what was expected', () => {
  const ok = idx(0x08, [2, 2], new Uint8Array(4));
  expect(() => readIdx(ok.subarray(0, 3), 'f')).toThrow('f: expected an IDX file of at least 4 bytes, got 3');
  expect(() => readIdx(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]), 'f.gz')).toThrow(
    'f.gz: expected an IDX magic number starting 0x00 0x00, got 0x1f 0x8b (is this a gzipped file?)');
  expect(() => readIdx(idx(0x07, [1], new Uint8Array(1)), 'f')).toThrow('f: unknown IDX data type 0x07; expected one of 0x08');
  expect(() => readIdx(Uint8Array.from([0, 0, 8, 0]), 'f')).toThrow('f: expected at least one dimension, got 0');
  expect(() => readIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1]), 'f')).toThrow(
    'f: expected a header of 16 bytes (3 dimensions), the file has 8');
  expect(() => readIdx(ok.subarray(0, ok.length - 1), 'f')).toThrow(
    'f: dimensions [2, 2] of uint8 need 16 bytes, the file has 15');
  expect(() => readIdx(idx(0x0c, [2], new Uint8Array(7)), 'f')).toThrow('f: dimensions [2] of int32 need 16 bytes, the file has 15');
  expect(() => readIdx([0, 0, 8, 1] as unknown as Uint8Array, 'f')).toThrow(
    'readIdx: expected the bytes of f as a Uint8Array, got [object Array]');
});
