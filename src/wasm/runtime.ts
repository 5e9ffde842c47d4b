// The WebAssembly SIMD tier's memory and modules. One interpreter owns one WebAssembly.Memory: prepare places each
// SIMD kernel's packed weights and tables there, then the interpreter places its arena there too, so kernels read
// and write tensors by byte address with no copy. Each kernel file (ops/wasm/) emits its own small module, compiled
// once per process and instantiated once per memory.
//
// WebAssembly memory can only grow, and growing detaches every view of the old buffer: so prepare records byte
// addresses, never views, and the interpreter freezes the memory before it makes the tensors' views. Growing is
// also slow for everyone: V8 compiles typed-array accesses without detach checks only until the first
// ArrayBuffer of the process is detached, and every JS kernel then runs ~12% slower (measured on MobileNet v2). So
// the memory starts at an upper bound of what the interpreter will place (the pages are only reserved: the OS
// backs what is touched) and grows only if that bound was wrong.
import { UnsupportedFeatureError } from '../errors.js';
import { ModuleBuilder } from './assembler.js';

/** A module of SIMD kernels: its functions, emitted on first use. */
export interface WasmKernelModule {
  /** For errors: which kernel file this is. */
  readonly name: string;
  emit(module: ModuleBuilder): void;
}

const PAGE = 65536;
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

/** One interpreter's WebAssembly memory, its allocations, and its kernel instances. */
export class SimdMemory {
  readonly memory: WebAssembly.Memory;
  private top = 0;
  private frozen = false;
  private readonly instances = new Map<WasmKernelModule, WebAssembly.Exports>();

  /** A memory of `reserveBytes` (at least one page), which `alloc` grows past only when it must. */
  constructor(reserveBytes = PAGE) {
    const pages = Math.max(1, Math.ceil(Math.min(reserveBytes, MAX_BYTES) / PAGE));
    this.memory = new WebAssembly.Memory({ initial: pages });
  }

  /** Reserves `bytes` at an `align`-byte boundary, growing the memory; returns the byte address. */
  alloc(bytes: number, align = 16): number {
    if (this.frozen) throw new Error('SimdMemory: no allocation after the arena is placed');
    const address = Math.ceil(this.top / align) * align;
    const end = address + bytes;
    if (end > MAX_BYTES) throw new RangeError(`WebAssembly memory cannot hold ${end} bytes (the limit is 4 GiB)`);
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    return address;
  }

  /** Copies `data` into fresh memory and returns its byte address. */
  place(data: ArrayBufferView, align = 16): number {
    const address = this.alloc(data.byteLength, align);
    this.bytes().set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), address);
    return address;
  }

  /** The whole memory as bytes, as it is now (a later alloc may detach it). */
  bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  /** Bytes in use. */
  get usedBytes(): number {
    return this.top;
  }

  /** Ends allocation: views of the memory stay valid from now on. */
  freeze(): void {
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
