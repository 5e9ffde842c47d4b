// The op resolver, in the image of TFLM's MicroMutableOpResolver: the application adds exactly the kernels it
// needs (`new OpResolver().add(Conv2D).add(Softmax)`), so a bundler keeps only those. `allOps()` in
// all-ops.ts is the ready-made one holding every kernel we have.
import { BuiltinOperator, builtinOperatorName } from '../schema/tflite.js';
import type { OpKernel } from './op.js';

export class OpResolver {
  private readonly builtins = new Map<number, OpKernel>();
  private readonly customs = new Map<string, OpKernel>();

  /** Adds a builtin kernel. Adding a second kernel for the same op replaces the first. */
  add<O, D>(kernel: OpKernel<O, D>): this {
    this.builtins.set(kernel.code, kernel as OpKernel);
    return this;
  }

  /** Adds a kernel for a CUSTOM op, found by its custom_code name. */
  addCustom<O, D>(customName: string, kernel: OpKernel<O, D>): this {
    this.customs.set(customName, kernel as OpKernel);
    return this;
  }

  find(code: number, customCode: string | null): OpKernel | undefined {
    if (code === BuiltinOperator.CUSTOM) return customCode === null ? undefined : this.customs.get(customCode);
    return this.builtins.get(code);
  }

  /** Names of every op this resolver can run, builtins first. */
  names(): string[] {
    return [...[...this.builtins.keys()].sort((a, b) => a - b).map(builtinOperatorName), ...this.customs.keys()];
  }
}
