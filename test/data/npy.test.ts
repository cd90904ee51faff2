import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { encodeNpy, npyToInt32, parseNpy, readNpyFile } from "../../lib/data/npy";

// The fixtures were written by numpy 2.4 (np.save), so these tests check compatibility with real files.
const FIX = path.join(__dirname, "..", "fixtures", "data", "npy");
const fixture = (name: string) => path.join(FIX, name);

test("reads uint8, int32, float32, float64 and bool arrays written by numpy", () => {
  const u1 = readNpyFile(fixture("u1_2x3.npy"));
  assert.equal(u1.dtype, "|u1");
  assert.deepEqual(u1.shape, [2, 3]);
  assert.ok(u1.data instanceof Uint8Array);
  assert.deepEqual([...u1.data], [0, 1, 2, 253, 254, 255]);

  const i4 = readNpyFile(fixture("i4_2x2.npy"));
  assert.ok(i4.data instanceof Int32Array);
  assert.deepEqual([...i4.data], [-5, 7, 2147483647, -2147483648]);

  const f4 = readNpyFile(fixture("f4_3.npy"));
  assert.ok(f4.data instanceof Float32Array);
  assert.deepEqual([...f4.data], [0.5, -1.25, 3]);

  const f8 = readNpyFile(fixture("f8_2x1x2.npy"));
  assert.deepEqual(f8.shape, [2, 1, 2]);
  assert.ok(f8.data instanceof Float64Array);
  assert.deepEqual([...f8.data], [1.5, 2.5, -0.125, 1e300]);

  const b1 = readNpyFile(fixture("b1_4.npy"));
  assert.ok(b1.data instanceof Uint8Array);
  assert.deepEqual([...b1.data], [1, 0, 0, 1]);

  const v2 = readNpyFile(fixture("v2_u1.npy"));
  assert.deepEqual([...v2.data], [0, 1, 2, 3, 4]);
});

test("int64 labels become int32, and out-of-range values are an error naming the file", () => {
  const file = fixture("i8_labels.npy");
  const arr = readNpyFile(file);
  assert.equal(arr.dtype, "<i8");
  assert.ok(arr.data instanceof BigInt64Array);
  const labels = npyToInt32(arr, file);
  assert.ok(labels instanceof Int32Array);
  assert.deepEqual([...labels], [0, 9, 3, 7]);

  const big = fixture("i8_too_big.npy");
  assert.throws(() => npyToInt32(readNpyFile(big), big), (e: Error) => e.message.includes("i8_too_big.npy") && /1099511627776.*int32/.test(e.message));
});

test("refuses pickled object arrays, Fortran order and unsupported dtypes with clear messages", () => {
  assert.throws(() => readNpyFile(fixture("object_pickled.npy")), (e: Error) => e.message.includes("object_pickled.npy") && /pickle/i.test(e.message));
  assert.throws(() => readNpyFile(fixture("fortran_2x3.npy")), (e: Error) => e.message.includes("fortran_2x3.npy") && /Fortran/.test(e.message));
  assert.throws(
    () => readNpyFile(fixture("i2_unsupported.npy")),
    (e: Error) => e.message.includes("i2_unsupported.npy") && e.message.includes("unsupported dtype '<i2'"),
  );
  assert.throws(() => readNpyFile(fixture("i4_bigendian.npy")), (e: Error) => e.message.includes("unsupported dtype '>i4'"));
});

test("a truncated file or bad magic is reported with the file name", () => {
  const bytes = fs.readFileSync(fixture("i4_2x2.npy"));
  assert.throws(() => parseNpy(bytes.subarray(0, bytes.length - 3), "cut.npy"), (e: Error) => e.message.includes("cut.npy") && /truncated/.test(e.message));
  assert.throws(() => parseNpy(bytes.subarray(0, 40), "header-cut.npy"), (e: Error) => e.message.includes("header-cut.npy") && /truncated/.test(e.message));
  const bad = Buffer.from(bytes);
  bad[1] = 0x41;
  assert.throws(() => parseNpy(bad, "bad.npy"), (e: Error) => e.message.includes("bad.npy") && /magic/.test(e.message));
});

test("encodeNpy round-trips through the parser", () => {
  const data = Int32Array.from({ length: 24 }, (_, i) => i * 11 - 50);
  const back = parseNpy(encodeNpy(data, [2, 3, 4], "<i4"), "mem");
  assert.deepEqual(back.shape, [2, 3, 4]);
  assert.deepEqual([...back.data], [...data]);
  const labels = BigInt64Array.from([5n, 0n, 9n]);
  assert.deepEqual([...npyToInt32(parseNpy(encodeNpy(labels, [3], "<i8")))], [5, 0, 9]);
});
