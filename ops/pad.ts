// PAD: surrounds the input with a constant, per dimension before and after, as [rank, 2] constant paddings say.
//
// The constant is the output's zero point for int8 (TFLM micro/kernels/pad.cc) and uint8 (TFLite
// kernels/pad.cc), i.e. real 0.0, and 0 for the other types. Each is one byte repeated, so the kernel works
// on raw bytes: fill the output with that byte, then copy the input's innermost rows into place.
import { BuiltinOperator } from '../schema/tflite.js';
import { check, checkArity, input, output, type Node, type OpKernel, type SpatialPadding } from '../src/op.js';
import { constantInts, ELEMENT_SIZE } from '../src/tensor.js';
import { typeRange } from '../src/quant.js';

/** Shapes are viewed as 6-D (leading 1s); TFLM stops at 5-D. */
const MAX_RANK = 6;
const PADDABLE = ['int8', 'uint8', 'int16', 'int32', 'int64', 'float32'];

export interface PadData {
  readonly padByte: number;
  /** Input dims, left-padded with 1s to MAX_RANK. */
  readonly inDims: Int32Array;
  /** Output byte strides of each dim. */
  readonly outStrides: Int32Array;
  /** Byte offset in the output of the input's first element. */
  readonly origin: number;
  /** Bytes in one innermost input row. */
  readonly rowBytes: number;
}

function preparePad(node: Node<void>): PadData {
  checkArity(node, 2, 1);
  const x = input(node, 0);
  const paddings = input(node, 1);
  const y = output(node, 0);
  check(PADDABLE.includes(x.dtype), () => `input is ${x.dtype}; expected one of ${PADDABLE.join(', ')}`);
  check(y.dtype === x.dtype, `output is ${y.dtype}, input is ${x.dtype}`);
  const rank = x.shape.length;
  check(rank <= MAX_RANK, `input has ${rank} dimensions; at most ${MAX_RANK} are supported`);
  check(
    paddings.dtype === 'int32' || paddings.dtype === 'int64',
    `paddings are ${paddings.dtype}, expected int32 or int64`,
  );
  check(paddings.isConstant, 'paddings must be a constant tensor');
  check(
    paddings.shape.length === 2 && paddings.shape[0] === rank && paddings.shape[1] === 2,
    () => `paddings are ${paddings.describe()}, expected [${rank},2]`,
  );
  const pads = constantInts(paddings);
  check(pads.every((p) => p >= 0), () => `paddings must not be negative, are [${pads.join(',')}]`);
  const expected = x.shape.map((d, i) => pads[2 * i] + d + pads[2 * i + 1]);
  check(
    y.shape.length === rank && expected.every((d, i) => y.shape[i] === d),
    () => `output is ${y.describe()}, expected [${expected.join(',')}]`,
  );

  let padByte = 0;
  if (x.dtype === 'int8' || x.dtype === 'uint8') {
    const { min, max } = typeRange(x.dtype);
    check(y.zeroPoint >= min && y.zeroPoint <= max, `output zero point ${y.zeroPoint} is outside the ${x.dtype} range`);
    padByte = y.zeroPoint & 0xff;
  }

  const elementSize = ELEMENT_SIZE[x.dtype]!;
  const inDims = new Int32Array(MAX_RANK).fill(1);
  const outStrides = new Int32Array(MAX_RANK);
  let origin = 0;
  let stride = elementSize;
  for (let i = MAX_RANK - 1; i >= 0; i--) {
    const at = i - (MAX_RANK - rank);
    outStrides[i] = stride;
    if (at >= 0) {
      inDims[i] = x.shape[at];
      origin += pads[2 * at] * stride;
      stride *= y.shape[at];
    }
  }
  return { padByte, inDims, outStrides, origin, rowBytes: inDims[MAX_RANK - 1] * elementSize };
}

function pad(d: PadData, x: Uint8Array, y: Uint8Array): void {
  const { inDims: n, outStrides: s, rowBytes } = d;
  y.fill(d.padByte);
  let from = 0;
  for (let a0 = 0; a0 < n[0]; a0++) {
    const o0 = d.origin + a0 * s[0];
    for (let a1 = 0; a1 < n[1]; a1++) {
      const o1 = o0 + a1 * s[1];
      for (let a2 = 0; a2 < n[2]; a2++) {
        const o2 = o1 + a2 * s[2];
        for (let a3 = 0; a3 < n[3]; a3++) {
          const o3 = o2 + a3 * s[3];
          for (let a4 = 0; a4 < n[4]; a4++) {
            const to = o3 + a4 * s[4];
            for (let k = 0; k < rowBytes; k++) y[to + k] = x[from++];
          }
        }
      }
    }
  }
}

/**
 * OpKernel.implicitPadding: a quantized 4-D PAD of height and width only, whose padding value is the output
 * zero point, the value a convolution reading the output counts as nothing (conv-common.ts foldWindowPadding).
 */
function implicitPadding(node: Node<void>): SpatialPadding | null {
  const x = node.inputs[0]!;
  if (x.shape.length !== 4 || (x.dtype !== 'int8' && x.dtype !== 'uint8')) return null;
  const [batchBefore, batchAfter, top, bottom, left, right, channelsBefore, channelsAfter] = constantInts(node.inputs[1]!);
  if (batchBefore !== 0 || batchAfter !== 0 || channelsBefore !== 0 || channelsAfter !== 0) return null;
  return { top, bottom, left, right };
}

export const Pad: OpKernel<void, PadData> = {
  name: 'PAD',
  code: BuiltinOperator.PAD,
  parseOptions: () => undefined,
  prepare: preparePad,
  eval: (node, data) => pad(data, node.inputs[0]!.bytes, node.outputs[0].bytes),
  implicitPadding,
};
