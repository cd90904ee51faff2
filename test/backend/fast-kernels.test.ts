/** The faster replacements of stock wasm kernels (Sum/Mean over leading axes, Tile, Add/Sub/Multiply/RealDiv, transposed BatchMatMul, Identity, Cast, Slice, FusedBatchNorm, Relu/Relu6, DepthwiseConv2dNative, MaxPool) vs cpu. */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";
import { helperCalls, helperThreadReady } from "../../lib/backend/helper-thread";
import { WasmBackendLike } from "../../lib/backend/wasm-util";

const TOL = 1e-5;

describe("fast wasm kernels match cpu", () => {
  before(readyWasm);

  const shape = [3, 5, 4, 7];
  const x = randomArray(3 * 5 * 4 * 7, 3);
  for (const op of ["sum", "mean"] as const) {
    for (const axis of [[0], [0, 1], [0, 1, 2], [1], [2, 3], [0, 2], -1] as Array<number[] | number>) {
      for (const keepDims of [false, true]) {
        it(`${op} axis ${JSON.stringify(axis)} keepDims ${keepDims}`, async () => {
          const fn = () => tf[op](tf.tensor(x, shape), axis, keepDims);
          const shapeOn = async (b: "cpu" | "wasm") => {
            await tf.setBackend(b);
            const t = fn();
            const s = t.shape;
            t.dispose();
            return s;
          };
          assert.deepEqual(await shapeOn("wasm"), await shapeOn("cpu"));
          assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, op);
        });
      }
    }
  }

  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
    for (const batch of [1, 3]) {
      it(`matMul transposeA=${ta} transposeB=${tb} batch ${batch}`, async () => {
        const [m, k, n] = [5, 9, 6];
        const a = randomArray(batch * m * k, 4);
        const b = randomArray(batch * k * n, 5);
        const fn = () =>
          tf.matMul(
            tf.tensor3d(a, (ta ? [batch, k, m] : [batch, m, k]) as [number, number, number]),
            tf.tensor3d(b, (tb ? [batch, n, k] : [batch, k, n]) as [number, number, number]),
            ta,
            tb,
          );
        assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "matMul");
      });
    }
  }

  it("matMul broadcasts a batch of one against a batch of three", async () => {
    const a = randomArray(1 * 4 * 7, 13);
    const b = randomArray(3 * 7 * 5, 14);
    const fn = () => tf.matMul(tf.tensor3d(a, [1, 4, 7]), tf.tensor3d(b, [3, 7, 5]));
    assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "broadcast matMul");
  });

  for (const [sa, sb] of [[[1, 3, 4], [4, 2]], [[3, 4], [1, 4, 2]], [[2, 3, 3, 4], [2, 3, 4, 5]]] as Array<[number[], number[]]>) {
    it(`matMul ${JSON.stringify(sa)} x ${JSON.stringify(sb)} has tfjs's output shape and values`, async () => {
      const fn = () => tf.matMul(tf.tensor(randomArray(tf.util.sizeFromShape(sa), 17), sa), tf.tensor(randomArray(tf.util.sizeFromShape(sb), 18), sb));
      const shapeOn = async (backend: "cpu" | "wasm") => {
        await tf.setBackend(backend);
        return tf.tidy(() => fn().shape);
      };
      assert.deepEqual(await shapeOn("wasm"), await shapeOn("cpu"));
      assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "matMul shapes");
    });
  }

  it("a big matMul splits its rows over the helper thread and matches cpu", async () => {
    const backend = tf.findBackend("wasm") as unknown as WasmBackendLike;
    assert.equal(await helperThreadReady(backend.wasm), true);
    const [m, k, n] = [301, 257, 70];
    const a = randomArray(m * k, 15);
    const b = randomArray(n * k, 16);
    const fn = () => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [n, k]), false, true);
    const calls = helperCalls("conv2d_forward");
    const got = await onBackend("wasm", fn);
    assert.equal(helperCalls("conv2d_forward"), calls + 1);
    assertClose(got, await onBackend("cpu", fn), TOL, "big matMul");
  });

  it("a dense layer's input gradient (dy times tall weights transposed) is the same bit for bit as with the weights transposed first", async () => {
    await tf.setBackend("wasm");
    const [dy, w] = [tf.tensor2d(randomArray(32 * 50, 19), [32, 50]), tf.tensor2d(randomArray(1200 * 50, 20), [1200, 50])];
    // 32 x 50 + 32 x 1200 floats to transpose (dy and the product) instead of 1200 x 50: the swapped form runs.
    const got = tf.tidy(() => tf.matMul(dy, w, false, true).dataSync());
    const want = tf.tidy(() => tf.matMul(dy, tf.transpose(w)).dataSync());
    assert.deepEqual(got, want);
    const fn = () => tf.matMul(tf.tensor2d(randomArray(32 * 50, 19), [32, 50]), tf.tensor2d(randomArray(1200 * 50, 20), [1200, 50]), false, true);
    assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "transposed dense gradient");
    tf.dispose([dy, w]);
  });

  it("a product of few rows with big weights, summed block of K by block, is the same bit for bit as one pass", async () => {
    await tf.setBackend("wasm");
    // 8 rows (blocked) against the same rows inside 80 (one pass), K = 1000 values in blocks of 163; and a 1x1
    // convolution with bias and ReLU over 16 pixels (blocked, the epilogue on the last block) against 80.
    const [x, w] = [randomArray(80 * 1000, 21), randomArray(1000 * 50, 22)];
    const rows = (m: number) => tf.tidy(() => tf.matMul(tf.tensor2d(x.subarray(0, m * 1000), [m, 1000]), tf.tensor2d(w, [1000, 50])).dataSync());
    assert.deepEqual(rows(8), rows(80).subarray(0, 8 * 50));
    const conv = (images: number) => tf.tidy(() =>
      tf.fused.conv2d({ x: tf.tensor4d(x.subarray(0, images * 16 * 1000), [images, 4, 4, 1000]), filter: tf.tensor4d(w, [1, 1, 1000, 50]),
        strides: 1, pad: "valid", bias: tf.tensor1d(randomArray(50, 23)), activation: "relu" }).dataSync());
    assert.deepEqual(conv(1), conv(5).subarray(0, 16 * 50));
    const fn = () => tf.matMul(tf.tensor2d(x.subarray(0, 8 * 1000), [8, 1000]), tf.tensor2d(w, [1000, 50]));
    assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "blocked matMul");
  });

  for (const [shape, reps] of [
    [[1, 1, 1, 5], [3, 4, 2, 1]],
    [[2, 3], [2, 2]],
    [[2, 1, 3], [1, 4, 1]],
    [[3], [4]],
    [[2, 2, 2], [1, 1, 1]],
  ] as Array<[number[], number[]]>) {
    for (const dtype of ["float32", "int32"] as const) {
      it(`tile ${JSON.stringify(shape)} by ${JSON.stringify(reps)} (${dtype})`, async () => {
        const values = randomArray(tf.util.sizeFromShape(shape), 9).map((v) => (dtype === "int32" ? Math.round(v * 100) : v));
        const fn = () => tf.tile(tf.tensor(values, shape, dtype), reps).toFloat();
        assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), 0, "tile");
      });
    }
  }

  for (const op of ["add", "sub", "mul", "div"] as const) {
    for (const [sa, sb] of [
      [[2, 3, 4, 5], [2, 3, 4, 5]],
      [[2, 3, 4, 5], [5]],
      [[1, 1, 1, 6], [3, 2, 2, 6]],
      [[2, 3, 7], []],
      [[], [4, 3]],
      [[4, 1], [4, 3]], // one value per row
      [[32, 10], [32, 1]],
      [[2, 3, 1], [1, 3, 7]],
      [[4, 1], [1, 3]], // per row and per column
      [[2, 1, 3], [1, 4, 1]], // another broadcast: the stock kernel's job
      [[3, 9], [1, 9]],
      // Sizes in whole rows of 1024: taken as one contiguous run unless an operand is per-channel.
      [[4, 16, 16, 20], [4, 16, 16, 20]],
      [[4, 16, 16, 20], [20]],
      [[], [2, 32, 32]],
    ] as Array<[number[], number[]]>) {
      it(`${op} ${JSON.stringify(sa)} and ${JSON.stringify(sb)}`, async () => {
        const va = randomArray(tf.util.sizeFromShape(sa), 11);
        const vb = randomArray(tf.util.sizeFromShape(sb), 12);
        const fn = () => tf[op](tf.tensor(va, sa), tf.tensor(vb, sb));
        assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), 0, op);
      });
    }
  }

  it("identity shares data safely: disposing the source keeps the clone", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const a = tf.tensor([1, 2, 3]);
    const b = tf.clone(a);
    a.dispose();
    assert.deepEqual(Array.from(b.dataSync()), [1, 2, 3]);
    b.dispose();
    assert.equal(tf.memory().numTensors, before);
  });

  it("cast to the same dtype shares data safely; other casts still convert", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const a = tf.tensor([1.5, -2.25, 3]);
    const same = tf.cast(a, "float32");
    const ints = tf.cast(a, "int32");
    a.dispose();
    assert.deepEqual(Array.from(same.dataSync()), [1.5, -2.25, 3]);
    assert.equal(ints.dtype, "int32");
    assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3]);
    tf.dispose([same, ints]);
    assert.equal(tf.memory().numTensors, before);
  });

  // Contiguous blocks (whole batches, rows of one image, the whole tensor, nothing) are ours; the rest is stock.
  for (const [begin, size] of [
    [[1, 0, 0, 0], [2, -1, -1, -1]],
    [[0, 0, 0, 0], [3, 5, 4, 7]],
    [[2, 1, 0, 0], [1, 3, 4, 7]],
    [[0, 0, 0, 0], [0, 5, 4, 7]],
    [[1, 0, 1, 2], [2, 5, 2, 3]],
  ]) {
    for (const dtype of ["float32", "int32", "bool"] as const) {
      it(`slice begin ${JSON.stringify(begin)} size ${JSON.stringify(size)} ${dtype}`, async () => {
        const values = randomArray(3 * 5 * 4 * 7, 41).map((v) => (dtype === "float32" ? v : Math.round(v * 4)));
        const fn = () => tf.slice(tf.tensor(values, [3, 5, 4, 7], dtype), begin, size);
        const on = async (b: "cpu" | "wasm") => {
          await tf.setBackend(b);
          const t = fn();
          const out = { shape: t.shape, dtype: t.dtype, values: Array.from(await t.data()) };
          t.dispose();
          return out;
        };
        assert.deepEqual(await on("wasm"), await on("cpu"));
      });
    }
  }

  it("a slice of the whole tensor shares data safely: disposing the source keeps the slice", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const a = tf.tensor([[1, 2], [3, 4]]);
    const whole = tf.slice(a, [0, 0], [-1, -1]);
    const row = tf.slice(a, [1, 0], [1, 2]);
    a.dispose();
    assert.deepEqual(Array.from(whole.dataSync()), [1, 2, 3, 4]);
    assert.deepEqual(Array.from(row.dataSync()), [3, 4]);
    tf.dispose([whole, row]);
    assert.equal(tf.memory().numTensors, before);
  });

  // Statistics per channel (the layers' case, rank 1 or with leading 1s), scalars, missing offset/scale, odd
  // channel counts (SIMD tail), and full-shape statistics (the stock kernel's job).
  for (const [xShape, statShape, withOffset, withScale] of [
    [[2, 3, 4, 8], [8], true, true],
    [[2, 5, 3, 7], [7], true, true],
    [[3, 6], [1, 6], false, true],
    [[2, 2, 2, 5], [5], true, false],
    [[4, 3, 3], [], true, true],
    [[2, 3, 4], [2, 3, 4], true, true],
  ] as Array<[number[], number[], boolean, boolean]>) {
    it(`batchNorm x ${JSON.stringify(xShape)} statistics ${JSON.stringify(statShape)}${withOffset ? "" : " no offset"}${withScale ? "" : " no scale"}`, async () => {
      const size = tf.util.sizeFromShape(statShape);
      const x = randomArray(tf.util.sizeFromShape(xShape), 31).map((v) => v * 3 + 0.5);
      const [mean, rawVar, offset, scale] = [32, 33, 34, 35].map((seed) => randomArray(size, seed));
      const variance = rawVar.map((v) => v * v + 0.1);
      const fn = () =>
        tf.batchNorm(
          tf.tensor(x, xShape),
          tf.tensor(mean, statShape),
          tf.tensor(variance, statShape),
          withOffset ? tf.tensor(offset, statShape) : undefined,
          withScale ? tf.tensor(scale, statShape) : undefined,
          1e-3,
        );
      assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), 1e-6, "batchNorm");
    });
  }
});

