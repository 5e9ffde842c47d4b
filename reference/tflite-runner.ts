// The real TensorFlow Lite, from npm, run in plain Node: what `compare` and the kernel suite check us against.
//
// LiteRT.js (@litertjs/core 2.5.3, LiteRT's WASM build, its SIMD128 "compat" binary) runs the model. For models it
// cannot load (variable tensors: it logs an error and runs on uninitialized memory) @tensorflow/tfjs-tflite
// 0.0.1-alpha.10, an older TFLite WASM build, takes over. Both are dev dependencies, loaded on first use, as is the
// model writer (flatbuffers): nothing in the core imports this file, and the CLI imports it lazily.
//
// Delegates are off by default. TFLite's interpreter applies no delegate to a subgraph whose name starts with
// "VALIDATION:", so renaming subgraph 0 gets TFLite's built-in kernels out of either runtime; `xnnpack: true`
// keeps the name, and the XNNPACK delegate both runtimes apply by default runs what it supports. One thread.
// Any ERROR line a runtime logs is fatal: LiteRT.js logs a failed prepare and carries on. `open` keeps a model
// compiled in LiteRT.js with its inputs set, for repeated invokes timed alone (`bench`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TfliteInt8Error } from '../src/errors.js';
import { readModel, type ModelTensor } from '../src/model.js';
import { ELEMENT_SIZE, elementCount } from '../src/tensor.js';
import type { rewriteModel as RewriteModel, TensorEdit } from './model-writer.js';

/** The reference runtime failed: it could not be loaded, rejected the model, or logged an error. */
export class TfliteRuntimeError extends TfliteInt8Error {}

/** The npm packages the reference runtimes come from, as `npm install` takes them. */
export const REFERENCE_PACKAGES = ['@litertjs/core@2.5.3', '@tensorflow/tfjs-tflite@0.0.1-alpha.10', 'flatbuffers@25.9.23'];

export type TfliteRuntimeName = 'litert' | 'tfjs-tflite';

export interface TfliteRunOptions {
  /** Let the XNNPACK delegate run what it supports, instead of TFLite's built-in kernels everywhere. */
  xnnpack?: boolean;
  /** Tensors of subgraph 0 to return, in order (default: its outputs); they become the graph's outputs. */
  tensors?: number[];
}

export interface TfliteRun {
  runtime: TfliteRuntimeName;
  /** The npm package and version that ran. */
  runtimePackage: string;
  /** Raw little-endian bytes of each requested tensor. */
  tensors: Uint8Array[];
  /** The numerically neutral changes made so that TFLite loads the model, one line each. */
  sanitized: string[];
  /** Why LiteRT.js did not run the model, when tfjs-tflite did. */
  fallbackReason?: string;
}

/** A model loaded and compiled once in LiteRT.js, with its inputs set, to invoke again and again (for timing). */
export interface TfliteSession {
  /** The npm package and version that runs it. */
  readonly runtimePackage: string;
  /** Runs the model once; resolves to the time TFLite's run took, in ms (the clock is read around that call alone). */
  invoke(): Promise<number>;
  /** Raw little-endian bytes of each output of the last invoke. */
  outputs(): Uint8Array[];
  /** Frees the runtime's model, buffers and memory; the session cannot be used afterwards. */
  close(): void;
}

/** Both reference runtimes, loaded once per process and reused by every run. */
export class TfliteRunner {
  private constructor(
    private readonly litert: LiteRtRuntime,
    private readonly rewrite: typeof RewriteModel,
  ) {}

  /** Loads LiteRT.js (tfjs-tflite waits until a model needs it); says what to install when a package is missing. */
  static async load(): Promise<TfliteRunner> {
    for (const name of REFERENCE_PACKAGES) packageDir(name.slice(0, name.lastIndexOf('@')));
    const { rewriteModel } = await import('./model-writer.js');
    return new TfliteRunner(await loadLiteRt(), rewriteModel);
  }

