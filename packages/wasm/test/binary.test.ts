/**
 * Inspects the four embedded binaries: they must import the backend's memory with compatible
 * limits, define no memory of their own, carry no data segment (it would overwrite the
 * emscripten heap at the same offsets) and never execute memory.grow. The code section is
 * decoded instruction by instruction (not byte-scanned), and the checker is shown to catch
 * hand-made modules that do grow memory or carry data.
 */
import {wasmBinaryBytes} from '@deepspline/wasm';

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, pos = 0, readonly end = bytes.length) { this.pos = pos; }
  byte(): number {
    if (this.pos >= this.end) throw new Error(`unexpected end of input at ${this.pos}`);
    return this.bytes[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return result;
    }
  }
  sleb(): void {
    for (;;) if ((this.byte() & 0x80) === 0) return;
  }
  skip(n: number): void { this.pos += n; }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

interface Inspection {
  sections: number[];
  memoryImports: {module: string, field: string, flags: number, min: number, max?: number}[];
  opcodes: Set<string>;  // 'xx' or 'fd:nn' / 'fc:nn' / 'fe:nn'
}

function blockType(r: Reader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b >= 0x6f && b <= 0x7f) || b === 0x7b) r.pos++;
  else r.sleb();
}

function memarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32();  // multi-memory index
  r.u32();                    // offset
}

/** Decodes one function body's instructions, collecting opcodes. */
function decodeBody(r: Reader, opcodes: Set<string>): void {
  const localGroups = r.u32();
  for (let i = 0; i < localGroups; ++i) { r.u32(); r.byte(); }
  while (r.pos < r.end) {
    const op = r.byte();
    const hex = op.toString(16).padStart(2, '0');
    if (op === 0xfc || op === 0xfd || op === 0xfe) {
      const sub = r.u32();
      opcodes.add(`${hex}:${sub}`);
      if (op === 0xfc) {
        if (sub <= 7) continue;                                 // trunc_sat
        if (sub === 8) { r.u32(); r.byte(); continue; }         // memory.init
        if (sub === 9 || sub === 13) { r.u32(); continue; }     // data.drop, elem.drop
        if (sub === 10) { r.byte(); r.byte(); continue; }       // memory.copy
        if (sub === 11) { r.byte(); continue; }                 // memory.fill
        if (sub === 12 || sub === 14) { r.u32(); r.u32(); continue; }
        if (sub >= 15 && sub <= 17) { r.u32(); continue; }
        throw new Error(`unknown 0xfc opcode ${sub}`);
      }
      if (op === 0xfe) {
        if (sub === 3) { r.byte(); continue; }                  // atomic.fence
        memarg(r);
        continue;
      }
      // SIMD
      if (sub <= 11 || sub === 92 || sub === 93) { memarg(r); continue; }
      if (sub === 12 || sub === 13) { r.skip(16); continue; }  // v128.const, i8x16.shuffle
      if (sub >= 21 && sub <= 34) { r.byte(); continue; }       // extract/replace lane
      if (sub >= 84 && sub <= 91) { memarg(r); r.byte(); continue; }  // load/store lane
      continue;                                                 // no immediates
    }
    opcodes.add(hex);
    if (op === 0x02 || op === 0x03 || op === 0x04) blockType(r);
    else if (op === 0x0c || op === 0x0d || op === 0x10 || (op >= 0x20 && op <= 0x26) ||
        op === 0xd2) r.u32();
    else if (op === 0x0e) { const n = r.u32(); for (let i = 0; i <= n; ++i) r.u32(); }
    else if (op === 0x11) { r.u32(); r.u32(); }
    else if (op === 0x1c) { const n = r.u32(); r.skip(n); }
    else if (op >= 0x28 && op <= 0x3e) memarg(r);
    else if (op === 0x3f || op === 0x40) r.byte();             // memory.size / memory.grow 0x00
    else if (op === 0x41 || op === 0x42) r.sleb();
    else if (op === 0x43) r.skip(4);
    else if (op === 0x44) r.skip(8);
    else if (op === 0xd0) r.byte();
    else if (op > 0xd2 && op !== 0xfc) throw new Error(`unknown opcode 0x${hex} at ${r.pos - 1}`);
  }
}

