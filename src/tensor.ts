// The runtime tensor: shape, type, quantization, and a typed view of its bytes, which live either in the
// model (constants, never copied unless misaligned) or in the interpreter's one arena (everything else).
import type { DType } from '../schema/tflite.js';
import { TfliteInt8Error } from './errors.js';

export type { DType };

export type TensorData = Int8Array | Uint8Array | Int16Array | Int32Array | Float32Array | BigInt64Array;

/** Bytes per element of the dtypes we can hold; undefined for types we cannot (string, int4, ...). */
export const ELEMENT_SIZE: Partial<Record<DType, number>> = {
  float32: 4, int32: 4, uint8: 1, int64: 8, bool: 1, int16: 2, int8: 1, float16: 2, uint32: 4, uint16: 2,
  float64: 8, uint64: 8,
};

/** Per-tensor quantization has one scale and zero point; per-channel has one per slice of quantizedDimension. */
export interface Quantization {
  scale: Float32Array;
  zeroPoint: number[];
  quantizedDimension: number;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes a tensor of this type and shape holds; 0 for types we cannot hold. */
export function byteSize(t: { dtype: DType; shape: readonly number[] }): number {
  return elementCount(t.shape) * (ELEMENT_SIZE[t.dtype] ?? 0);
}

/** What every tensor holds until it is placed: one shared empty view, not two new ones a tensor. */
const NO_BYTES = new Uint8Array(0);

export class Tensor {
  /** Raw bytes of this tensor; a view into the model or the arena once the interpreter has placed it. */
  bytes: Uint8Array = NO_BYTES;
  /** The same bytes as a typed array of the tensor's element type. */
  data: TensorData = NO_BYTES;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: readonly number[],
    readonly quantization: Quantization | null,
    readonly isConstant: boolean,
  ) {}

  get size(): number {
    return elementCount(this.shape);
  }

  get byteLength(): number {
    return byteSize(this);
  }

  /** Per-tensor scale (the first one for per-channel tensors); 0 when unquantized. */
  get scale(): number {
    return this.quantization && this.quantization.scale.length > 0 ? this.quantization.scale[0] : 0;
  }

  get zeroPoint(): number {
    return this.quantization && this.quantization.zeroPoint.length > 0 ? this.quantization.zeroPoint[0] : 0;
  }

  /** Points this tensor at `bytes`, which must hold exactly byteLength bytes aligned for the element type. */
  setBytes(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.data = typedView(this.dtype, bytes);
  }

  int8(): Int8Array {
    return this.expect(Int8Array);
  }
  uint8(): Uint8Array {
    return this.expect(Uint8Array);
  }
  int16(): Int16Array {
    return this.expect(Int16Array);
  }
  int32(): Int32Array {
    return this.expect(Int32Array);
  }
  float32(): Float32Array {
    return this.expect(Float32Array);
  }
  int64(): BigInt64Array {
    return this.expect(BigInt64Array);
  }

  private expect<T extends TensorData>(kind: new (...args: never[]) => T): T {
    if (!(this.data instanceof kind)) {
      throw new TfliteInt8Error(`tensor ${this.index} (${this.name}) is ${this.dtype}, read as ${kind.name}`);
    }
    return this.data;
  }

  describe(): string {
    return `${this.dtype}[${this.shape.join(',')}]`;
  }
}

export function typedView(dtype: DType, bytes: Uint8Array): TensorData {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'int8':
      return new Int8Array(buffer, byteOffset, byteLength);
    case 'uint8':
    case 'bool':
      return bytes;
    case 'int16':
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'int32':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'float32':
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    default:
      return bytes;
  }
}

/** Values of a small constant int32 or int64 tensor (shapes, axes, paddings) as numbers. */
export function constantInts(t: Tensor): number[] {
  if (t.dtype === 'int32') return Array.from(t.int32());
  if (t.dtype === 'int64') return Array.from(t.int64(), (v) => Number(v));
  throw new TfliteInt8Error(`tensor ${t.index} (${t.name}) is ${t.dtype}, expected int32 or int64`);
}