  /** Runs `model` on `inputs` (raw bytes of each input of subgraph 0, in order). */
  async run(model: Uint8Array, inputs: Uint8Array[], options: TfliteRunOptions = {}): Promise<TfliteRun> {
    const prepared = prepareModel(model, options, this.rewrite);
    checkInputs(prepared, inputs);
    let fallbackReason: string;
    if (prepared.hasVariables) {
      fallbackReason = VARIABLES_UNSUPPORTED;
    } else {
      try {
        const session = await this.litert.open(prepared, inputs);
        let tensors: Uint8Array[];
        try {
          await session.invoke();
          tensors = session.outputs();
        } finally {
          session.close();
        }
        return { runtime: 'litert', runtimePackage: packageLabel('@litertjs/core'), tensors, sanitized: prepared.sanitized };
      } catch (e) {
        if (!(e instanceof TfliteRuntimeError)) throw e;
        fallbackReason = e.message;
      }
    }
    try {
      const tfjs = await loadTfjsTflite();
      const tensors = tfjs.run(prepared, inputs);
      const runtimePackage = packageLabel('@tensorflow/tfjs-tflite');
      return { runtime: 'tfjs-tflite', runtimePackage, tensors, sanitized: prepared.sanitized, fallbackReason };
    } catch (e) {
      if (!(e instanceof TfliteRuntimeError)) throw e;
      throw new TfliteRuntimeError(`${fallbackReason}; ${e.message}`);
    }
  }

  /**
   * Loads and compiles `model` in LiteRT.js with `inputs` set, to invoke repeatedly; close it when done. LiteRT.js
   * only: tfjs-tflite, the fallback of `run`, is an older TFLite whose speed says nothing of today's.
   */
  async open(model: Uint8Array, inputs: Uint8Array[], options: Omit<TfliteRunOptions, 'tensors'> = {}): Promise<TfliteSession> {
    const prepared = prepareModel(model, options, this.rewrite);
    checkInputs(prepared, inputs);
    if (prepared.hasVariables) throw new TfliteRuntimeError(VARIABLES_UNSUPPORTED);
    const session = await this.litert.open(prepared, inputs);
    return { runtimePackage: packageLabel('@litertjs/core'), ...session };
  }
}

const VARIABLES_UNSUPPORTED = 'LiteRT.js cannot load models with variable tensors';

function checkInputs(prepared: PreparedModel, inputs: Uint8Array[]): void {
  if (inputs.length !== prepared.inputBytes.length) {
    throw new TfliteRuntimeError(`model has ${prepared.inputBytes.length} input(s); got ${inputs.length}`);
  }
  inputs.forEach((bytes, i) => {
    if (bytes.length !== prepared.inputBytes[i]) {
      throw new TfliteRuntimeError(`input ${i} needs ${prepared.inputBytes[i]} bytes, got ${bytes.length}`);
    }
  });
}

/** The model as TFLite gets it, and what the runtimes' answers are checked against. */
interface PreparedModel {
  bytes: Uint8Array;
  inputBytes: number[];
  /** The requested tensors, which are now the graph's outputs: index and byte length. */
  outputs: { tensor: number; name: string; bytes: number }[];
  hasVariables: boolean;
  sanitized: string[];
}

/**
 * Renames subgraph 0 (unless XNNPACK is wanted), makes the requested tensors its outputs, drops the signature defs
 * (both runtimes then take inputs and outputs in subgraph order), and changes, numerically neutrally, what TFLite
 * refuses but TFLM accepts: a shape_signature with -1 (removed: the shape is static) and a quantized_dimension
 * beyond the tensor's rank (person_detect's 1-D biases: set to 0, the only dimension).
 */