function inspect(bytes: Uint8Array): Inspection {
  const r = new Reader(bytes);
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
  r.pos = 8;
  const result: Inspection = {sections: [], memoryImports: [], opcodes: new Set()};
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    result.sections.push(id);
    if (id === 2) {
      const count = r.u32();
      for (let i = 0; i < count; ++i) {
        const module = r.name();
        const field = r.name();
        const kind = r.byte();
        if (kind === 0x00) r.u32();
        else if (kind === 0x01) { r.byte(); const f = r.byte(); r.u32(); if (f & 1) r.u32(); }
        else if (kind === 0x02) {
          const flags = r.byte();
          const min = r.u32();
          const max = flags & 1 ? r.u32() : undefined;
          result.memoryImports.push({module, field, flags, min, max});
        } else if (kind === 0x03) { r.byte(); r.byte(); }
        else throw new Error(`unknown import kind ${kind}`);
      }
    } else if (id === 10) {
      const count = r.u32();
      for (let i = 0; i < count; ++i) {
        const bodySize = r.u32();
        const body = new Reader(bytes, r.pos, r.pos + bodySize);
        decodeBody(body, result.opcodes);
        expect(body.pos).toBe(r.pos + bodySize);
        r.pos += bodySize;
      }
    }
    r.pos = end;
  }
  return result;
}

const VARIANTS = [['simd', false], ['scalar', false], ['simd', true], ['scalar', true]] as const;

describe.each(VARIANTS)('the %s binary (shared memory: %p)', (binary, shared) => {
  const bytes = wasmBinaryBytes(binary, shared);
  const info = inspect(bytes);

  // Chrome limited synchronous compilation on the main thread to 4 KB until version 114 and
  // to 8 MB since; ready() compiles asynchronously anyway. The bound keeps the embedded
  // base64 strings small.
  test('is valid and small (< 16 KB)', () => {
    expect(WebAssembly.validate(bytes as BufferSource)).toBe(true);
    expect(bytes.length).toBeLessThan(16384);
  });

  test('has no data segments (no data or data count section) and no own memory', () => {
    expect(info.sections).not.toContain(11);
    expect(info.sections).not.toContain(12);
    expect(info.sections).not.toContain(5);   // memory section: the memory is imported
    expect(info.sections).toContain(10);      // the code section was decoded
  });

  test('never grows (nor sizes, fills, copies or initializes) memory', () => {
    expect(info.opcodes.size).toBeGreaterThan(10);
    for (const op of ['40', '3f', 'fc:8', 'fc:9', 'fc:10', 'fc:11']) expect(info.opcodes).not.toContain(op);
  });

  test('imports exactly one memory, env.memory, with limits any backend memory satisfies', () => {
    expect(info.memoryImports).toHaveLength(1);
    const m = info.memoryImports[0];
    expect([m.module, m.field]).toEqual(['env', 'memory']);
    expect(m.min).toBeLessThanOrEqual(256);   // the backend starts at 16 MiB = 256 pages
    if (shared) {
      expect(m.flags).toBe(3);                // shared, with maximum
      expect(m.max).toBe(65536);              // >= any memory's maximum: always compatible
    } else {
      expect(m.flags).toBe(0);                // unshared, no maximum
    }
  });

  test(binary === 'simd' ? 'uses SIMD instructions' : 'uses no SIMD instruction', () => {
    const simd = [...info.opcodes].some((op) => op.startsWith('fd:'));
    expect(simd).toBe(binary === 'simd');
  });
});

describe('the checker itself', () => {
  // (module (memory (import "env" "memory") 1) (func (drop (memory.grow (i32.const 1)))))
  const grows = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0,
    2, 15, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 1,
    3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 1, 64, 0, 26, 11]);
  // (module (memory (import "env" "memory") 1) (data (i32.const 0) "a"))
  const data = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0,
    2, 15, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 1,
    11, 7, 1, 0, 65, 0, 11, 1, 97]);

  test('the hand-made modules are valid', () => {
    expect(WebAssembly.validate(grows)).toBe(true);
    expect(WebAssembly.validate(data)).toBe(true);
  });
  test('finds memory.grow by decoding', () => {
    expect(inspect(grows).opcodes).toContain('40');
    // A 0x40 byte that is an immediate (i32.const 64) is not memory.grow.
    const constant = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0,
      3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0xc0, 0, 26, 11]);
    expect(WebAssembly.validate(constant)).toBe(true);
    expect(inspect(constant).opcodes).not.toContain('40');
  });
  test('finds a data segment', () => {
    expect(inspect(data).sections).toContain(11);
  });
});
