/**
 * Kernels split over the helper thread (a worker on the shared wasm memory) against cpu and against one thread,
 * with odd batch sizes; plus the generic job API (any allowed export by name) and its argument checks.
 */
import { after, before, describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertClose, onBackend, randomArray, readyWasm } from "./helpers";
import { SPLIT_CASES } from "./split-cases";
import { WasmBackendLike, f32, ptr } from "../../lib/backend/wasm-util";
import {
  MAX_HELPER_ARGS, helperCalls, helperThreadReady, helperThreadStatus, startOnHelper, useHelperThread,
} from "../../lib/backend/helper-thread";

const TOL = 1e-5;

function wasmBackend(): WasmBackendLike {
  return tf.findBackend("wasm") as unknown as WasmBackendLike;
}

describe("kernels split over the helper thread", () => {
  before(async () => {
    await readyWasm();
    assert.equal(await helperThreadReady(wasmBackend().wasm), true, "the helper thread should start on the threaded build");
  });
  after(() => useHelperThread(true));

  for (const c of SPLIT_CASES) {
    for (const n of [1, 3, 5]) {
      it(`${c.kernel}, batch ${n}: matches cpu and one thread`, async () => {
        const fn = c.build(n);
        const tensors = tf.memory().numTensors;
        const dataIds = wasmBackend().numDataIds();
        const calls = helperCalls(c.exportName);
        const two = await onBackend("wasm", fn);
        // A batch of 1 cannot be split: the helper must not be used then.
        const jobs = c.jobs ? c.jobs(n) : n >= 2 ? 1 : 0;
        assert.equal(helperCalls(c.exportName), calls + jobs, "helper calls for this kernel");
        useHelperThread(false);
        const one = await onBackend("wasm", fn);
        useHelperThread(true);
        assert.equal(helperCalls(c.exportName), calls + jobs, "with the helper off, one thread does it all");
        const ref = await onBackend("cpu", fn);
        assertClose(two, ref, TOL, "two threads vs cpu");
        assertClose(two, one, TOL, "two threads vs one");
        assert.equal(tf.memory().numTensors, tensors, "no tensors left behind");
        assert.equal(wasmBackend().numDataIds(), dataIds, "no wasm buffers left behind");
      });
    }
  }

  it("runs any allowed export by name: sum_rows on the helper", async () => {
    const backend = wasmBackend();
    const rows = 37;
    const cols = 29;
    const values = randomArray(rows * cols, 5);
    await tf.setBackend("wasm");
    const x = tf.tensor2d(values, [rows, cols]);
    const out = tf.zeros([cols]);
    try {
      const xi = { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      const oi = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
      const calls = helperCalls("sum_rows");
      const wait = startOnHelper(backend.wasm, "sum_rows", [ptr(backend, xi), ptr(backend, oi), rows, cols]);
      assert.ok(wait, "a ready helper takes the job");
      assert.equal(wait(), true, "the helper reports success");
      assert.equal(helperCalls("sum_rows"), calls + 1);
      const got = f32(backend, oi);
      for (let j = 0; j < cols; j++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += values[i * cols + j];
        assert.ok(Math.abs(got[j] - s) < 1e-4, `column ${j}: ${got[j]} vs ${s}`);
      }
    } finally {
      x.dispose();
      out.dispose();
    }
  });

  it("rejects unknown exports, too many arguments and non-integers with clear errors", () => {
    const m = wasmBackend().wasm;
    assert.throws(() => startOnHelper(m, "memcpy" as never, []), /not a kernel the helper thread may run; allowed: conv2d_backprop_filter/);
    assert.throws(() => startOnHelper(m, "sum_rows", new Array(MAX_HELPER_ARGS + 1).fill(0)), /takes at most 20/);
    assert.throws(() => startOnHelper(m, "sum_rows", [0, 0, 1.5, 2]), /Argument 2 of sum_rows is 1.5/);
    assert.equal(helperThreadStatus(m).state, "ready", "bad requests do not touch the helper");
  });

  it("is off under useHelperThread(false): jobs are refused", () => {
    const m = wasmBackend().wasm;
    useHelperThread(false);
    try {
      assert.equal(startOnHelper(m, "sum_rows", [0, 0, 0, 0]), undefined);
      assert.equal(helperThreadStatus(m).state, "off");
    } finally {
      useHelperThread(true);
    }
  });

  for (const env of ["LESSONS_WASM_ONE_THREAD", "LESSONS_WASM_ONE_THREAD_FILTER"]) {
    it(`is off when ${env}=1`, () => {
      const lib = path.resolve(__dirname, "../../lib/backend/helper-thread.ts");
      const script = `const h = require(${JSON.stringify(lib)}); console.log(h.helperThreadStatus({ _malloc: () => 0 }).state);`;
      const out = execFileSync(process.execPath, ["--import", "tsx", "-e", script], { env: { ...process.env, [env]: "1" } });
      assert.equal(out.toString().trim(), "off");
    });
  }
});