function prepareModel(model: Uint8Array, options: TfliteRunOptions, rewriteModel: typeof RewriteModel): PreparedModel {
  const g = readModel(model).subgraphs[0];
  const outputs = options.tensors ?? g.outputs;
  const dynamic: number[] = [];
  const beyondRank: number[] = [];
  const tensor = (t: ModelTensor): TensorEdit | undefined => {
    const edit: TensorEdit = {};
    if (t.shapeSignature?.some((d) => d < 0)) {
      edit.shapeSignature = null;
      dynamic.push(t.index);
    }
    if (t.quantization && t.quantization.quantizedDimension >= Math.max(1, t.shape.length)) {
      edit.quantizedDimension = 0;
      beyondRank.push(t.index);
    }
    return Object.keys(edit).length > 0 ? edit : undefined;
  };
  const bytes = rewriteModel(model, {
    subgraphName: options.xnnpack ? undefined : `VALIDATION:${g.name}`,
    outputs,
    tensor,
    dropSignatures: true,
  });
  const sanitized: string[] = [];
  if (dynamic.length > 0) sanitized.push(`shape_signature with -1 removed (static shape) on tensors ${dynamic.join(',')}`);
  if (beyondRank.length > 0) sanitized.push(`quantized_dimension beyond the rank set to 0 on tensors ${beyondRank.join(',')}`);
  return {
    bytes,
    inputBytes: g.inputs.map((i) => byteLength(g.tensors[i])),
    outputs: outputs.map((i) => ({ tensor: i, name: g.tensors[i].name, bytes: byteLength(g.tensors[i]) })),
    hasVariables: g.tensors.some((t) => t.isVariable),
    sanitized,
  };
}

function byteLength(t: ModelTensor): number {
  const size = ELEMENT_SIZE[t.dtype];
  if (size === undefined) throw new TfliteRuntimeError(`tensor ${t.index} (${t.name}) is ${t.dtype}, which we cannot exchange`);
  return elementCount(t.shape) * size;
}

const requireHere = createRequire(import.meta.url);

/** The directory of an installed package, or a TfliteRuntimeError saying how to install the reference runtimes. */
function packageDir(name: string): string {
  try {
    return dirname(requireHere.resolve(`${name}/package.json`));
  } catch {
    throw new TfliteRuntimeError(
      `${name} is not installed; the TFLite reference runtimes need: npm install --save-dev ${REFERENCE_PACKAGES.join(' ')}`,
    );
  }
}

/** "name@version" of the installed package. */
function packageLabel(name: string): string {
  const { version } = JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')) as { version: string };
  return `${name}@${version}`;
}

/** Evaluates an Emscripten glue file as the CommonJS module it can be, with `globals` shadowed; returns its exports. */
function evaluateGlue(path: string, globals: Record<string, unknown> = {}): unknown {
  const module = { exports: {} as unknown };
  const names = ['module', 'exports', 'require', '__filename', '__dirname', ...Object.keys(globals)];
  const run = new Function(...names, readFileSync(path, 'utf8'));
  run(module, module.exports, createRequire(path), path, dirname(path), ...Object.values(globals));
  return module.exports;
}

/** Collects a runtime's log lines; an ERROR line among them is fatal. */
class RuntimeLog {
  private lines: string[] = [];
  readonly write = (line: string): void => {
    this.lines.push(line);
  };
  /** Throws a TfliteRuntimeError naming the first ERROR line since the last check. */
  check(runtime: string): void {
    const lines = this.lines;
    this.lines = [];
    const error = lines.find((l) => /\bERROR\b/.test(l));
    if (error) throw new TfliteRuntimeError(`${runtime}: ${error}`);
  }
}

/** Runs `fn`, turning anything it throws (an Emscripten abort, an embind error) into a TfliteRuntimeError. */
async function inRuntime<T>(runtime: string, log: RuntimeLog, fn: () => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    log.check(runtime);
    throw new TfliteRuntimeError(`${runtime}: ${(e instanceof Error ? e.message : String(e)).split('\n').join(' ')}`);
  }
  log.check(runtime);
  return result;
}

