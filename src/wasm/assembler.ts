// A WebAssembly assembler in TypeScript: enough of the binary format (core MVP plus SIMD128) to write our kernels
// as code that emits bytecode, so the repository holds no binary and needs no toolchain. Instructions are named as
// in the text format ('i32x4.dot_i16x8_s'), so a kernel reads like a .wat listing. One module imports one memory,
// "env"."memory", and exports its functions by name.
//
// Binary format: https://webassembly.github.io/spec/core/binary/ (sections, LEB128 integers, instruction opcodes);
// SIMD opcodes are 0xFD followed by a LEB128 index.

export type ValueType = 'i32' | 'i64' | 'f64' | 'v128';

const VALUE_TYPE: Record<ValueType, number> = { i32: 0x7f, i64: 0x7e, f64: 0x7c, v128: 0x7b };

/** Instructions without immediates, by text-format name: one byte, or 0xFD and the SIMD index. */
const PLAIN = {
  unreachable: 0x00, nop: 0x01, return: 0x0f, drop: 0x1a, select: 0x1b,
  'i32.eqz': 0x45, 'i32.eq': 0x46, 'i32.ne': 0x47, 'i32.lt_s': 0x48, 'i32.lt_u': 0x49, 'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b, 'i32.le_s': 0x4c, 'i32.le_u': 0x4d, 'i32.ge_s': 0x4e, 'i32.ge_u': 0x4f,
  'i64.eqz': 0x50, 'i64.lt_s': 0x53, 'i64.gt_s': 0x55, 'i64.ge_s': 0x59,
  'i32.add': 0x6a, 'i32.sub': 0x6b, 'i32.mul': 0x6c, 'i32.div_s': 0x6d, 'i32.div_u': 0x6e, 'i32.rem_s': 0x6f,
  'i32.rem_u': 0x70, 'i32.and': 0x71, 'i32.or': 0x72, 'i32.xor': 0x73, 'i32.shl': 0x74, 'i32.shr_s': 0x75,
  'i32.shr_u': 0x76,
  'i64.add': 0x7c, 'i64.sub': 0x7d, 'i64.mul': 0x7e, 'i64.and': 0x83, 'i64.or': 0x84, 'i64.xor': 0x85,
  'i64.shl': 0x86, 'i64.shr_s': 0x87, 'i64.shr_u': 0x88,
  'f64.add': 0xa0, 'f64.sub': 0xa1, 'f64.mul': 0xa2, 'f64.div': 0xa3, 'f64.floor': 0x9c,
  'i32.wrap_i64': 0xa7, 'i64.extend_i32_s': 0xac, 'i64.extend_i32_u': 0xad, 'f64.convert_i32_s': 0xb7,
  'i32.trunc_f64_s': 0xaa,
} as const;

