// A bounds-checked, zero-copy reader of FlatBuffers tables.
//
// Why our own and not the `flatbuffers` npm runtime: that runtime trusts its input (an offset past the end
// reads garbage or throws a bare RangeError), and a model file is untrusted input. Every read here checks
// its offset against the buffer and names where it was reading when it fails. Vectors of bytes come back as
// subarrays of the model, never copies.
import { ModelFormatError } from '../src/errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });
/** Whether typed arrays on this host read the file's little-endian numbers as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** An int64 whose high int32 half lies strictly within ±2^21 is a safe integer. */
const HIGH_HALF_LIMIT = 2 ** 21;

export class FlatBuffer {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws unless [offset, offset + length) lies inside the buffer. */
  need(offset: number, length: number, where: string): void {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.bytes.length)) {
      throw new ModelFormatError(
        `${where}: reads ${length} byte(s) at offset ${offset}, outside the ${this.bytes.length}-byte file`,
      );
    }
  }

  /** The 4-character file identifier after the root offset ("TFL3" for TFLite). */
  identifier(): string {
    this.need(0, 8, 'file header');
    return String.fromCharCode(...this.bytes.subarray(4, 8));
  }

  root(where: string): Table {
    this.need(0, 4, where);
    return new Table(this, this.view.getUint32(0, true), where);
  }
}

/** One table: its position, and its vtable checked once on construction. */
export class Table {
  private readonly vtable: number;
  private readonly vtableSize: number;
  private readonly tableSize: number;

