// The WebAssembly groundwork: the assembler's encodings (checked by running what it emits), the SIMD memory's
// allocation, shared scratch and views, the sync-compile refusal browsers give, and Interpreter.create's
// ahead-of-time compile.
import { describe, expect, it } from 'vitest';
import { allOps } from '../../src/all-ops.js';
import { UnsupportedFeatureError } from '../../src/errors.js';
import { Interpreter } from '../../src/interpreter.js';
import { ModuleBuilder } from '../../src/wasm/assembler.js';
import { SimdMemory, type WasmKernelModule } from '../../src/wasm/runtime.js';
import { goldenInputs, readModelBytes } from '../helpers/shared.js';

function instantiate(emit: (m: ModuleBuilder) => void): Record<string, (...args: number[]) => unknown> {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const m = new ModuleBuilder();
  emit(m);
  return new WebAssembly.Instance(new WebAssembly.Module(m.build()), { env: { memory } }).exports as never;
}

describe('assembler', () => {
  it('encodes signed constants at the LEB128 edges', () => {
    const values = [0, 1, -1, 63, 64, -64, -65, 8191, -8192, 2147483647, -2147483648];
    const exports = instantiate((m) => values.forEach((v, i) => m.addFunction(`c${i}`, [], ['i32'], (f) => f.i32(v))));
    expect(values.map((_, i) => exports[`c${i}`]())).toEqual(values);
    const big = [2n ** 63n - 1n, -(2n ** 63n), 2n ** 32n, -(2n ** 40n) + 3n];
    const wide = instantiate((m) => big.forEach((v, i) => m.addFunction(`c${i}`, [], ['i64'], (f) => f.i64(v))));
    expect(big.map((_, i) => wide[`c${i}`]())).toEqual(big);
  });

  it('runs a counted loop and SIMD lanes', () => {
    const exports = instantiate((m) =>
      m.addFunction('sum', ['i32'], ['i32'], (f) => {
        const [n] = f.params;
        const i = f.local('i32');
        const total = f.local('i32');
        f.forLoop(i, () => f.i32(0), () => f.get(n), 3, () => f.get(total).get(i).op('i32.add').set(total));
        // + lane 2 of i32x4.splat(total) · (1, 2, 3, 4) = 3 · total, so the result is 4 · total.
        f.get(total).op('i32x4.splat').v128(new Uint8Array(Int32Array.of(1, 2, 3, 4).buffer)).op('i32x4.mul').lane('i32x4.extract_lane', 2);
        f.get(total).op('i32.add');
      }),
    );
    // 0 + 3 + 6 + 9 = 18, times 4; an empty loop gives 0.
    expect(exports.sum(10)).toBe(72);
    expect(exports.sum(0)).toBe(0);
  });

  it('refuses a function defined twice', () => {
    const m = new ModuleBuilder();
    m.addFunction('f', [], [], () => undefined);
    expect(() => m.addFunction('f', [], [], () => undefined)).toThrow('function f is defined twice');
  });
});

describe('SIMD memory', () => {
  it('aligns, places, and refuses allocation once frozen', () => {
    const simd = new SimdMemory(1 << 20);
    expect(simd.alloc(3)).toBe(0);
    const at = simd.place(Int32Array.of(7, -8));
    expect(at).toBe(16);
    expect(Array.from(new Int32Array(simd.memory.buffer, at, 2))).toEqual([7, -8]);
    simd.freeze();
    expect(() => simd.alloc(1)).toThrow('no allocation after the arena is placed');
  });

  it('shares one scratch region per kind, placed at its largest size when frozen', () => {
    const simd = new SimdMemory(1 << 20);
    const kind: WasmKernelModule = { name: 'a', emit: () => undefined };
    const other: WasmKernelModule = { name: 'b', emit: () => undefined };
    const small = simd.scratch(kind, 100);
    expect(simd.scratch(kind, 3000)).toBe(small);
    simd.scratch(kind, 40);
    const b = simd.scratch(other, 16);
    expect(small.address).toBe(-1);
    const placed = simd.alloc(10);
    simd.freeze();
    expect(small.bytes).toBe(3000);
    expect(small.address).toBeGreaterThan(placed);
    expect(b.address).toBeGreaterThanOrEqual(small.address + 3000);
    expect(small.address % 16 + b.address % 16).toBe(0);
    expect(simd.usedBytes).toBe(b.address + 16);
    expect(() => simd.scratch(kind, 1)).toThrow('scratch asked for after it was placed');
  });

  it('gives views of the whole memory, made again when it grows', () => {
    const simd = new SimdMemory(65536);
    const words = simd.int32s();
    expect(simd.int32s() === words).toBe(true);
    const at = simd.alloc(100000);
    expect(simd.int32s() === words).toBe(false);
    simd.int32s()[at / 4] = -7;
    expect(simd.int16s()[at / 2]).toBe(-7);
    expect(simd.bytes()[at]).toBe(0xf9);
  });

  it('grows past its reservation when it must', () => {
    const simd = new SimdMemory(65536);
    simd.alloc(200000);
    expect(simd.memory.buffer.byteLength).toBeGreaterThanOrEqual(200000);
  });

  it("names Interpreter.create when the host refuses a synchronous compile, as browsers' main threads do", () => {
    const kernels: WasmKernelModule = { name: 'ops/wasm/example.ts', emit: (m) => m.addFunction('nothing', [], [], () => undefined) };
    const original = WebAssembly.Module;
    (WebAssembly as { Module: unknown }).Module = function refuse() {
      throw new RangeError('WebAssembly.Compile is disallowed on the main thread, if the buffer size is larger than 4KB');
    };
    try {
      expect(() => new SimdMemory().exports(kernels)).toThrow(UnsupportedFeatureError);
      expect(() => new SimdMemory().exports(kernels)).toThrow(/ops\/wasm\/example.ts: .*await Interpreter.create/);
    } finally {
      (WebAssembly as { Module: unknown }).Module = original;
    }
  });
});

describe('Interpreter.create', () => {
  it('compiles ahead and runs as new Interpreter does', async () => {
    const model = 'v3-small_224_1.0_uint8.tflite';
    const run = (interpreter: Interpreter) => {
      goldenInputs(model).forEach((bytes, k) => interpreter.setInputBytes(k, bytes));
      interpreter.invoke();
      return Buffer.from(interpreter.output(0).bytes).toString('hex');
    };
    const created = await Interpreter.create(readModelBytes(model), { resolver: allOps(), kernels: 'simd' });
    expect(created.kernels).toBe('simd');
    expect(run(created)).toBe(run(new Interpreter(readModelBytes(model), { resolver: allOps(), kernels: 'reference' })));
  });
});
