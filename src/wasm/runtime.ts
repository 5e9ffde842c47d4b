// The WebAssembly SIMD tier's memory and modules. One interpreter owns one WebAssembly.Memory: prepare places each
// SIMD kernel's packed weights and tables there, then the interpreter places its arena there too, so kernels read
// and write tensors by byte address with no copy. Each kernel file (ops/wasm/) emits its own small module, compiled
// once per process and instantiated once per memory.
//
// WebAssembly memory can only grow, and growing detaches every view of the old buffer: so prepare records byte
// addresses, never views, and the interpreter freezes the memory before it makes the tensors' views. Growing is
// also slow for everyone: V8 compiles typed-array accesses without detach checks only until the first
// ArrayBuffer of the process is detached, and every JS kernel then runs ~12% slower (measured on MobileNet v2). So
// the memory starts at an upper bound of what the interpreter will place, which kernel files help compute
// (WasmKernelModule.memoryBound), and grows only if that bound was wrong. The bound should be tight: V8 counts the
// whole reservation as external memory, and each load's reservation brings the next garbage collection closer.
//
// Fresh memory is slow too, once: every page costs a page fault when first touched, ~0.6 ms per MB measured here
// (a Firecracker VM, whose host faults as well), which is most of a MobileNet's prepare (tf2_mobilenet_v2 writes
// 4.3 MB of constants). So Interpreter.dispose releases its memory, zeroed, for the next SimdMemory to take, with
// the kernel instances already made on it (takeSpare, release).
//
// Scratch memory that a kernel needs only during one call (converted rows, patches) is shared by all layers of a
// kind (scratch): their calls never overlap, so one region sized for the largest serves them all, and the memory
// holds, and the OS backs, one layer's scratch instead of every layer's.
import { UnsupportedFeatureError } from '../errors.js';
import type { ModelOperator, ModelTensor } from '../model.js';
import { ModuleBuilder } from './assembler.js';

/** A module of SIMD kernels: its functions, emitted on first use. */
export interface WasmKernelModule {
  /** For errors: which kernel file this is. */
  readonly name: string;
  emit(module: ModuleBuilder): void;
  /**
   * At most what preparing `op` places in SIMD memory with this file's kernels: `placed` bytes of its own, and
   * `scratch`, its request for the kernel's shared scratch (SimdMemory.scratch). Without it, an operator is
   * counted as placing at most DEFAULT_OPERATOR_BYTES.
   */
  memoryBound?(op: ModelOperator, tensors: readonly ModelTensor[]): MemoryBound;
}

export interface MemoryBound {
  placed: number;
  scratch: number;
}

/** What an operator whose kernel files give no memoryBound may place, at most (a few small tables). */
export const DEFAULT_OPERATOR_BYTES = 4096;

/** The bytes `alloc(bytes)` may take, alignment included. */
export function allocBound(bytes: number): number {
  return bytes + ALIGN - 1;
}

const PAGE = 65536;
/** alloc's default alignment: a v128. */
const ALIGN = 16;
/** The memory limit of 32-bit WebAssembly (the maximum page count is 2^16). */
const MAX_BYTES = 2 ** 32;

let simdSupport: boolean | undefined;

/** Whether this host runs WebAssembly with 128-bit SIMD (Node ≥ 16.4, current browsers). */
export function hostSupportsSimd(): boolean {
  if (simdSupport === undefined) {
    simdSupport = false;
    try {
      // A function returning i32x4.splat(0) dropped: valid only where SIMD128 is.
      const m = new ModuleBuilder();
      m.addFunction('probe', [], [], (f) => f.i32(0).op('i32x4.splat', 'drop'));
      simdSupport = typeof WebAssembly === 'object' && WebAssembly.validate(m.build());
    } catch {
      simdSupport = false;
    }
  }
  return simdSupport;
}

const compiled = new Map<WasmKernelModule, WebAssembly.Module>();

function bytesOf(kernels: WasmKernelModule): Uint8Array<ArrayBuffer> {
  const builder = new ModuleBuilder();
  kernels.emit(builder);
  return builder.build();
}

