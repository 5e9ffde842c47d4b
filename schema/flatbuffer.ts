// A bounds-checked, zero-copy reader of FlatBuffers tables.
//
// Why our own and not the `flatbuffers` npm runtime: that runtime trusts its input (an offset past the end
// reads garbage or throws a bare RangeError), and a model file is untrusted input. Every read here checks
// its offset against the buffer and names where it was reading when it fails. Vectors of bytes come back as
// subarrays of the model, never copies, and so do vectors of floats wherever the host and the file's alignment
// allow.
import { ModelFormatError } from '../src/errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });
/** Whether typed arrays on this host read the file's little-endian numbers as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** An int64 whose high int32 half lies strictly within ±2^21 is a safe integer. */
const HIGH_HALF_LIMIT = 2 ** 21;

/**
 * All-zero arrays shared by length, frozen so that no holder can change another's: per-channel zero points are
 * all 0 in nearly every model and run to tens of thousands a model. Lengths are kept up to a bound on the
 * elements held, so that hostile files cannot grow the cache without limit; past it each array is new.
 */
const sharedZeros = new Map<number, number[]>();
const SHARED_ZEROS_LIMIT = 1 << 16;
let sharedZerosHeld = 0;

/** A frozen array of `length` zeros, shared with every other caller asking for the same length. */
export function zeros(length: number): number[] {
  let array = sharedZeros.get(length);
  if (array) return array;
  array = Object.freeze(new Array<number>(length).fill(0)) as number[];
  if (sharedZerosHeld + length <= SHARED_ZEROS_LIMIT) {
    sharedZeros.set(length, array);
    sharedZerosHeld += length;
  }
  return array;
}