describe("big elementwise kernels split over the helper thread", () => {
  before(readyWasm);

  const shape = [37, 91, 83]; // 279,461 elements: above the split threshold, odd row counts
  const x = randomArray(37 * 91 * 83, 41);
  const cases: Array<[string, "binary_rows" | "sum_rows" | "batch_norm_rows", () => tf.Tensor]> = [
    ["add full + per-channel", "binary_rows", () => tf.add(tf.tensor(x, shape), tf.tensor(randomArray(83, 42), [83]))],
    ["multiply full * full", "binary_rows", () => tf.mul(tf.tensor(x, shape), tf.tensor(randomArray(x.length, 43), shape))],
    ["add full + full in rows of 1024", "binary_rows", () => tf.add(tf.tensor(randomArray(64 * 64 * 80, 44), [64, 64, 80]), tf.tensor(randomArray(64 * 64 * 80, 45), [64, 64, 80]))],
    ["sub scalar - full", "binary_rows", () => tf.sub(tf.scalar(0.5), tf.tensor(x, shape))],
    ["divide full / per-row", "binary_rows", () => tf.div(tf.tensor(x, shape), tf.tensor(randomArray(37 * 91, 48), [37, 91, 1]))],
    ["sum over leading axes", "sum_rows", () => tf.sum(tf.tensor(x, shape), [0, 1])],
    ["mean over the first axis", "sum_rows", () => tf.mean(tf.tensor(x, shape), 0)],
    ["batchNorm per channel", "batch_norm_rows", () => {
      const stat = (seed: number, shift: number) => tf.add(tf.tensor1d(randomArray(83, seed)), shift);
      return tf.batchNorm(tf.tensor(x, shape), stat(44, 0), stat(45, 2), stat(46, 0), stat(47, 1), 1e-3);
    }],
  ];
  for (const [what, exportName, fn] of cases) {
    it(`${what} matches cpu, with the helper taking half the rows`, async () => {
      const backend = tf.findBackend("wasm") as unknown as WasmBackendLike;
      assert.equal(await helperThreadReady(backend.wasm), true, "the helper should start on the threaded build");
      const calls = helperCalls(exportName);
      const tensors = tf.memory().numTensors;
      const got = await onBackend("wasm", fn);
      assert.equal(helperCalls(exportName), calls + 1, `the helper should have run ${exportName} once`);
      assert.equal(tf.memory().numTensors, tensors);
      assertClose(got, await onBackend("cpu", fn), 1e-5, what);
    });
  }
});

