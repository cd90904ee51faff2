/**
 * Reading NumPy `.npy` files from bytes already in memory.
 *
 * npyjs's `load(path)` goes through `fetch`, which cannot read local files in Node, and its parser trusts the
 * header (no length check, no refusal of object arrays or Fortran order). So we validate the header here, then
 * hand an exact, aligned copy of the file to npyjs's `parse` to build the typed array.
 */
import * as fs from "fs";
import { parse as npyParse } from "npyjs";

/** The dtypes this course needs (numpy `descr` strings). */
export type NpyDtype = "|u1" | "<i4" | "<i8" | "<f4" | "<f8" | "|b1";

const ITEM_SIZE: Record<NpyDtype, number> = { "|u1": 1, "<i4": 4, "<i8": 8, "<f4": 4, "<f8": 8, "|b1": 1 };

export type NpyData = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export interface NpyArray {
  /** Flat values in C (row-major) order. `|b1` comes back as a Uint8Array of 0/1. */
  data: NpyData;
  shape: number[];
  dtype: NpyDtype;
}

interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  dataOffset: number;
}

const MAGIC = "\x93NUMPY";

function fail(file: string, what: string): never {
  throw new Error(`Cannot read ${file} as a .npy file: ${what}`);
}

function parseHeader(bytes: Uint8Array, file: string): NpyHeader {
  if (bytes.length < 10) fail(file, `only ${bytes.length} bytes; the file is truncated or empty. Delete it and fetch it again.`);
  const magic = String.fromCharCode(...bytes.subarray(0, 6));
  if (magic !== MAGIC) {
    fail(file, "bad magic bytes (a .npy file starts with \\x93NUMPY). It is not a NumPy array file, or it is corrupted.");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(file, "the file is truncated inside its header.");
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    fail(file, `unsupported format version ${major}.${bytes[7]} (expected 1.x, 2.x or 3.x).`);
  }
  const dataOffset = headerStart + headerLen;
  if (dataOffset > bytes.length) fail(file, "the file is truncated inside its header. Delete it and fetch it again.");
  const dict = Buffer.from(bytes.subarray(headerStart, dataOffset)).toString(major === 3 ? "utf8" : "latin1");

  const descrList = /'descr'\s*:\s*\[/.exec(dict);
  if (descrList) fail(file, "it holds a structured (record) array; only plain numeric arrays are supported.");
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(dict)?.[1];
  if (descr === undefined) fail(file, `malformed header (no 'descr'): ${dict.trim()}`);
  if (descr === "|O" || descr === "O" || descr.endsWith("O")) {
    fail(file, "it holds an object array (Python pickles inside). Pickled data is refused for safety: save it as a numeric array.");
  }
  if (!(descr in ITEM_SIZE)) {
    fail(
      file,
      `unsupported dtype '${descr}'. Supported: ${Object.keys(ITEM_SIZE).join(", ")} ` +
        "(uint8, little-endian int32/int64/float32/float64, bool). Convert it with numpy's astype() first.",
    );
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict)?.[1];
  if (fortran === undefined) fail(file, `malformed header (no 'fortran_order'): ${dict.trim()}`);
  if (fortran === "True") {
    fail(file, "it is stored in Fortran (column-major) order; save it with np.ascontiguousarray() to get C order.");
  }
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (shapeText === undefined) fail(file, `malformed header (no 'shape'): ${dict.trim()}`);
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isSafeInteger(n) || n < 0) fail(file, `malformed shape (${shapeText}).`);
      return n;
    });
  return { dtype: descr as NpyDtype, shape, dataOffset };
}

/** Header bytes for an npy v1.0 file, padded (like numpy) so the data starts on a 64-byte boundary. */
function canonicalHeader(dtype: NpyDtype, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  dict += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + dict.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, dict.length, true);
  out.set(Buffer.from(dict, "latin1"), 10);
  return out;
}

/**
 * Parse a `.npy` file held in memory. `file` names the file in error messages.
 * Throws a clear error for a truncated file, bad magic, unsupported dtype, object/pickled or Fortran-order array.
 */
export function parseNpy(bytes: Uint8Array, file = "<buffer>"): NpyArray {
  const header = parseHeader(bytes, file);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const dataBytes = count * ITEM_SIZE[header.dtype];
  const available = bytes.length - header.dataOffset;
  if (available < dataBytes) {
    fail(
      file,
      `the file is truncated: shape (${header.shape.join(", ")}) of ${header.dtype} needs ${dataBytes} data bytes ` +
        `but only ${available} are there. Delete it and fetch it again (npm run data).`,
    );
  }
  // An exact copy with a canonical, aligned header: npyjs builds typed-array views that run to the end of the
  // buffer and need the data offset to be a multiple of the item size.
  const head = canonicalHeader(header.dtype, header.shape);
  const copy = new Uint8Array(head.length + dataBytes);
  copy.set(head, 0);
  copy.set(bytes.subarray(header.dataOffset, header.dataOffset + dataBytes), head.length);
  const parsed = npyParse(copy.buffer);
  let data = parsed.data as unknown;
  if (header.dtype === "|b1") {
    // npyjs returns boolean[] for little/"|" b1; give lessons a compact 0/1 array instead.
    data = Uint8Array.from(data as ArrayLike<boolean>, (b) => (b ? 1 : 0));
  }
  if (!ArrayBuffer.isView(data) || (data as NpyData).length !== count) {
    fail(file, `npyjs returned ${(data as NpyData).length} values where the header promises ${count}.`);
  }
  return { data: data as NpyData, shape: header.shape, dtype: header.dtype };
}

/** Read and parse a `.npy` file from disk. */
export function readNpyFile(file: string): NpyArray {
  return parseNpy(fs.readFileSync(file), file);
}

/**
 * Integer labels as an Int32Array. int64 labels (numpy's default) are converted value by value and the call fails,
 * naming the file, if any value does not fit in int32.
 */
export function npyToInt32(arr: NpyArray, file = "<buffer>"): Int32Array {
  const { data } = arr;
  if (data instanceof Int32Array) return data;
  if (data instanceof BigInt64Array) {
    const out = new Int32Array(data.length);
    const [lo, hi] = [BigInt(-2147483648), BigInt(2147483647)];
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (v > hi || v < lo) {
        throw new Error(`${file}: value ${v} at index ${i} does not fit in int32; these do not look like class labels.`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  if (data instanceof Uint8Array) return Int32Array.from(data);
  throw new Error(`${file}: expected integer values, got dtype ${arr.dtype}.`);
}

/** Serialise a C-order array as `.npy` bytes (used by the stand-in generator and by tests). */
export function encodeNpy(data: NpyData, shape: number[], dtype: NpyDtype): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`encodeNpy: ${data.length} values do not fill shape (${shape.join(", ")}).`);
  const head = canonicalHeader(dtype, shape);
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