// ---- LiteRT.js, through its embind layer: its Tensor class takes only float32, int32 and uint8 arrays ----

interface Deletable {
  delete(): void;
}
interface EmbindVector<T> extends Deletable {
  size(): number;
  get(i: number): T;
}
interface LiteRtTensorType extends Deletable {
  bytes(): number;
}
interface LiteRtTensorBuffer extends Deletable {
  lock(mode: unknown): number;
  unlock(): void;
  packedSize(): number;
}
interface LiteRtModel extends Deletable {
  getNumSignatures(): number;
  getSignature(i: number): Deletable & { inputNames(): EmbindVector<string>; outputNames(): EmbindVector<string> };
  getInputTensorType(signature: number, i: number): LiteRtTensorType;
}
interface LiteRtCompiledModel extends Deletable {
  run(signature: number, inputs: LiteRtTensorBuffer[]): LiteRtTensorBuffer[] | Promise<LiteRtTensorBuffer[]>;
}
interface LiteRtWasm {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  loadModel(env: unknown, ptr: number, bytes: number): LiteRtModel;
  compileModel(env: unknown, model: LiteRtModel, options: unknown): LiteRtCompiledModel | Promise<LiteRtCompiledModel>;
  LiteRtTensorBuffer: { createManaged(env: unknown, type: unknown, tensorType: LiteRtTensorType, bytes: number): LiteRtTensorBuffer };
  LiteRtTensorBufferType: { HOST_MEMORY: unknown };
  LiteRtTensorBufferLockMode: { READ: unknown; WRITE: unknown };
}
interface LiteRtEnvironment {
  liteRtEnvironment: unknown;
}

interface LiteRtRuntime {
  open(model: PreparedModel, inputs: Uint8Array[]): Promise<Omit<TfliteSession, 'runtimePackage'>>;
}

let liteRtPromise: Promise<LiteRtRuntime> | undefined;

function loadLiteRt(): Promise<LiteRtRuntime> {
  liteRtPromise ??= startLiteRt().catch((e) => {
    liteRtPromise = undefined;
    throw e;
  });
  return liteRtPromise;
}