describe("Relu and Relu6 give the stock kernels' numbers", () => {
  before(readyWasm);

  const special = [NaN, -1, 2, -0, 0, 7, Infinity, -Infinity, 5.999, 6.001, 1e-40];
  const cases: Array<["relu" | "relu6", number[]]> = [
    ["relu", [NaN, 0, 2, 0, 0, 7, Infinity, 0, 5.999, 6.001, 1e-40]],
    ["relu6", [0, 0, 2, 0, 0, 6, 6, 0, 5.999, 6, 1e-40]],
  ];
  for (const [op, expected] of cases) {
    it(`${op} of NaN, infinities, -0 and 6's neighbours (a SIMD body and a scalar tail)`, async () => {
      const got = await onBackend("wasm", () => tf[op](tf.tensor1d(special)));
      got.forEach((v, i) => assert.ok(Object.is(v, Math.fround(expected[i])), `${op}(${special[i]}) = ${v}, expected ${expected[i]}`));
    });
    for (const size of [1, 7, 1003]) {
      it(`${op} of ${size} values matches cpu`, async () => {
        const x = randomArray(size, 60 + size).map((v) => 8 * v);
        assertClose(await onBackend("wasm", () => tf[op](tf.tensor1d(x))), await onBackend("cpu", () => tf[op](tf.tensor1d(x))), 0, op);
      });
    }
  }
});

