// SUB: out = in1 - in2 with broadcasting; ADD's arithmetic with the rescaled second input subtracted (see add.ts).
import {
  BuiltinOperator,
  BuiltinOptionsType,
  readActivationOptions,
  type ActivationOptions,
} from '../schema/tflite.js';
import type { OpKernel } from '../src/op.js';
import { evalAddSub, prepareAddSub, type AddSubData } from './add.js';
import { fullShapeInputs } from './broadcast.js';
import { elementwiseKernels } from './wasm/elementwise.js';

export const Sub: OpKernel<ActivationOptions, AddSubData> = {
  name: 'SUB',
  code: BuiltinOperator.SUB,
  optionsType: BuiltinOptionsType.SubOptions,
  parseOptions: readActivationOptions,
  prepare: (node, context) => prepareAddSub(node, 'SUB', context),
  eval: evalAddSub,
  reusableInputs: fullShapeInputs,
  simdKernels: [elementwiseKernels],
};
