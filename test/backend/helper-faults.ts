/**
 * Fault injection for the helper thread's tests, kept out of lib: useFaultyHelperWorker() makes helpers started
 * from then on run faulty-helper-worker.cjs (lib's serve loop with test hooks), and armHelperFault() makes the next
 * job of such a helper fail in a chosen way.
 */
import * as path from "node:path";
import { helperThreadStatus, setHelperWorker } from "../../lib/backend/helper-thread";

/** Fault codes; faulty-helper-worker.cjs gets them in workerData, so they are written down only here. */
const CODES = { throw: 1, trap: 2, stall: 3, "throw-after-run": 4, hang: 5 } as const;
export type HelperFault = keyof typeof CODES;

/** [armed fault code, its milliseconds, a slot that stays 0 for the worker to sleep on, the argument a trap corrupts]. */
const block = new Int32Array(new SharedArrayBuffer(4 * 4));

/** Helpers started from now on (after useHelperThread(true), for instance) can be made to fail. */
export function useFaultyHelperWorker(): void {
  setHelperWorker({ file: path.join(__dirname, "faulty-helper-worker.cjs"), data: { block: block.buffer, codes: CODES } });
}

/**
 * Make the helper's next job fail. "throw" throws a JS error in the worker, "trap" runs the kernel with an
 * out-of-bounds pointer as argument `trapArg` so the wasm itself traps, "throw-after-run" fails after the kernel has written its output
 * (the caller must clear it before redoing the part), "stall" sleeps `ms` before picking the job up, "hang" picks
 * the job up and then sleeps `ms` (skipping the job if the caller has given up on it). False when this backend
 * module has no ready helper to arm (useFaultyHelperWorker must have been called before it started).
 */
export function armHelperFault(wasmModule: Parameters<typeof helperThreadStatus>[0], fault: HelperFault, ms = 0, trapArg = 0): boolean {
  if (helperThreadStatus(wasmModule).state !== "ready") return false;
  Atomics.store(block, 1, ms | 0);
  Atomics.store(block, 3, trapArg | 0);
  Atomics.store(block, 0, CODES[fault]);
  return true;
}
