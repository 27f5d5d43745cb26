/**
 * Binary message framing for the WebSocket transport of browser mode: a JSON header plus the typed arrays
 * it referenced, so pixel data travels as raw bytes instead of JSON numbers.
 * Layout: u32 (little endian) header length | header (ASCII JSON) | padding to 8 | attachments, each 8-aligned.
 */
type TypedArray =
  | Uint8Array
  | Uint8ClampedArray
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

const CONSTRUCTORS = {
  Uint8Array,
  Uint8ClampedArray,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  Float32Array,
  Float64Array,
} as const;
type TypedArrayName = keyof typeof CONSTRUCTORS;

interface BinaryRef {
  $bin: number;
  t: TypedArrayName;
  offset: number;
  length: number;
}

const align8 = (n: number): number => (n + 7) & ~7;

function typedArrayName(v: TypedArray): TypedArrayName {
  const name = v.constructor.name;
  if (!(name in CONSTRUCTORS)) throw new Error(`cannot send a ${name}`);
  return name as TypedArrayName;
}

/** JSON with every non-ASCII character escaped, so the header is one byte per character. */
function asciiJson(value: unknown, replacer: (key: string, v: unknown) => unknown): string {
  return JSON.stringify(value, replacer).replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function encodeMessage(message: unknown): ArrayBuffer {
  const attachments: { readonly arr: TypedArray; readonly ref: BinaryRef }[] = [];
  let cursor = 0;
  const header = asciiJson(message, (_key, v) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const arr = v as TypedArray;
      const ref: BinaryRef = { $bin: attachments.length, t: typedArrayName(arr), offset: cursor, length: arr.length };
      attachments.push({ arr, ref });
      cursor = align8(cursor + arr.byteLength);
      return ref;
    }
    return v;
  });
  const headerStart = 4;
  const bodyStart = align8(headerStart + header.length);
  const buffer = new ArrayBuffer(bodyStart + cursor);
  const bytes = new Uint8Array(buffer);
  new DataView(buffer).setUint32(0, header.length, true);
  for (let i = 0; i < header.length; i++) bytes[headerStart + i] = header.charCodeAt(i);
  attachments.forEach(({ arr, ref }) => {
    bytes.set(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength), bodyStart + ref.offset);
  });
  return buffer;
}

function isBinaryRef(v: unknown): v is BinaryRef {
  return typeof v === 'object' && v !== null && '$bin' in v && 't' in v && 'offset' in v && 'length' in v;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

export function decodeMessage(data: ArrayBuffer): unknown {
  const view = new DataView(data);
  const headerLength = view.getUint32(0, true);
  if (4 + headerLength > data.byteLength) throw new Error('message header longer than the message');
  const headerBytes = new Uint8Array(data, 4, headerLength);
  let header = '';
  const CHUNK = 8192;
  for (let i = 0; i < headerBytes.length; i += CHUNK) {
    header += String.fromCharCode(...headerBytes.subarray(i, i + CHUNK));
  }
  const bodyStart = align8(4 + headerLength);
  return JSON.parse(header, (_key, v: unknown) => {
    if (!isBinaryRef(v)) return v;
    // A hostile header may name "constructor" or "toString", or give offsets outside the message.
    if (typeof v.t !== 'string' || !hasOwn(CONSTRUCTORS, v.t))
      throw new Error(`unknown attachment type ${String(v.t)}`);
    if (!Number.isSafeInteger(v.offset) || !Number.isSafeInteger(v.length) || v.offset < 0 || v.length < 0)
      throw new Error('malformed attachment');
    const Ctor = CONSTRUCTORS[v.t];
    return new Ctor(data, bodyStart + v.offset, v.length);
  });
}
