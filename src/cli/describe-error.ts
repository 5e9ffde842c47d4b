// How the CLI reports an error: one line, never a stack trace.
import { TfliteInt8Error } from '../errors.js';

/** Its kind (our error class, I/O, or internal) and the first line of its message. */
export function describeError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const kind = e instanceof TfliteInt8Error ? e.name : e instanceof Error && 'code' in e ? 'I/O error' : 'internal error';
  return `${kind}: ${message.split('\n')[0]}`;
}
