// Output size and padding of a sliding window (conv, depthwise, pooling), as TFLM's padding.h computes them.
import { Padding } from '../schema/tflite.js';

export interface WindowGeometry {
  outHeight: number;
  outWidth: number;
  /** Rows/columns of padding before the input (TFLite puts the odd extra one after). */
  padTop: number;
  padLeft: number;
}

/** ComputeOutSize: 0 for a zero stride or an unknown padding, so the caller's shape check fails cleanly. */
export function windowOutSize(padding: number, inSize: number, filterSize: number, stride: number, dilation: number): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  if (stride <= 0) return 0;
  if (padding === Padding.SAME) return Math.trunc((inSize + stride - 1) / stride);
  if (padding === Padding.VALID) return Math.trunc((inSize + stride - effectiveFilter) / stride);
  return 0;
}

/** ComputePadding: half the total padding, rounded down, never negative. */
export function windowPadding(stride: number, dilation: number, inSize: number, filterSize: number, outSize: number): number {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  const padding = Math.trunc(((outSize - 1) * stride + effectiveFilter - inSize) / 2);
  return padding > 0 ? padding : 0;
}

export function windowGeometry(
  padding: number,
  inHeight: number,
  inWidth: number,
  filterHeight: number,
  filterWidth: number,
  strideH: number,
  strideW: number,
  dilationH = 1,
  dilationW = 1,
): WindowGeometry {
  const outHeight = windowOutSize(padding, inHeight, filterHeight, strideH, dilationH);
  const outWidth = windowOutSize(padding, inWidth, filterWidth, strideW, dilationW);
  return {
    outHeight,
    outWidth,
    padTop: windowPadding(strideH, dilationH, inHeight, filterHeight, outHeight),
    padLeft: windowPadding(strideW, dilationW, inWidth, filterWidth, outWidth),
  };
}