const SIMD = {
  'i8x16.splat': 0x0f, 'i16x8.splat': 0x10, 'i32x4.splat': 0x11, 'i64x2.splat': 0x12, 'f64x2.splat': 0x14,
  'i8x16.swizzle': 0x0e,
  'i8x16.eq': 0x23, 'i16x8.eq': 0x2d, 'i32x4.eq': 0x37, 'i32x4.lt_s': 0x39, 'i32x4.gt_s': 0x3b,
  'v128.not': 0x4d, 'v128.and': 0x4e, 'v128.andnot': 0x4f, 'v128.or': 0x50, 'v128.xor': 0x51,
  'v128.bitselect': 0x52, 'v128.any_true': 0x53,
  'i8x16.narrow_i16x8_s': 0x65, 'i8x16.narrow_i16x8_u': 0x66, 'i8x16.add': 0x6e, 'i8x16.sub': 0x71,
  'i8x16.min_s': 0x76, 'i8x16.min_u': 0x77, 'i8x16.max_s': 0x78, 'i8x16.max_u': 0x79,
  'i16x8.extadd_pairwise_i8x16_s': 0x7c, 'i16x8.extadd_pairwise_i8x16_u': 0x7d,
  'i32x4.extadd_pairwise_i16x8_s': 0x7e, 'i32x4.extadd_pairwise_i16x8_u': 0x7f,
  'i16x8.narrow_i32x4_s': 0x85, 'i16x8.narrow_i32x4_u': 0x86,
  'i16x8.extend_low_i8x16_s': 0x87, 'i16x8.extend_high_i8x16_s': 0x88,
  'i16x8.extend_low_i8x16_u': 0x89, 'i16x8.extend_high_i8x16_u': 0x8a,
  'i16x8.shl': 0x8b, 'i16x8.shr_s': 0x8c, 'i16x8.shr_u': 0x8d, 'i16x8.add': 0x8e, 'i16x8.add_sat_s': 0x8f,
  'i16x8.sub': 0x91, 'i16x8.mul': 0x95, 'i16x8.min_s': 0x96, 'i16x8.max_s': 0x98,
  'i16x8.extmul_low_i8x16_s': 0x9c, 'i16x8.extmul_high_i8x16_s': 0x9d,
  'i16x8.extmul_low_i8x16_u': 0x9e, 'i16x8.extmul_high_i8x16_u': 0x9f,
  'i32x4.extend_low_i16x8_s': 0xa7, 'i32x4.extend_high_i16x8_s': 0xa8,
  'i32x4.extend_low_i16x8_u': 0xa9, 'i32x4.extend_high_i16x8_u': 0xaa,
  'i32x4.shl': 0xab, 'i32x4.shr_s': 0xac, 'i32x4.shr_u': 0xad, 'i32x4.add': 0xae, 'i32x4.sub': 0xb1,
  'i32x4.mul': 0xb5, 'i32x4.min_s': 0xb6, 'i32x4.max_s': 0xb8, 'i32x4.dot_i16x8_s': 0xba,
  'i32x4.extmul_low_i16x8_s': 0xbc, 'i32x4.extmul_high_i16x8_s': 0xbd,
  'i64x2.extend_low_i32x4_s': 0xc7, 'i64x2.extend_high_i32x4_s': 0xc8,
  'i64x2.shl': 0xcb, 'i64x2.shr_s': 0xcc, 'i64x2.shr_u': 0xcd, 'i64x2.add': 0xce, 'i64x2.sub': 0xd1,
  'i64x2.mul': 0xd5, 'i64x2.extmul_low_i32x4_s': 0xdc, 'i64x2.extmul_high_i32x4_s': 0xdd,
  'f64x2.floor': 0x75, 'f64x2.add': 0xf0, 'f64x2.sub': 0xf1, 'f64x2.mul': 0xf2,
  'i32x4.trunc_sat_f64x2_s_zero': 0xfc, 'f64x2.convert_low_i32x4_s': 0xfe,
} as const;

/** Loads and stores: their opcode and the natural alignment (log2 bytes) the memarg states. */
const MEMORY = {
  'i32.load': [0x28, 2], 'i64.load': [0x29, 3], 'f64.load': [0x2b, 3], 'i32.load8_s': [0x2c, 0],
  'i32.load8_u': [0x2d, 0], 'i32.load16_s': [0x2e, 1], 'i32.load16_u': [0x2f, 1],
  'i32.store': [0x36, 2], 'i64.store': [0x37, 3], 'f64.store': [0x39, 3], 'i32.store8': [0x3a, 0],
  'i32.store16': [0x3b, 1],
  'v128.load': [0xfd00, 4], 'v128.load8x8_s': [0xfd01, 3], 'v128.load8x8_u': [0xfd02, 3],
  'v128.load16x4_s': [0xfd03, 3], 'v128.load8_splat': [0xfd07, 0], 'v128.load16_splat': [0xfd08, 1],
  'v128.load32_splat': [0xfd09, 2], 'v128.load64_splat': [0xfd0a, 3], 'v128.store': [0xfd0b, 4],
  'v128.load32_zero': [0xfd5c, 2], 'v128.load64_zero': [0xfd5d, 3],
} as const;

/** Lane access: the opcode; the lane index follows as one byte. */
const LANE = {
  'i8x16.extract_lane_s': 0x15, 'i8x16.extract_lane_u': 0x16, 'i16x8.extract_lane_s': 0x18,
  'i32x4.extract_lane': 0x1b, 'i32x4.replace_lane': 0x1c, 'i64x2.extract_lane': 0x1d,
  'f64x2.extract_lane': 0x21,
} as const;

/** Stores of one lane: the opcode; memarg then lane index follow. */
const LANE_STORE = { 'v128.store8_lane': [0x58, 0], 'v128.store16_lane': [0x59, 1], 'v128.store32_lane': [0x5a, 2], 'v128.store64_lane': [0x5b, 3] } as const;

