// AVERAGE_POOL_2D and MAX_POOL_2D over NHWC tensors.
//
// int8 follows TFLM (micro/kernels/pooling_common.cc, reference/integer_ops/pooling.h); uint8 follows TFLite's
// built-in kernel (kernels/pooling.cc → optimized_ops AveragePool/MaxPool for uint8), which TFLM does not run.
// The two agree on the arithmetic: the average is the sum of the in-bounds taps divided by their count,
// rounded half away from zero ((sum ± count/2) / count with C++'s truncating division); padding taps are
// neither summed nor counted.
import { BuiltinOperator, BuiltinOptionsType, readPool2DOptions, type Pool2DOptions } from '../schema/tflite.js';
import { check, checkArity, input, output, type Node, type OpKernel } from '../src/op.js';
import { windowGeometry } from '../src/padding.js';
import { typeRange } from '../src/quant.js';
import { floatActivationRange, quantizedActivationRange } from './fused-activation.js';

/** std::numeric_limits<float>::lowest(), the float max-pool's starting value. */
const FLOAT_LOWEST = -3.4028234663852886e38;

export interface PoolData {
  readonly average: boolean;
  /** int8/uint8 round the average as integers; float32 divides in float. */
  readonly quantized: boolean;
  readonly batches: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly depth: number;
  /** Per output row / column: the in-bounds input rows / columns [start, end) its window covers. */
  readonly rowStart: Int32Array;
  readonly rowEnd: Int32Array;
  readonly colStart: Int32Array;
  readonly colEnd: Int32Array;
  readonly activationMin: number;
  readonly activationMax: number;
  /** Where a max starts: the type's lowest value, as the C++ does. */
  readonly maxInit: number;
  /** One running sum or max per channel, for the output pixel being computed. */
  readonly accumulator: Int32Array | Float32Array;
}

type PoolTensorData = Int8Array | Uint8Array | Float32Array;

function preparePool(node: Node<Pool2DOptions>, average: boolean): PoolData {
  checkArity(node, 1, 1);
  const x = input(node, 0);
  const y = output(node, 0);
  const { padding, strideH, strideW, filterHeight, filterWidth, activation } = node.options;
  check(
    x.dtype === 'int8' || x.dtype === 'uint8' || x.dtype === 'float32',
    `input is ${x.dtype}; expected int8, uint8 or float32`,
  );
  check(y.dtype === x.dtype, `output is ${y.dtype}, input is ${x.dtype}`);
  check(x.shape.length === 4, `input must be 4-D (NHWC), is ${x.describe()}`);
  check(strideH > 0 && strideW > 0, `strides must be positive, are ${strideH}x${strideW}`);
  check(filterHeight > 0 && filterWidth > 0, `filter size must be positive, is ${filterHeight}x${filterWidth}`);

  const [batches, inHeight, inWidth, depth] = x.shape;
  const g = windowGeometry(padding, inHeight, inWidth, filterHeight, filterWidth, strideH, strideW);
  const expected = [batches, g.outHeight, g.outWidth, depth];
  check(
    y.shape.length === 4 && expected.every((d, i) => y.shape[i] === d),
    () => `output is ${y.describe()}, expected [${expected.join(',')}]`,
  );

  const quantized = x.dtype !== 'float32';
  if (x.dtype === 'int8') {
    // TFLM rejects int8 pooling that would need requantization; TFLite's uint8 kernel only DCHECKs it and
    // simply ignores the output's quantization, so uint8 is not checked here either.
    check(
      Math.abs(x.scale - y.scale) <= 1e-6 && x.zeroPoint === y.zeroPoint,
      () =>
        `input and output quantization must match: scale ${x.scale} vs ${y.scale}, ` +
        `zero point ${x.zeroPoint} vs ${y.zeroPoint}`,
    );
  }
  const range = quantized ? quantizedActivationRange(activation, y) : floatActivationRange(activation);

  const rows = windowBounds(g.outHeight, strideH, g.padTop, filterHeight, inHeight);
  const cols = windowBounds(g.outWidth, strideW, g.padLeft, filterWidth, inWidth);
  return {
    average,
    quantized,
    batches,
    inHeight,
    inWidth,
    depth,
    rowStart: rows.start,
    rowEnd: rows.end,
    colStart: cols.start,
    colEnd: cols.end,
    activationMin: range.min,
    activationMax: range.max,
    maxInit: quantized ? typeRange(x.dtype as 'int8' | 'uint8').min : FLOAT_LOWEST,
    accumulator: quantized ? new Int32Array(depth) : new Float32Array(depth),
  };
}

/** For each output position along one axis, the input range its window covers once clamped to the input. */
function windowBounds(
  outSize: number,
  stride: number,
  padBefore: number,
  filterSize: number,
  inSize: number,
): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(outSize);
  const end = new Int32Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const origin = o * stride - padBefore;
    start[o] = Math.max(0, origin);
    end[o] = Math.min(inSize, origin + filterSize);
    // TFLM's AveragePool fails when a window holds no input tap; catch it here rather than at eval.
    check(end[o] > start[o], `window ${o} lies entirely in the padding`);
  }
  return { start, end };
}

function pool(d: PoolData, x: PoolTensorData, y: PoolTensorData): void {
  const { average, quantized, inHeight, inWidth, depth, accumulator: acc, activationMin: lo, activationMax: hi } = d;
  const outHeight = d.rowStart.length;
  const outWidth = d.colStart.length;
  let o = 0;
  for (let b = 0; b < d.batches; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = d.rowStart[oy];
      const y1 = d.rowEnd[oy];
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = d.colStart[ox];
        const x1 = d.colEnd[ox];
        acc.fill(average ? 0 : d.maxInit);
        for (let iy = y0; iy < y1; iy++) {
          let i = ((b * inHeight + iy) * inWidth + x0) * depth;
          for (let ix = x0; ix < x1; ix++, i += depth) {
            if (average) {
              for (let c = 0; c < depth; c++) acc[c] += x[i + c];
            } else {
              for (let c = 0; c < depth; c++) if (x[i + c] > acc[c]) acc[c] = x[i + c];
            }
          }
        }
        const count = (y1 - y0) * (x1 - x0);
        const half = count >> 1;
        for (let c = 0; c < depth; c++) {
          const s = acc[c];
          let v = s;
          if (average) v = quantized ? ((s > 0 ? s + half : s - half) / count) | 0 : Math.fround(s / count);
          // std::min(std::max(v, lo), hi), NaN passing through as in the C++.
          v = v < lo ? lo : v;
          y[o++] = hi < v ? hi : v;
        }
      }
    }
  }
}

function poolKernel(name: string, code: number, average: boolean): OpKernel<Pool2DOptions, PoolData> {
  return {
    name,
    code,
    optionsType: BuiltinOptionsType.Pool2DOptions,
    parseOptions: readPool2DOptions,
    prepare: (node) => preparePool(node, average),
    eval: (node, data) => pool(data, node.inputs[0]!.data as PoolTensorData, node.outputs[0].data as PoolTensorData),
  };
}

export const AveragePool2D = poolKernel('AVERAGE_POOL_2D', BuiltinOperator.AVERAGE_POOL_2D, true);
export const MaxPool2D = poolKernel('MAX_POOL_2D', BuiltinOperator.MAX_POOL_2D, false);