async function startLiteRt(): Promise<LiteRtRuntime> {
  const dir = packageDir('@litertjs/core');
  const api = (await import(pathToFileURL(join(dir, 'dist/index.js')).href)) as {
    loadLiteRt(path: string): Promise<{ liteRtWasm: LiteRtWasm; getDefaultEnvironment(): LiteRtEnvironment }>;
  };
  const log = new RuntimeLog();
  // The package's loader expects a browser worker: `self`, and `importScripts` to run the Emscripten glue, which
  // leaves its factory in self.ModuleFactory and reads self.Module for its print hooks. Provide them for the load
  // only. The glue file is named outright: by feature detection, a Node with relaxed SIMD would get another binary.
  const g = globalThis as Record<string, unknown>;
  const saved = { self: g.self, importScripts: g.importScripts, Module: g.Module, warn: console.warn };
  g.self = globalThis;
  g.Module = { print: log.write, printErr: log.write };
  g.importScripts = (path: string) => {
    g.ModuleFactory = evaluateGlue(path);
  };
  // Its Environment probes for WebGPU and warns when Node has none; that warning is expected, so it goes to the log.
  console.warn = (...args: unknown[]) => log.write(args.map(String).join(' '));
  let liteRt;
  try {
    liteRt = await inRuntime('LiteRT.js', log, () => api.loadLiteRt(join(dir, 'wasm/litert_wasm_compat_internal.js')));
  } finally {
    console.warn = saved.warn;
    for (const key of ['self', 'importScripts', 'Module'] as const) {
      if (saved[key] === undefined) delete g[key];
      else g[key] = saved[key];
    }
    delete g.ModuleFactory;
  }
  const wasm = liteRt.liteRtWasm;
  const environment = liteRt.getDefaultEnvironment();
  const env = environment.liteRtEnvironment;
  const compileOptions = { environment, accelerator: 'wasm', cpuOptions: { numThreads: 1 }, gpuOptions: {}, webNNOptions: {} };

  return {
    async open(model, inputs) {
      const owned: Deletable[] = [];
      const ptr = wasm._malloc(model.bytes.length);
      const free = () => {
        for (const object of owned.reverse()) object.delete();
        owned.length = 0;
        wasm._free(ptr);
      };
      let compiled: LiteRtCompiledModel;
      let buffers: LiteRtTensorBuffer[];
      try {
        wasm.HEAPU8.set(model.bytes, ptr);
        const loaded = await inRuntime('LiteRT.js', log, () => wasm.loadModel(env, ptr, model.bytes.length));
        owned.push(loaded);
        compiled = await inRuntime('LiteRT.js', log, () => wasm.compileModel(env, loaded, compileOptions));
        owned.push(compiled);
        checkSignature(loaded, model, owned);
        buffers = inputs.map((bytes, i) => {
          const type = loaded.getInputTensorType(0, i);
          owned.push(type);
          if (type.bytes() !== bytes.length) {
            throw new TfliteRuntimeError(`LiteRT.js: input ${i} takes ${type.bytes()} bytes, we have ${bytes.length}`);
          }
          const buffer = wasm.LiteRtTensorBuffer.createManaged(env, wasm.LiteRtTensorBufferType.HOST_MEMORY, type, bytes.length);
          owned.push(buffer);
          const at = buffer.lock(wasm.LiteRtTensorBufferLockMode.WRITE);
          wasm.HEAPU8.set(bytes, at);
          buffer.unlock();
          return buffer;
        });
      } catch (e) {
        free();
        throw e;
      }
      // Each run returns new output buffers: the last run's are kept for outputs() and freed by the next.
      let results: LiteRtTensorBuffer[] = [];
      const dropResults = () => {
        for (const buffer of results) buffer.delete();
        results = [];
      };
      return {
        async invoke() {
          dropResults();
          let ms = 0;
          results = await inRuntime('LiteRT.js', log, async () => {
            const started = performance.now();
            const run = compiled.run(0, buffers);
            // Read the clock without an await when the run is synchronous (the CPU path), so no tick is counted.
            const finished = run instanceof Promise ? await run : run;
            ms = performance.now() - started;
            return finished;
          });
          return ms;
        },
        outputs() {
          return results.map((buffer, k) => {
            const expected = model.outputs[k].bytes;
            if (buffer.packedSize() !== expected) {
              throw new TfliteRuntimeError(`LiteRT.js: output ${k} has ${buffer.packedSize()} bytes, expected ${expected}`);
            }
            const at = buffer.lock(wasm.LiteRtTensorBufferLockMode.READ);
            const bytes = wasm.HEAPU8.slice(at, at + expected);
            buffer.unlock();
            return bytes;
          });
        },
        close() {
          dropResults();
          free();
        },
      };
    },
  };
}

/** Without signature defs LiteRT.js makes one signature of subgraph 0's inputs and outputs, named as the tensors. */
function checkSignature(model: LiteRtModel, prepared: PreparedModel, owned: Deletable[]): void {
  const signature = model.getSignature(0);
  owned.push(signature);
  const names = (vector: EmbindVector<string>) => {
    const list = Array.from({ length: vector.size() }, (_, i) => vector.get(i));
    vector.delete();
    return list;
  };
  const inputs = names(signature.inputNames());
  const outputs = names(signature.outputNames());
  const expected = prepared.outputs.map((o) => o.name);
  if (inputs.length !== prepared.inputBytes.length || outputs.join('\n') !== expected.join('\n')) {
    throw new TfliteRuntimeError(
      `LiteRT.js: its signature has ${inputs.length} inputs and outputs [${outputs.slice(0, 3).join(', ')}...], ` +
        `not subgraph 0's ${prepared.inputBytes.length} inputs and outputs [${expected.slice(0, 3).join(', ')}...]`,
    );
  }
}