export type PlainOp = keyof typeof PLAIN | keyof typeof SIMD;
export type MemoryOp = keyof typeof MEMORY;
export type LaneOp = keyof typeof LANE;
export type LaneStoreOp = keyof typeof LANE_STORE;

/** Appends the unsigned LEB128 encoding of `value` (a non-negative safe integer). */
function unsigned(out: number[], value: number): void {
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
}

/** Appends the signed LEB128 encoding of `value`. */
function signed(out: number[], value: bigint): void {
  for (;;) {
    const byte = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && (byte & 0x40) === 0) || (value === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function simd(out: number[], index: number): void {
  out.push(0xfd);
  unsigned(out, index);
}

/** A local variable or parameter: its index in the function. */
export type Local = number & { readonly local: unique symbol };

/**
 * One function's body. Methods append instructions and return the builder, so a sequence reads in stack order:
 * `f.get(a).get(b).op('i32.add').set(c)`. Blocks and loops take a callback that emits their body.
 */
export class FunctionBuilder {
  readonly code: number[] = [];
  /** The types of locals beyond the parameters, in index order. */
  readonly localTypes: ValueType[] = [];
  readonly params: Local[];

  constructor(readonly paramTypes: readonly ValueType[], readonly resultTypes: readonly ValueType[]) {
    this.params = paramTypes.map((_, i) => i as Local);
  }

  /** A new local of `type`, zero at entry. */
  local(type: ValueType): Local {
    this.localTypes.push(type);
    return (this.paramTypes.length + this.localTypes.length - 1) as Local;
  }

  get(l: Local): this {
    this.code.push(0x20);
    unsigned(this.code, l);
    return this;
  }

  set(l: Local): this {
    this.code.push(0x21);
    unsigned(this.code, l);
    return this;
  }

  tee(l: Local): this {
    this.code.push(0x22);
    unsigned(this.code, l);
    return this;
  }

  i32(value: number): this {
    this.code.push(0x41);
    signed(this.code, BigInt(value | 0));
    return this;
  }

  i64(value: bigint | number): this {
    this.code.push(0x42);
    signed(this.code, BigInt.asIntN(64, BigInt(value)));
    return this;
  }

  f64(value: number): this {
    this.code.push(0x44);
    const bytes = new Uint8Array(new Float64Array([value]).buffer);
    this.code.push(...bytes);
    return this;
  }

  /** v128.const from 16 bytes. */
  v128(bytes: ArrayLike<number>): this {
    if (bytes.length !== 16) throw new Error(`v128.const needs 16 bytes, got ${bytes.length}`);
    simd(this.code, 0x0c);
    for (let i = 0; i < 16; i++) this.code.push(bytes[i] & 0xff);
    return this;
  }

  /** A v128 whose four i32 lanes are all `value`. */
  i32x4(value: number): this {
    const bytes = new Uint8Array(new Int32Array([value, value, value, value]).buffer);
    return this.v128(bytes);
  }

  /** A v128 whose two i64 lanes are both `value`. */
  i64x2(value: bigint): this {
    const bytes = new Uint8Array(new BigInt64Array([value, value]).buffer);
    return this.v128(bytes);
  }

  op(...names: PlainOp[]): this {
    for (const name of names) {
      if (name in PLAIN) this.code.push(PLAIN[name as keyof typeof PLAIN]);
      else simd(this.code, SIMD[name as keyof typeof SIMD]);
    }
    return this;
  }

  /** A load or store with a constant byte offset added to the address on the stack. */
  mem(name: MemoryOp, offset = 0): this {
    const [opcode, align] = MEMORY[name];
    if (opcode > 0xff) simd(this.code, opcode & 0xff);
    else this.code.push(opcode);
    unsigned(this.code, align);
    unsigned(this.code, offset);
    return this;
  }

  lane(name: LaneOp, lane: number): this {
    simd(this.code, LANE[name]);
    this.code.push(lane);
    return this;
  }

  storeLane(name: LaneStoreOp, lane: number, offset = 0): this {
    const [opcode, align] = LANE_STORE[name];
    simd(this.code, opcode);
    unsigned(this.code, align);
    unsigned(this.code, offset);
    this.code.push(lane);
    return this;
  }

  /** i8x16.shuffle: result byte i is byte lanes[i] of the concatenation of the two operands (0..31). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error(`i8x16.shuffle needs 16 lane indices, got ${lanes.length}`);
    simd(this.code, 0x0d);
    this.code.push(...lanes);
    return this;
  }

  /** block ... end: `br 0` inside jumps to its end. */
  block(body: () => void): this {
    this.code.push(0x02, 0x40);
    body();
    this.code.push(0x0b);
    return this;
  }

  /** loop ... end: `br 0` inside jumps back to its start. */
  loop(body: () => void): this {
    this.code.push(0x03, 0x40);
    body();
    this.code.push(0x0b);
    return this;
  }

  /** if (condition on the stack) then ... [else ...] end. */
  if(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.code.push(0x0b);
    return this;
  }

  br(depth: number): this {
    this.code.push(0x0c);
    unsigned(this.code, depth);
    return this;
  }

  brIf(depth: number): this {
    this.code.push(0x0d);
    unsigned(this.code, depth);
    return this;
  }

  /**
   * for (counter = start; counter < end; counter += step) body — the common counted loop. `start`, `end` and
   * `step` emit one i32 each; the body may not branch out of the loop with relative depths (it sits two deep).
   */
  forLoop(counter: Local, start: () => void, end: () => void, step: number, body: () => void): this {
    start();
    this.set(counter);
    return this.block(() => {
      this.get(counter);
      end();
      this.op('i32.ge_s').brIf(0);
      this.loop(() => {
        body();
        this.get(counter).i32(step).op('i32.add').tee(counter);
        end();
        this.op('i32.lt_s').brIf(0);
      });
    });
  }
}

interface FunctionEntry {
  name: string;
  builder: FunctionBuilder;
}

/** A module: functions in order, each exported under its name, and one imported memory. */
export class ModuleBuilder {
  private readonly functions: FunctionEntry[] = [];

  /** Adds an exported function whose body `emit` writes; returns it for reference. */
  addFunction(name: string, params: ValueType[], results: ValueType[], emit: (f: FunctionBuilder) => void): void {
    if (this.functions.some((f) => f.name === name)) throw new Error(`function ${name} is defined twice`);
    const builder = new FunctionBuilder(params, results);
    emit(builder);
    this.functions.push({ name, builder });
  }

  /** The module's bytes. */
  build(): Uint8Array<ArrayBuffer> {
    const fns = this.functions;
    const name = (into: number[], text: string) => {
      const bytes = new TextEncoder().encode(text);
      unsigned(into, bytes.length);
      into.push(...bytes);
    };

    const types: number[] = [];
    unsigned(types, fns.length);
    for (const { builder } of fns) {
      types.push(0x60);
      unsigned(types, builder.paramTypes.length);
      for (const t of builder.paramTypes) types.push(VALUE_TYPE[t]);
      unsigned(types, builder.resultTypes.length);
      for (const t of builder.resultTypes) types.push(VALUE_TYPE[t]);
    }

    const imports: number[] = [1];
    name(imports, 'env');
    name(imports, 'memory');
    imports.push(0x02, 0x00, 0x01); // memory, limits: minimum 1 page, no maximum

    const declarations: number[] = [];
    unsigned(declarations, fns.length);
    fns.forEach((_, i) => unsigned(declarations, i));

    const exports: number[] = [];
    unsigned(exports, fns.length);
    fns.forEach((f, i) => {
      name(exports, f.name);
      exports.push(0x00);
      unsigned(exports, i);
    });

    // Bodies are large: they are copied as typed arrays, not pushed byte by byte.
    const bodies = fns.map(({ builder }) => {
      const head: number[] = [];
      // Locals as runs of one type.
      const runs: [ValueType, number][] = [];
      for (const t of builder.localTypes) {
        const last = runs[runs.length - 1];
        if (last && last[0] === t) last[1]++;
        else runs.push([t, 1]);
      }
      unsigned(head, runs.length);
      for (const [t, count] of runs) {
        unsigned(head, count);
        head.push(VALUE_TYPE[t]);
      }
      const size: number[] = [];
      unsigned(size, head.length + builder.code.length + 1);
      return [size, head, builder.code, [0x0b]];
    });
    const code: number[] = [];
    unsigned(code, fns.length);

    const sections: [number, number[][]][] = [
      [1, [types]], [2, [imports]], [3, [declarations]], [7, [exports]], [10, [code, ...bodies.flat()]],
    ];
    const parts: number[][] = [[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]];
    for (const [id, contents] of sections) {
      const header = [id];
      unsigned(header, contents.reduce((sum, part) => sum + part.length, 0));
      parts.push(header, ...contents);
    }
    const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
    let at = 0;
    for (const part of parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}