  constructor(
    readonly fb: FlatBuffer,
    readonly pos: number,
    readonly where: string,
  ) {
    fb.need(pos, 4, where);
    this.vtable = pos - fb.view.getInt32(pos, true);
    fb.need(this.vtable, 4, `${where} (vtable)`);
    this.vtableSize = fb.view.getUint16(this.vtable, true);
    this.tableSize = fb.view.getUint16(this.vtable + 2, true);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) {
      throw new ModelFormatError(`${where}: corrupt vtable (size ${this.vtableSize})`);
    }
    fb.need(this.vtable, this.vtableSize, `${where} (vtable)`);
    fb.need(pos, this.tableSize, where);
  }

  /** Absolute position of field `id` of `size` bytes, or 0 when the field is absent. */
  private field(id: number, size: number): number {
    const entry = 4 + 2 * id;
    if (entry >= this.vtableSize) return 0;
    const rel = this.fb.view.getUint16(this.vtable + entry, true);
    if (rel === 0) return 0;
    if (rel + size > this.tableSize) {
      throw new ModelFormatError(`${this.where}: field ${id} lies outside its table`);
    }
    return this.pos + rel;
  }

  has(id: number): boolean {
    return this.field(id, 1) !== 0;
  }

  /** How many field slots the vtable lists, present or not: a writer copying the table must know them all. */
  get slotCount(): number {
    return (this.vtableSize - 4) / 2;
  }

  int8(id: number, fallback = 0): number {
    const at = this.field(id, 1);
    return at ? this.fb.view.getInt8(at) : fallback;
  }
  uint8(id: number, fallback = 0): number {
    const at = this.field(id, 1);
    return at ? this.fb.view.getUint8(at) : fallback;
  }
  bool(id: number, fallback = false): boolean {
    const at = this.field(id, 1);
    return at ? this.fb.view.getUint8(at) !== 0 : fallback;
  }
  int32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.fb.view.getInt32(at, true) : fallback;
  }
  uint32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.fb.view.getUint32(at, true) : fallback;
  }
  float32(id: number, fallback = 0): number {
    const at = this.field(id, 4);
    return at ? this.fb.view.getFloat32(at, true) : fallback;
  }
  /** A 64-bit field as a number; values beyond 2^53 are a format error rather than silently rounded. */
  int64(id: number, fallback = 0): number {
    const at = this.field(id, 8);
    if (!at) return fallback;
    const value = this.fb.view.getBigInt64(at, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new ModelFormatError(`${this.where}: field ${id} holds ${value}, beyond 2^53`);
    }
    return Number(value);
  }

  /** Follows the offset stored in field `id`; returns its target position, or 0 when absent. */
  private target(id: number, what: string): number {
    const at = this.field(id, 4);
    if (!at) return 0;
    const to = at + this.fb.view.getUint32(at, true);
    this.fb.need(to, 4, `${this.where} ${what}`);
    return to;
  }

  table(id: number, where: string): Table | null {
    const to = this.target(id, where);
    return to ? new Table(this.fb, to, where) : null;
  }

  string(id: number, what = `field ${id}`): string | null {
    const to = this.target(id, what);
    if (!to) return null;
    const length = this.fb.view.getUint32(to, true);
    this.fb.need(to + 4, length, `${this.where} ${what}`);
    return textDecoder.decode(this.fb.bytes.subarray(to + 4, to + 4 + length));
  }

  /** Position and length of a vector of `elementSize`-byte elements, checked to fit in the file. */
  private vector(id: number, elementSize: number, what: string): { start: number; length: number } | null {
    const to = this.target(id, what);
    if (!to) return null;
    const length = this.fb.view.getUint32(to, true);
    this.fb.need(to + 4, length * elementSize, `${this.where} ${what} (vector of ${length})`);
    return { start: to + 4, length };
  }

  vectorLength(id: number, what = `field ${id}`): number {
    return this.vector(id, 1, what)?.length ?? 0;
  }

  /** A vector of tables; `whereOf(i)` names element i in error messages. */
  tables(id: number, what: string, whereOf: (i: number) => string): Table[] {
    const vec = this.vector(id, 4, what);
    if (!vec) return [];
    const result: Table[] = new Array(vec.length);
    for (let i = 0; i < vec.length; i++) {
      const at = vec.start + 4 * i;
      result[i] = new Table(this.fb, at + this.fb.view.getUint32(at, true), whereOf(i));
    }
    return result;
  }

  /** A [ubyte] vector as a zero-copy view into the file. */
  bytes(id: number, what = `field ${id}`): Uint8Array | null {
    const vec = this.vector(id, 1, what);
    return vec ? this.fb.bytes.subarray(vec.start, vec.start + vec.length) : null;
  }

  int32s(id: number, what = `field ${id}`): number[] | null {
    const vec = this.vector(id, 4, what);
    if (!vec) return null;
    const out = new Array<number>(vec.length);
    for (let i = 0; i < vec.length; i++) out[i] = this.fb.view.getInt32(vec.start + 4 * i, true);
    return out;
  }

  float32s(id: number, what = `field ${id}`): Float32Array | null {
    const vec = this.vector(id, 4, what);
    if (!vec) return null;
    const at = this.fb.bytes.byteOffset + vec.start;
    // Per-channel scales run to thousands a model: copy aligned little-endian data as is.
    if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(this.fb.bytes.buffer, at, vec.length).slice();
    const out = new Float32Array(vec.length);
    for (let i = 0; i < vec.length; i++) out[i] = this.fb.view.getFloat32(vec.start + 4 * i, true);
    return out;
  }

  int64s(id: number, what = `field ${id}`): number[] | null {
    const vec = this.vector(id, 8, what);
    if (!vec) return null;
    const view = this.fb.view;
    const at = this.fb.bytes.byteOffset + vec.start;
    // Per-channel zero points run to thousands a model and are all 0 but in odd files: read aligned words.
    const words = LITTLE_ENDIAN && at % 4 === 0 ? new Int32Array(this.fb.bytes.buffer, at, 2 * vec.length) : null;
    if (words) {
      let any = 0;
      for (let i = 0; i < words.length; i++) any |= words[i];
      if (any === 0) return new Array<number>(vec.length).fill(0);
    }
    const out = new Array<number>(vec.length);
    for (let i = 0; i < vec.length; i++) {
      const at = vec.start + 8 * i;
      // Two int32 halves, without a BigInt per element: a high half within ±(2^21 - 1) keeps the value within
      // ±(2^53 - 1), exact in a double. Others take the BigInt path.
      const high = words ? words[2 * i + 1] : view.getInt32(at + 4, true);
      if (high > -HIGH_HALF_LIMIT && high < HIGH_HALF_LIMIT) {
        out[i] = high * 2 ** 32 + (words ? words[2 * i] >>> 0 : view.getUint32(at, true));
        continue;
      }
      const value = view.getBigInt64(at, true);
      if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new ModelFormatError(`${this.where} ${what}[${i}]: ${value} is beyond 2^53`);
      }
      out[i] = Number(value);
    }
    return out;
  }
}