// ---- tfjs-tflite, through its Emscripten module: TFLiteWebModelRunner gives live views of its tensors ----

interface TfjsTensorInfo {
  id: number;
  data(): ArrayBufferView;
}
interface TfjsModelRunner extends Deletable {
  GetInputs(): EmbindVector<TfjsTensorInfo>;
  GetOutputs(): EmbindVector<TfjsTensorInfo>;
  Infer(): boolean;
}
interface TfjsModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  TFLiteWebModelRunner: {
    CreateFromBufferAndOptions(ptr: number, bytes: number, options: object): {
      ok(): boolean;
      errorMessage(): string;
      value(): TfjsModelRunner;
    };
  };
}

interface TfjsRuntime {
  run(model: PreparedModel, inputs: Uint8Array[]): Uint8Array[];
}

let tfjsPromise: Promise<TfjsRuntime> | undefined;

function loadTfjsTflite(): Promise<TfjsRuntime> {
  tfjsPromise ??= startTfjsTflite().catch((e) => {
    tfjsPromise = undefined;
    throw e;
  });
  return tfjsPromise;
}

async function startTfjsTflite(): Promise<TfjsRuntime> {
  const glue = join(packageDir('@tensorflow/tfjs-tflite'), 'wasm/tflite_web_api_cc_simd.js');
  const log = new RuntimeLog();
  // A defined `importScripts` would make the glue take Node for a worker: shadow it while it runs.
  const factory = evaluateGlue(glue, { importScripts: undefined }) as (module: object) => Promise<TfjsModule>;
  const wasm = await inRuntime('tfjs-tflite', log, () =>
    factory({ wasmBinary: readFileSync(glue.replace(/\.js$/, '.wasm')), print: log.write, printErr: log.write }),
  );
  const list = <T>(vector: EmbindVector<T>): T[] => {
    const items = Array.from({ length: vector.size() }, (_, i) => vector.get(i));
    vector.delete();
    return items;
  };
  const view = (t: TfjsTensorInfo) => {
    const data = t.data();
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  };

  return {
    run(model, inputs) {
      const ptr = wasm._malloc(model.bytes.length);
      let runner: TfjsModelRunner | undefined;
      try {
        wasm.HEAPU8.set(model.bytes, ptr);
        const created = wasm.TFLiteWebModelRunner.CreateFromBufferAndOptions(ptr, model.bytes.length, {
          numThreads: 1,
          enableProfiling: false,
          maxProfilingBufferEntries: 1024,
        });
        log.check('tfjs-tflite');
        if (!created.ok()) throw new TfliteRuntimeError(`tfjs-tflite: ${created.errorMessage()}`);
        runner = created.value();
        list(runner.GetInputs()).forEach((t, i) => {
          const target = view(t);
          if (target.length !== inputs[i].length) {
            throw new TfliteRuntimeError(`tfjs-tflite: input ${i} takes ${target.length} bytes, we have ${inputs[i].length}`);
          }
          target.set(inputs[i]);
        });
        const ok = runner.Infer();
        log.check('tfjs-tflite');
        if (!ok) throw new TfliteRuntimeError('tfjs-tflite: Infer() failed');
        return list(runner.GetOutputs()).map((t, k) => {
          const expected = model.outputs[k];
          const bytes = view(t).slice();
          if (t.id !== expected.tensor || bytes.length !== expected.bytes) {
            throw new TfliteRuntimeError(
              `tfjs-tflite: output ${k} is tensor ${t.id} of ${bytes.length} bytes, expected tensor ${expected.tensor} of ${expected.bytes}`,
            );
          }
          return bytes;
        });
      } finally {
        runner?.delete();
        wasm._free(ptr);
      }
    },
  };
}