export class FlatBuffer {
  readonly view: DataView;
  /** The file as 4-byte words when it starts 4-byte aligned, for scans of long vectors; else null. */
  readonly words: Int32Array | null;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : null;
  }

  /** Whether [offset, offset + length) lies inside the buffer. */
  fits(offset: number, length: number): boolean {
    return offset >= 0 && length >= 0 && offset + length <= this.bytes.length;
  }

  /** The error for a read of [offset, offset + length) that does not fit, naming `where` it was reading. */
  outside(offset: number, length: number, where: string): ModelFormatError {
    return new ModelFormatError(
      `${where}: reads ${length} byte(s) at offset ${offset}, outside the ${this.bytes.length}-byte file`,
    );
  }

  /** Throws unless [offset, offset + length) lies inside the buffer. */
  need(offset: number, length: number, where: string): void {
    if (!this.fits(offset, length)) throw this.outside(offset, length, where);
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

/**
 * What a table is called in error messages: a name, or a function of the table's index that makes the name only
 * when an error needs it (a model has thousands of tables, and naming each up front is most of the garbage).
 */
export type TableName = string | ((index: number) => string);

/** One table: its position, and its vtable checked once on construction (or on each move, see `mapTables`). */
export class Table {
  private start = 0;
  private vtable = 0;
  private vtableSize = 0;
  private tableSize = 0;
  private nameIndex = 0;

  constructor(
    readonly fb: FlatBuffer,
    pos: number,
    private readonly name: TableName,
    nameIndex = 0,
  ) {
    this.moveTo(pos, nameIndex);
  }

  /** Makes this the table at `pos`, named by `nameIndex`, once its vtable and extent are checked. */
  private moveTo(pos: number, nameIndex: number): void {
    const fb = this.fb;
    this.start = pos;
    this.nameIndex = nameIndex;
    if (!fb.fits(pos, 4)) throw fb.outside(pos, 4, this.where);
    this.vtable = pos - fb.view.getInt32(pos, true);
    if (!fb.fits(this.vtable, 4)) throw fb.outside(this.vtable, 4, `${this.where} (vtable)`);
    this.vtableSize = fb.view.getUint16(this.vtable, true);
    this.tableSize = fb.view.getUint16(this.vtable + 2, true);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) {
      throw new ModelFormatError(`${this.where}: corrupt vtable (size ${this.vtableSize})`);
    }
    if (!fb.fits(this.vtable, this.vtableSize)) throw fb.outside(this.vtable, this.vtableSize, `${this.where} (vtable)`);
    if (!fb.fits(pos, this.tableSize)) throw fb.outside(pos, this.tableSize, this.where);
  }

  /** Where the table starts in the file. */
  get pos(): number {
    return this.start;
  }

  /** Where this table is, as error messages name it. */
  get where(): string {
    return typeof this.name === 'string' ? this.name : this.name(this.nameIndex);
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
    return this.start + rel;
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
  private target(id: number, what: TableName, whatIndex: number): number {
    const at = this.field(id, 4);
    if (!at) return 0;
    const to = at + this.fb.view.getUint32(at, true);
    if (!this.fb.fits(to, 4)) {
      throw this.fb.outside(to, 4, `${this.where} ${typeof what === 'string' ? what : what(whatIndex)}`);
    }
    return to;
  }

  /** The table in field `id`, named `where` (a function of `whereIndex`); null when absent. */
  table(id: number, where: TableName, whereIndex = 0): Table | null {
    const to = this.target(id, where, whereIndex);
    return to ? new Table(this.fb, to, where, whereIndex) : null;
  }

  string(id: number, what = `field ${id}`): string | null {
    const to = this.target(id, what, 0);
    if (!to) return null;
    const length = this.fb.view.getUint32(to, true);
    if (!this.fb.fits(to + 4, length)) throw this.fb.outside(to + 4, length, `${this.where} ${what}`);
    return textDecoder.decode(this.fb.bytes.subarray(to + 4, to + 4 + length));
  }

  /**
   * Where the elements of the vector in field `id` start, checked to fit in the file with its `elementSize`-byte
   * elements; 0 when absent (a present vector starts after its length word, never at 0).
   */
  private vector(id: number, elementSize: number, what: string): number {
    const to = this.target(id, what, 0);
    if (!to) return 0;
    const length = this.fb.view.getUint32(to, true);
    if (!this.fb.fits(to + 4, length * elementSize)) {
      throw this.fb.outside(to + 4, length * elementSize, `${this.where} ${what} (vector of ${length})`);
    }
    return to + 4;
  }

  /** The element count of the vector whose elements start at `start`. */
  private lengthOf(start: number): number {
    return this.fb.view.getUint32(start - 4, true);
  }

  /** A vector of tables; `whereOf(i)` names element i in error messages. */
  tables(id: number, what: string, whereOf: (i: number) => string): Table[] {
    const start = this.vector(id, 4, what);
    if (!start) return [];
    const result: Table[] = new Array(this.lengthOf(start));
    for (let i = 0; i < result.length; i++) result[i] = new Table(this.fb, this.element(start, i), whereOf, i);
    return result;
  }

  /**
   * `read(t, i)` of each table i of a vector, as `tables(id, what, whereOf).map(read)` but without an object a
   * table (a model has thousands): `t` is one Table moved from element to element, so `read` must not keep it.
   * Every element is checked before any is read, as with `tables`, so that a corrupt file fails the same way.
   */
  mapTables<T>(id: number, what: string, whereOf: (i: number) => string, read: (t: Table, i: number) => T): T[] {
    const start = this.vector(id, 4, what);
    if (!start) return [];
    const result = new Array<T>(this.lengthOf(start));
    if (result.length === 0) return result;
    const cursor = new Table(this.fb, this.element(start, 0), whereOf, 0);
    for (let i = 1; i < result.length; i++) cursor.moveTo(this.element(start, i), i);
    for (let i = 0; i < result.length; i++) {
      cursor.moveTo(this.element(start, i), i);
      result[i] = read(cursor, i);
    }
    return result;
  }

  /** Position of the table that element i of the table vector at `start` points to. */
  private element(start: number, i: number): number {
    const at = start + 4 * i;
    return at + this.fb.view.getUint32(at, true);
  }

  /** A [ubyte] vector as a zero-copy view into the file. */
  bytes(id: number, what = `field ${id}`): Uint8Array | null {
    const start = this.vector(id, 1, what);
    return start ? this.fb.bytes.subarray(start, start + this.lengthOf(start)) : null;
  }

  int32s(id: number, what = `field ${id}`): number[] | null {
    const start = this.vector(id, 4, what);
    if (!start) return null;
    const out = new Array<number>(this.lengthOf(start));
    for (let i = 0; i < out.length; i++) out[i] = this.fb.view.getInt32(start + 4 * i, true);
    return out;
  }

  /** A [float] vector; where the file's layout allows, a zero-copy view into the file like the byte vectors. */
  float32s(id: number, what = `field ${id}`): Float32Array | null {
    const start = this.vector(id, 4, what);
    if (!start) return null;
    const length = this.lengthOf(start);
    const at = this.fb.bytes.byteOffset + start;
    // Per-channel scales run to thousands a model: view aligned little-endian data as it is.
    if (LITTLE_ENDIAN && at % 4 === 0) return new Float32Array(this.fb.bytes.buffer, at, length);
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = this.fb.view.getFloat32(start + 4 * i, true);
    return out;
  }

  /** A [long] vector as numbers; an all-zero one (the usual zero points) is the shared frozen `zeros(length)`. */
  int64s(id: number, what = `field ${id}`): number[] | null {
    const start = this.vector(id, 8, what);
    if (!start) return null;
    const length = this.lengthOf(start);
    const view = this.fb.view;
    if (this.allZero(start, 8 * length)) return zeros(length);
    const out = new Array<number>(length);
    for (let i = 0; i < length; i++) {
      const at = start + 8 * i;
      // Two int32 halves, without a BigInt per element: a high half within ±(2^21 - 1) keeps the value within
      // ±(2^53 - 1), exact in a double. Others take the BigInt path.
      const high = view.getInt32(at + 4, true);
      if (high > -HIGH_HALF_LIMIT && high < HIGH_HALF_LIMIT) {
        out[i] = high * 2 ** 32 + view.getUint32(at, true);
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

  /** Whether the `byteLength` bytes at `start` (a multiple of 4 long) are all zero. */
  private allZero(start: number, byteLength: number): boolean {
    const words = this.fb.words;
    let any = 0;
    if (words && start % 4 === 0) {
      for (let w = start >> 2, end = (start + byteLength) >> 2; w < end; w++) any |= words[w];
    } else {
      for (let at = start; at < start + byteLength; at += 4) any |= this.fb.view.getInt32(at, true);
    }
    return any === 0;
  }
}