/** The compiled module, compiling it now if no compileKernelModules did. */
function compile(kernels: WasmKernelModule): WebAssembly.Module {
  let module = compiled.get(kernels);
  if (!module) {
    try {
      module = new WebAssembly.Module(bytesOf(kernels));
    } catch (e) {
      // Browsers refuse to compile a module over 4 KB synchronously on the main thread.
      if (e instanceof RangeError) {
        throw new UnsupportedFeatureError(
          `${kernels.name}: this host will not compile WebAssembly synchronously here (${e.message}); ` +
            "load with await Interpreter.create(...), which compiles first, or use kernels: 'js'",
        );
      }
      throw e;
    }
    compiled.set(kernels, module);
  }
  return module;
}

/** Compiles kernel modules asynchronously, as browsers require on their main thread, for later instantiation. */
export async function compileKernelModules(modules: Iterable<WasmKernelModule>): Promise<void> {
  for (const kernels of new Set(modules)) {
    if (!compiled.has(kernels)) compiled.set(kernels, await WebAssembly.compile(bytesOf(kernels)));
  }
}

/**
 * Compiles kernel modules now, where compileKernelModules did not: a host that refuses (a browser's main thread)
 * throws UnsupportedFeatureError naming Interpreter.create, before any operator is prepared.
 */
export function compileKernelModulesNow(modules: Iterable<WasmKernelModule>): void {
  for (const kernels of new Set(modules)) compile(kernels);
}

/**
 * Scratch memory shared by every layer of one kind (SimdMemory.scratch). Placed when the memory is frozen, at the
 * largest size asked for; a layer's call may use it from then on, and must expect anything there when it starts.
 */
export class SharedScratch {
  /** The byte address once placed, else -1. */
  address = -1;
  /** The largest size asked for. */
  bytes = 0;
  /**
   * For a kernel that keeps data here from one call to the next (depthwise's converted rows): the layer whose data
   * it is. A layer that finds another owner must forget what it left here.
   */
  owner: unknown = null;
}

/** A memory and the kernel instances made on it: what a released SimdMemory leaves for the next. */
interface Backing {
  memory: WebAssembly.Memory;
  instances: Map<WasmKernelModule, WebAssembly.Exports>;
}

/**
 * Released memories, all zero, oldest first; at most SPARE_LIMIT_BYTES of them (a few MobileNets' worth), the oldest
 * dropped first. freeSpareMemory drops them all, for the garbage collector to return to the system.
 */
const spares: Backing[] = [];
const SPARE_LIMIT_BYTES = 64 * 2 ** 20;

/** The smallest spare memory of at least `bytes`, taken out of the spares; null if none is that large. */
function takeSpare(bytes: number): Backing | null {
  let best = -1;
  for (let i = 0; i < spares.length; i++) {
    const length = spares[i].memory.buffer.byteLength;
    if (length >= bytes && (best < 0 || length < spares[best].memory.buffer.byteLength)) best = i;
  }
  return best < 0 ? null : spares.splice(best, 1)[0];
}

/** Bytes held by spare memories now: for tests and reports. */
export function spareMemoryBytes(): number {
  return spares.reduce((sum, b) => sum + b.memory.buffer.byteLength, 0);
}

/**
 * Drops the memories disposed interpreters left for later loads (Interpreter.dispose), so that the garbage collector
 * can return them to the system; returns their bytes. For a program done loading models.
 */
export function freeSpareMemory(): number {
  const bytes = spareMemoryBytes();
  spares.length = 0;
  return bytes;
}

/** One interpreter's WebAssembly memory, its allocations, and its kernel instances. */
export class SimdMemory {
  readonly memory: WebAssembly.Memory;
  private top = 0;
  private frozen = false;
  private released = false;
  private readonly instances: Map<WasmKernelModule, WebAssembly.Exports>;
  private readonly scratches = new Map<WasmKernelModule, SharedScratch>();
  private scratchPlaced = false;
  /** Views of the whole memory, made again only when growing replaced the buffer. */
  private viewed: ArrayBuffer | null = null;
  private byteView = new Uint8Array(0);
  private int16View = new Int16Array(0);
  private int32View = new Int32Array(0);

