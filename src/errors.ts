// Every failure the engine reports is one of these, so callers (and the CLI) can tell a bad file
// from a missing kernel from a wrong input without parsing messages.

/** Base class of all errors raised by tflite-int8. */
export class TfliteInt8Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The bytes are not a well-formed .tflite flatbuffer, or they describe an impossible model. */
export class ModelFormatError extends TfliteInt8Error {}

/** The model uses operators the resolver does not hold. Lists every one at once. */
export class UnsupportedOpError extends TfliteInt8Error {
  constructor(readonly missing: { node: number; op: string }[]) {
    super(
      `model uses ${missing.length} operator(s) this resolver does not provide: ` +
        missing.map((m) => `${m.op} (node ${m.node})`).join(', '),
    );
  }
}

/** A well-formed model that uses something tflite-int8 does not run (sparse tensors, variable tensors, ...). */
export class UnsupportedFeatureError extends TfliteInt8Error {}

/** An operator rejected its tensors or options while preparing, or failed while running. */
export class NodeError extends TfliteInt8Error {
  constructor(
    readonly node: number,
    readonly op: string,
    readonly detail: string,
  ) {
    super(`Node ${op} (number ${node}): ${detail}`);
  }
}

/** The caller gave an input of the wrong size or type, asked for a tensor that does not exist, or used a disposed interpreter. */
export class InputError extends TfliteInt8Error {}

/** The arena given is too small for the plan, or the plan cannot be made. */
export class ArenaError extends TfliteInt8Error {}

/** The bytes are not an image we can decode (corrupt, or a format or variant we do not read), or the image is unusable. */
export class ImageFormatError extends TfliteInt8Error {}