describe("DepthwiseConv2dNative (multiplier 1) matches cpu", () => {
  before(readyWasm);

  const cases: Array<[number[], number, number, "same" | "valid"]> = [
    [[2, 9, 8, 3], 3, 1, "same"],
    [[2, 9, 8, 16], 3, 2, "same"],
    [[1, 11, 10, 21], 5, 2, "same"],
    [[2, 12, 13, 37], 7, 1, "valid"],
    [[1, 6, 7, 20], 3, 2, "valid"],
    [[3, 4, 4, 8], 1, 1, "same"],
  ];
  for (const [shape, k, stride, pad] of cases) {
    it(`[${shape}] ${k}x${k} stride ${stride} ${pad}`, async () => {
      const c = shape[3];
      const x = randomArray(tf.util.sizeFromShape(shape), 70 + c);
      const w = randomArray(k * k * c, 71 + c);
      const fn = () => tf.depthwiseConv2d(tf.tensor4d(x, shape as [number, number, number, number]), tf.tensor4d(w, [k, k, c, 1]), stride, pad);
      assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "depthwiseConv2d");
    });
  }

  it("a channel multiplier of 2 goes to the stock kernel and matches cpu", async () => {
    const x = randomArray(2 * 7 * 7 * 5, 80);
    const w = randomArray(3 * 3 * 5 * 2, 81);
    const fn = () => tf.depthwiseConv2d(tf.tensor4d(x, [2, 7, 7, 5]), tf.tensor4d(w, [3, 3, 5, 2]), 1, "same");
    assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), TOL, "depthwiseConv2d x2");
  });
});

