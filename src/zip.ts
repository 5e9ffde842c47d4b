// Reads the zip archive TFLite's metadata writer appends to a model (labels, vocabularies): the .tflite is
// the flatbuffer followed by a zip whose central directory lists the associated files. Only what that writer
// produces is supported: stored or deflated entries, no encryption, no zip64. Every offset is checked
// against the file, as the flatbuffer reader does, and every entry's CRC-32 is verified.
import { ModelFormatError } from './errors.js';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  size: number;
  /** The entry's bytes as stored in the archive (compressed when method is 8); a view, not a copy. */
  stored: Uint8Array;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;
const MAX_COMMENT = 0xffff;

function fail(what: string): never {
  throw new ModelFormatError(`appended zip archive: ${what}`);
}

/** Entries of the zip archive at the end of `bytes`, by name; an empty map when there is none. */
export function readZipEntries(bytes: Uint8Array): Map<string, ZipEntry> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = new Map<string, ZipEntry>();
  const end = findEndOfCentralDirectory(bytes, view);
  if (end < 0) return entries;
  const count = view.getUint16(end + 10, true);
  const directorySize = view.getUint32(end + 12, true);
  const directoryOffset = view.getUint32(end + 16, true);
  if (directoryOffset === 0xffffffff || count === 0xffff) fail('zip64 archives are not supported');
  // Offsets count from the start of the archive; with the model in front of it, that start is wherever the
  // central directory's recorded offset says it must be (zero when the writer counted the model, as Python's does).
  const base = end - directorySize - directoryOffset;
  if (base < 0) fail(`central directory of ${directorySize} bytes at offset ${directoryOffset} does not fit before its end record`);
  const need = (at: number, length: number, what: string) => {
    if (at < 0 || at + length > bytes.length) fail(`${what} at offset ${at} runs past the end of the file`);
  };
  const text = new TextDecoder('utf-8');
  let at = base + directoryOffset;
  for (let i = 0; i < count; i++) {
    need(at, 46, `central directory entry ${i}`);
    if (view.getUint32(at, true) !== CENTRAL_FILE_HEADER) fail(`central directory entry ${i} has a bad signature`);
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc32 = view.getUint32(at + 16, true);
    const storedSize = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localOffset = view.getUint32(at + 42, true);
    need(at + 46, nameLength, `central directory entry ${i} name`);
    const name = text.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    if (flags & 1) fail(`${name} is encrypted`);
    if (method !== 0 && method !== 8) fail(`${name} uses compression method ${method} (only stored and deflated are supported)`);
    const local = base + localOffset;
    need(local, 30, `${name} local header`);
    if (view.getUint32(local, true) !== LOCAL_FILE_HEADER) fail(`${name} local header has a bad signature`);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    need(dataStart, storedSize, `${name} data (${storedSize} bytes)`);
    entries.set(name, { name, method, crc32, size, stored: bytes.subarray(dataStart, dataStart + storedSize) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The end record: the last signature whose comment length reaches exactly to the end of the file. */
function findEndOfCentralDirectory(bytes: Uint8Array, view: DataView): number {
  const last = bytes.length - 22;
  for (let at = last; at >= 0 && at >= last - MAX_COMMENT; at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY && at + 22 + view.getUint16(at + 20, true) === bytes.length) {
      return at;
    }
  }
  return -1;
}

/**
 * The entry's uncompressed bytes, CRC-checked. Deflated entries go through the platform's
 * DecompressionStream('deflate-raw') (browsers, Node 20), hence async.
 */
export async function extractZipEntry(entry: ZipEntry): Promise<Uint8Array> {
  const data = entry.method === 0 ? entry.stored : await inflateRaw(entry);
  if (data.length !== entry.size) fail(`${entry.name} holds ${data.length} bytes, its header says ${entry.size}`);
  if (crc32(data) !== entry.crc32) fail(`${entry.name} fails its CRC-32 check`);
  return data;
}

async function inflateRaw(entry: ZipEntry): Promise<Uint8Array> {
  // slice(): a copy over a plain ArrayBuffer, which is what Blob takes (the model may sit in any buffer).
  const reader = new Blob([entry.stored.slice()]).stream().pipeThrough(new DecompressionStream('deflate-raw')).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      // Stop a corrupt or hostile stream from inflating without bound.
      if (total > entry.size) {
        await reader.cancel();
        fail(`${entry.name} inflates past the ${entry.size} bytes its header says`);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof ModelFormatError) throw e;
    fail(`${entry.name} is not valid deflate data (${e instanceof Error ? e.message : String(e)})`);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

let crcTable: Uint32Array | null = null;

/** CRC-32 (IEEE 802.3, the zip and PNG checksum). */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
