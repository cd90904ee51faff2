/** Conv2DBackpropFilter split over two threads (helper worker on the shared wasm memory) vs one thread and cpu. */
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";
import { WasmBackendLike } from "../../lib/backend/wasm-util";
import { filterGradWorkerCalls, filterGradWorkerReady, useFilterGradWorker } from "../../lib/backend/filter-grad-worker";

const TOL = 1e-5;

describe("Conv2DBackpropFilter on two threads", () => {
  before(readyWasm);
  after(() => useFilterGradWorker(true));

  const cases = [
    { n: 5, h: 16, w: 15, cin: 12, k: 3, s: 1, pad: "same", cout: 13 },
    { n: 4, h: 33, w: 34, cin: 8, k: 3, s: 2, pad: "valid", cout: 16 },
  ];
  for (const c of cases) {
    it(`matches cpu and the one-thread kernel: ${JSON.stringify(c)}`, async () => {
      const backend = tf.findBackend("wasm") as unknown as WasmBackendLike;
      assert.equal(await filterGradWorkerReady(backend.wasm), true, "the helper worker should start on the threaded build");
      const oh = c.pad === "same" ? Math.ceil(c.h / c.s) : Math.ceil((c.h - c.k + 1) / c.s);
      const ow = c.pad === "same" ? Math.ceil(c.w / c.s) : Math.ceil((c.w - c.k + 1) / c.s);
      const xShape = [c.n, c.h, c.w, c.cin];
      const dyShape = [c.n, oh, ow, c.cout];
      const x = randomArray(tf.util.sizeFromShape(xShape), 7);
      const dy = randomArray(tf.util.sizeFromShape(dyShape), 8);
      const fn = () =>
        tf.engine().runKernel("Conv2DBackpropFilter", { x: tf.tensor(x, xShape), dy: tf.tensor(dy, dyShape) }, {
          strides: [c.s, c.s], pad: c.pad, dataFormat: "NHWC", filterShape: [c.k, c.k, c.cin, c.cout],
        } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const before = filterGradWorkerCalls();
      const two = await onBackend("wasm", fn);
      assert.equal(filterGradWorkerCalls(), before + 1, "the helper thread should have taken half the batch");
      useFilterGradWorker(false);
      const one = await onBackend("wasm", fn);
      useFilterGradWorker(true);
      assert.equal(filterGradWorkerCalls(), before + 1, "with the worker off, one thread does it all");
      const ref = await onBackend("cpu", fn);
      assertClose(two, ref, TOL, "two threads vs cpu");
      assertClose(two, one, TOL, "two threads vs one");
    });
  }
});
