// The ready-made resolver holding every kernel tflite-int8 has (TFLM's AllOpsResolver).
import * as kernels from './kernels.js';
import type { OpKernel } from './op.js';
import { OpResolver } from './resolver.js';

export function allOps(): OpResolver {
  const resolver = new OpResolver();
  for (const kernel of Object.values(kernels)) resolver.add(kernel as OpKernel);
  return resolver;
}
