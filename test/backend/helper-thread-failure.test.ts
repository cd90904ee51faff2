/**
 * Failure safety of the helper thread: a job that throws in the worker, one whose wasm traps, and one the worker
 * does not pick up in time. Each time the caller must compute that part itself (correct result, no hang, no
 * leaks), the helper must be retired so that the next call runs on one thread, and useHelperThread(true) must
 * bring a fresh helper back. The faults come from a test-only worker script (helper-faults.ts): lib's worker has
 * no fault hooks of its own.
 */
import { after, before, describe, it } from "node:test";
import { performance } from "node:perf_hooks";
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { assertClose, onBackend, readyWasm } from "./helpers";
import { SPLIT_CASES } from "./split-cases";
import { WasmBackendLike } from "../../lib/backend/wasm-util";
import {
  helperCalls, helperThreadReady, helperThreadStatus, HelperTimeouts, setHelperTimeouts, setHelperWorker, useHelperThread,
} from "../../lib/backend/helper-thread";
import { HelperFault, armHelperFault, useFaultyHelperWorker } from "./helper-faults";

const TOL = 1e-5;
const BATCH = 3;

function wasmModule(): WasmBackendLike["wasm"] {
  return (tf.findBackend("wasm") as unknown as WasmBackendLike).wasm;
}

/** A fresh helper (after a previous test retired one). */
async function freshHelper(): Promise<void> {
  useHelperThread(true);
  assert.equal(await helperThreadReady(wasmModule()), true, "a fresh helper should start after useHelperThread(true)");
}

describe("helper thread failures", () => {
  const references = new Map<string, Float32Array>();
  let savedTimeouts: HelperTimeouts | undefined;
  before(async () => {
    useFaultyHelperWorker(); // before any helper starts: every helper of this file can be made to fail
    await readyWasm();
    for (const c of SPLIT_CASES) references.set(c.kernel, await onBackend("cpu", c.build(BATCH)));
  });
  after(() => {
    if (savedTimeouts) setHelperTimeouts(savedTimeouts);
    setHelperWorker(undefined);
    useHelperThread(true);
  });

  const faults: { fault: HelperFault; reason: RegExp }[] = [
    { fault: "throw", reason: /failed: fault injected by a test/ },
    { fault: "trap", reason: /failed: .*(out of bounds|memory access)/i },
    // The part was written before the failure: the caller must clear it before computing it again.
    { fault: "throw-after-run", reason: /failed: fault injected by a test after the kernel wrote its output/ },
    { fault: "stall", reason: /did not pick up .* within 50 ms/ },
  ];
  for (const { fault, reason } of faults) {
    for (const c of SPLIT_CASES) {
      it(`${c.kernel}: a helper that ${fault === "stall" ? "stalls" : fault === "trap" ? "traps" : fault === "throw" ? "throws" : "fails after writing"} is retired and the result is still right`, async () => {
        await freshHelper();
        const m = wasmModule();
        if (fault === "stall") savedTimeouts ??= setHelperTimeouts({ pickupMs: 50 });
        const tensors = tf.memory().numTensors;
        const dataIds = (tf.findBackend("wasm") as unknown as WasmBackendLike).numDataIds();
        const calls = helperCalls();
        // A stalled worker sleeps 6 s: long enough that "did not wait for it" holds even on a loaded machine.
        assert.equal(armHelperFault(m, fault, fault === "stall" ? 6000 : 1500, c.trapArg), true);
        const started = performance.now();
        const got = await onBackend("wasm", c.build(BATCH));
        const took = performance.now() - started;
        assert.equal(helperCalls(), calls, "a failed job does not count as a helper call");
        const status = helperThreadStatus(m);
        assert.equal(status.state, "retired");
        assert.match(status.reason ?? "", reason);
        assertClose(got, references.get(c.kernel)!, TOL, "result after the helper failed vs cpu");
        // The caller must have taken its part back long before the stalled worker wakes.
        if (fault === "stall") assert.ok(took < 3000, `the call took ${took.toFixed(0)} ms; it should not wait for a stalled helper`);

        // Retired: the next call runs on one thread and is still right.
        const again = await onBackend("wasm", c.build(BATCH));
        assert.equal(helperCalls(), calls, "a retired helper takes no more jobs");
        assertClose(again, references.get(c.kernel)!, TOL, "one thread after retirement vs cpu");
        assert.equal(tf.memory().numTensors, tensors, "no tensors left behind");
        assert.equal((tf.findBackend("wasm") as unknown as WasmBackendLike).numDataIds(), dataIds, "no wasm buffers left behind");
      });
    }
  }

  for (const c of SPLIT_CASES) {
    it(`${c.kernel}: a job that hangs after pickup ends in a clear error, not a frozen process`, async () => {
      await freshHelper();
      const m = wasmModule();
      const previous = setHelperTimeouts({ hangMinMs: 100 });
      const tensors = tf.memory().numTensors;
      const dataIds = (tf.findBackend("wasm") as unknown as WasmBackendLike).numDataIds();
      try {
        assert.equal(armHelperFault(m, "hang", 1500), true);
        const started = performance.now();
        await assert.rejects(onBackend("wasm", c.build(BATCH)), /helper thread ran \w+ for over \d+ ms and was stopped.*LESSONS_WASM_ONE_THREAD=1/);
        assert.ok(performance.now() - started < 1000, "the caller gave up at its limit, long before the helper woke");
      } finally {
        setHelperTimeouts(previous);
      }
      assert.equal(helperThreadStatus(m).state, "retired");
      assert.equal(tf.memory().numTensors, tensors, "no tensors left behind");
      // Exactly one buffer stays: the one the hung helper may still write to (freeing it could corrupt a later tensor).
      assert.equal((tf.findBackend("wasm") as unknown as WasmBackendLike).numDataIds(), dataIds + 1, "only the helper's buffer kept");
      assertClose(await onBackend("wasm", c.build(BATCH)), references.get(c.kernel)!, TOL, "the next call, on one thread, vs cpu");
    });
  }

  it("rejects timeouts that are not positive", () => {
    assert.throws(() => setHelperTimeouts({ pickupMs: 0 }), /pickupMs must be a positive number of milliseconds, got 0/);
  });

  it("a revived helper takes jobs again", async () => {
    await freshHelper();
    const c = SPLIT_CASES[0];
    const calls = helperCalls(c.exportName);
    assertClose(await onBackend("wasm", c.build(BATCH)), references.get(c.kernel)!, TOL, "revived helper vs cpu");
    assert.equal(helperCalls(c.exportName), calls + 1);
  });
});
