/**
 * The helper thread's worker for tests: the production serve loop of lib/backend/helper-worker.cjs, with hooks that
 * make the next job fail the way the test armed (helper-faults.ts writes [fault code, milliseconds] into
 * workerData.testData.block; the codes arrive in workerData.testData.codes). Started through setHelperWorker.
 */
"use strict";
const path = require("path");
const { workerData } = require("worker_threads");
const { serveHelper } = require(path.join(__dirname, "..", "..", "lib", "backend", "helper-worker.cjs"));

const { block, codes } = workerData.testData;
const faults = new Int32Array(block); // [0] armed fault code (0: none), [1] its milliseconds, [2] always 0, [3] trap's argument
const FAULT = 0;
const MS = 1;
const SLEEP = 2;
const TRAP_ARG = 3;
let current = 0; // the fault of the job being handled

function sleep() {
  Atomics.wait(faults, SLEEP, 0, Atomics.load(faults, MS));
}

serveHelper(workerData, {
  beforeClaim() {
    current = Atomics.exchange(faults, FAULT, 0);
    if (current === codes.stall) sleep(); // the caller must take the job back itself
  },
  afterClaim() {
    if (current === codes.hang) sleep(); // claimed, then silent far beyond the caller's limit
  },
  run(fn, args) {
    if (current === codes.throw) throw new Error("fault injected by a test (throw)");
    if (current === codes.trap) args[Atomics.load(faults, TRAP_ARG)] = -16; // a pointer at the top of the 4 GiB space: the wasm traps
    fn(...args);
    if (current === codes["throw-after-run"]) throw new Error("fault injected by a test after the kernel wrote its output");
  },
});