describe("MaxPool matches cpu", () => {
  before(readyWasm);

  const cases: Array<[number[], number, number, "same" | "valid"]> = [
    [[2, 8, 8, 50], 2, 2, "valid"],
    [[2, 9, 7, 21], 2, 2, "same"],
    [[1, 9, 9, 16], 3, 1, "same"],
    [[3, 10, 11, 5], 3, 2, "valid"],
    [[2, 7, 7, 3], 7, 1, "valid"],
  ];
  for (const [shape, k, stride, pad] of cases) {
    it(`[${shape}] ${k}x${k} stride ${stride} ${pad}`, async () => {
      const x = randomArray(tf.util.sizeFromShape(shape), 90 + shape[3]);
      const fn = () => tf.maxPool(tf.tensor4d(x, shape as [number, number, number, number]), k, stride, pad);
      assertClose(await onBackend("wasm", fn), await onBackend("cpu", fn), 0, "maxPool");
    });
  }

  it("windows holding NaN, -infinity and signed zeros give cpu's answers (NaN never wins, ties keep the first)", async () => {
    // One 2x2 window per channel; 21 channels cover the 16-, 4- and 1-channel paths.
    const c = 21;
    const taps = [
      [NaN, -Infinity, 1, -0], [1, -Infinity, NaN, 0], [NaN, NaN, NaN, NaN], [-0, 0, -0, 0], [0, -0, 0, -0],
      [-Infinity, -Infinity, NaN, -Infinity], [3, NaN, 2, 1],
    ];
    const x = new Float32Array(4 * c);
    for (let ch = 0; ch < c; ch++) for (let t = 0; t < 4; t++) x[t * c + ch] = taps[ch % taps.length][t];
    const fn = () => tf.maxPool(tf.tensor4d(x, [1, 2, 2, c]), 2, 2, "valid");
    const [got, want] = [await onBackend("wasm", fn), await onBackend("cpu", fn)];
    got.forEach((v, ch) => assert.ok(Object.is(v, want[ch]), `channel ${ch} (${taps[ch % taps.length]}): ${v}, cpu ${want[ch]}`));
  });
});