  /**
   * A memory of `reserveBytes` at least (one page at least), which `alloc` grows past only when it must: a
   * released one if one is large enough, else a fresh one. Either is all zero.
   */
  constructor(reserveBytes = PAGE) {
    const pages = Math.max(1, Math.ceil(Math.min(reserveBytes, MAX_BYTES) / PAGE));
    const spare = takeSpare(pages * PAGE);
    this.memory = spare?.memory ?? new WebAssembly.Memory({ initial: pages });
    this.instances = spare?.instances ?? new Map();
  }

  /**
   * Ends this memory's use and keeps it, zeroed where it was used, for the next SimdMemory: the caller promises
   * that nothing reads or writes it through this object or its views again.
   */
  release(): void {
    if (this.released) return;
    this.released = true;
    new Uint8Array(this.memory.buffer, 0, this.top).fill(0);
    spares.push({ memory: this.memory, instances: this.instances });
    let held = spareMemoryBytes();
    while (held > SPARE_LIMIT_BYTES) held -= spares.shift()!.memory.buffer.byteLength;
  }

  /** Reserves `bytes` at an `align`-byte boundary, growing the memory; returns the byte address. */
  alloc(bytes: number, align = ALIGN): number {
    if (this.frozen || this.released) throw new Error('SimdMemory: no allocation after the arena is placed');
    const address = Math.ceil(this.top / align) * align;
    const end = address + bytes;
    if (end > MAX_BYTES) throw new RangeError(`WebAssembly memory cannot hold ${end} bytes (the limit is 4 GiB)`);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return address;
  }

  /** Copies `data` into fresh memory and returns its byte address. */
  place(data: ArrayBufferView, align = ALIGN): number {
    const address = this.alloc(data.byteLength, align);
    this.bytes().set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), address);
    return address;
  }

  /** The whole memory as bytes, as it is now (a later alloc may detach it). */
  bytes(): Uint8Array {
    this.view();
    return this.byteView;
  }

  /** The whole memory as int16 values (index = byte address / 2), as it is now. */
  int16s(): Int16Array {
    this.view();
    return this.int16View;
  }

  /** The whole memory as int32 values (index = byte address / 4), as it is now. */
  int32s(): Int32Array {
    this.view();
    return this.int32View;
  }

  private view(): void {
    const buffer = this.memory.buffer;
    if (buffer === this.viewed) return;
    this.viewed = buffer;
    this.byteView = new Uint8Array(buffer);
    this.int16View = new Int16Array(buffer);
    this.int32View = new Int32Array(buffer);
  }

  /**
   * The scratch region all layers of `kind` share, to hold at least `bytes` (16-byte aligned): one per kind, its
   * address set when placeScratch places it.
   */
  scratch(kind: WasmKernelModule, bytes: number): SharedScratch {
    if (this.scratchPlaced) throw new Error('SimdMemory: scratch asked for after it was placed');
    let region = this.scratches.get(kind);
    if (!region) {
      region = new SharedScratch();
      this.scratches.set(kind, region);
    }
    region.bytes = Math.max(region.bytes, bytes);
    return region;
  }

  /** Places the scratch regions asked for so far (freeze does, if nobody did before). */
  placeScratch(): void {
    if (this.scratchPlaced) return;
    for (const region of this.scratches.values()) region.address = this.alloc(region.bytes);
    this.scratchPlaced = true;
  }

  /** Bytes in use. */
  get usedBytes(): number {
    return this.top;
  }

  /** Ends allocation, placing the scratch regions if placeScratch did not: views of the memory stay valid from now on. */
  freeze(): void {
    this.placeScratch();
    this.frozen = true;
  }

  /** The functions of `kernels`, instantiated on this memory. */
  exports<T>(kernels: WasmKernelModule): T {
    let instance = this.instances.get(kernels);
    if (!instance) {
      instance = new WebAssembly.Instance(compile(kernels), { env: { memory: this.memory } }).exports;
      this.instances.set(kernels, instance);
    }
    return instance as T;
  }
}
