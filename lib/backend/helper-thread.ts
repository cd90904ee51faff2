/**
 * A second thread for our compiled training kernels on the threaded wasm backend. XNNPACK's pool sits idle
 * while one of our kernels runs, so a worker_threads Worker instantiates training_kernels-shared.wasm on the
 * SAME shared memory and runs part of a kernel call (typically the second half of the batch) while the calling
 * thread does the rest. Jobs go through a small SharedArrayBuffer of Int32 slots driven by Atomics: the kernels
 * are synchronous, so the caller blocks in Atomics.wait until the helper is done.
 *
 * Failure safety: the worker catches every error (a wasm trap included) and reports FAILED; the caller then
 * computes that part itself and the helper is retired, so later calls use one thread. A job the helper has not
 * picked up within a generous limit is taken back the same way, so a stuck worker never blocks training. A job
 * that was picked up but runs far longer than the caller's own part cannot be taken back (the worker may still
 * be writing it): the caller then throws a clear Error and the helper is retired.
 * Until the worker has started (it loads asynchronously) callers get undefined and use one thread.
 * LESSONS_WASM_ONE_THREAD=1 (or the older LESSONS_WASM_ONE_THREAD_FILTER=1) turns the helper off.
 *
 * The worker's code is helper-worker.cjs beside this file (plain CommonJS, loaded by path under Node and Deno);
 * tests may start it through a script of their own that injects faults (setHelperWorker).
 */
import { Worker } from "worker_threads";
import { performance } from "perf_hooks";
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../paths";
import { debugMessages, wasmOneThread } from "../config";
import { kernelModulePath } from "./native-kernels";
import type { WasmMemory } from "./wasm-api";

/** The kernel exports the helper may run, in the order their index is sent through the control block. */
export const HELPER_EXPORTS = [
  "conv2d_backprop_filter",
  "max_pool_grad",
  "depthwise_backprop_filter",
  "sum_rows",
  "binary_rows",
  "batch_norm_rows",
  "conv2d_forward",
  "relu_grad",
  "batch_norm_grad",
  "depthwise_backprop_input",
  "conv2d_forward_into",
  "max_middle",
  "max_middle_grad",
  "sq_dev_rows",
  "moments_grad",
  "winograd_tiles",
  "winograd_filter_grad_tiles",
  "bias_act_rows",
  "dropout_mask",
  "relu_grad_sum",
  "batch_norm_grad_sums",
  "batch_norm_train_dx",
  "gemm_k_blocked",
  "winograd4_tiles",
  "relu_into",
  "depthwise_forward",
  "max_pool_forward",
] as const;
export type HelperExport = (typeof HELPER_EXPORTS)[number];

/** Most int arguments one job can carry. */
export const MAX_HELPER_ARGS = 20;

/**
 * The control block's layout, written down only here: the worker (helper-worker.cjs) gets it in workerData.
 * Each slot is one Int32 of the control block.
 */
const PROTOCOL = {
  slots: {
    STATE: 0, // the job state below
    READY: 1, // a load state below
    FN: 2, // index into HELPER_EXPORTS
    NARGS: 3,
    MSG_LEN: 4, // bytes of the error text in the message buffer
    AVAILABLE: 5, // bit i set: HELPER_EXPORTS[i] exists in the loaded module
    ARGS: 6, // MAX_HELPER_ARGS slots from here
  },
  jobs: {
    IDLE: 0,
    WORK: 1, // posted, not yet picked up
    RUNNING: 2, // the worker has it
    DONE: 3,
    FAILED: 4,
    CANCELLED: 5, // the caller gave up on a job that hung
  },
  load: { STARTING: 0, LOADED: 1, LOAD_FAILED: 2 },
} as const;
const { STATE, READY, FN, NARGS, MSG_LEN, AVAILABLE, ARGS } = PROTOCOL.slots;
const { IDLE, WORK, RUNNING, DONE, CANCELLED } = PROTOCOL.jobs;
const { LOADED, LOAD_FAILED } = PROTOCOL.load;
const SLOTS = ARGS + MAX_HELPER_ARGS;

const STACK_BYTES = 64 * 1024;
const MESSAGE_BYTES = 512;

interface ModuleLike {
  asm?: { memory?: WasmMemory };
  wasmMemory?: WasmMemory;
  _malloc(bytes: number): number;
}

interface Helper {
  control: Int32Array;
  message: Uint8Array;
  worker: Worker;
  /** Why it stopped taking work (set once); undefined while it is usable. */
  retired?: string;
  /** The revive epoch it was started in: useHelperThread(true) lets a retired helper be replaced. */
  epoch: number;
}

/** Per backend module: its helper, or null when this backend cannot have one (not threaded). */
const helpers = new WeakMap<object, Helper | null>();
const calls = new Map<HelperExport, number>();
let reviveEpoch = 0;
let enabled = !wasmOneThread();
let timeouts: HelperTimeouts = { pickupMs: 2000, hangMinMs: 60000 };

/** Jobs the helper has completed (for one export, or all): tests check that the two-thread path really ran. */
export function helperCalls(exportName?: HelperExport): number {
  if (exportName) return calls.get(exportName) ?? 0;
  let total = 0;
  for (const n of calls.values()) total += n;
  return total;
}

/**
 * Turn the helper thread on or off (off = every kernel on the calling thread, as with LESSONS_WASM_ONE_THREAD=1).
 * Turning it on also lets a helper that was retired after a failure be started afresh on the next call.
 */
export function useHelperThread(on: boolean): void {
  enabled = on;
  if (on) reviveEpoch++;
}

export interface HelperTimeouts {
  /** How long a posted job may wait to be picked up before the caller takes it back (normally microseconds). */
  pickupMs: number;
  /** A started job may run 20 times longer than the caller's own part, and at least this long, before the
   * caller gives up with an error. */
  hangMinMs: number;
}

/** Change the helper's time limits (tests shorten them); returns the previous ones. */
export function setHelperTimeouts(change: Partial<HelperTimeouts>): HelperTimeouts {
  for (const [key, ms] of Object.entries(change)) {
    if (!(typeof ms === "number" && ms > 0)) throw new Error(`Helper timeout ${key} must be a positive number of milliseconds, got ${ms}.`);
  }
  const previous = timeouts;
  timeouts = { ...timeouts, ...change };
  return previous;
}

export type HelperState = "off" | "unavailable" | "starting" | "ready" | "retired";

/** Where the helper of this backend module stands, and why when it was retired (diagnostics and tests). */
export function helperThreadStatus(wasmModule: ModuleLike): { state: HelperState; reason?: string } {
  if (!enabled) return { state: "off" };
  const h = helpers.get(wasmModule);
  if (h === null) return { state: "unavailable" };
  if (!h) return { state: "starting" };
  if (h.retired) return { state: "retired", reason: h.retired };
  return { state: Atomics.load(h.control, READY) === LOADED ? "ready" : "starting" };
}

/** A worker script to run instead of helper-worker.cjs (tests: see setHelperWorker). */
export interface HelperWorkerScript {
  /** Absolute path of a CommonJS worker script that calls serveHelper(workerData, hooks) of helper-worker.cjs. */
  file: string;
  /** Given to that script as workerData.testData (for example a SharedArrayBuffer through which a test arms faults). */
  data?: unknown;
}

let workerScript: HelperWorkerScript | undefined;

/**
 * Test hook: helpers started from now on run `script` instead of helper-worker.cjs; undefined goes back to it. A
 * running helper keeps its script: useHelperThread(true) after a retirement starts a new one. Returns the previous
 * setting. test/backend/helper-faults.ts uses it to inject failures; production code never calls it.
 */
export function setHelperWorker(script?: HelperWorkerScript): HelperWorkerScript | undefined {
  const previous = workerScript;
  workerScript = script;
  return previous;
}

function readMessage(h: Helper): string {
  const len = Atomics.load(h.control, MSG_LEN);
  return len > 0 ? new TextDecoder().decode(h.message.slice(0, len)) : "no message";
}

function retire(h: Helper, why: string): void {
  if (h.retired) return;
  h.retired = why;
  console.warn(`wasm helper thread stopped (${why}); the training kernels use one thread from now on.`);
  h.worker.terminate().catch(() => undefined);
}

function start(wasmModule: ModuleLike): Helper | null {
  const memory = wasmModule.asm?.memory ?? wasmModule.wasmMemory;
  if (!memory || typeof SharedArrayBuffer === "undefined" || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  try {
    const control = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
    const message = new Uint8Array(new SharedArrayBuffer(MESSAGE_BYTES));
    const bytes = fs.readFileSync(kernelModulePath(true));
    // The worker's shadow stack: a block of tfjs's heap, never freed (the worker lives as long as the backend).
    const stackBase = wasmModule._malloc(STACK_BYTES) >>> 0;
    const worker = new Worker(workerScript?.file ?? path.join(projectRoot(), "lib", "backend", "helper-worker.cjs"), {
      workerData: {
        memory, bytes, stackTop: stackBase + STACK_BYTES - 16, control: control.buffer, message: message.buffer,
        names: [...HELPER_EXPORTS], protocol: PROTOCOL, testData: workerScript?.data,
      },
    });
    worker.unref();
    const helper: Helper = { control, message, worker, epoch: reviveEpoch };
    worker.on("error", (err) => retire(helper, `worker error: ${err.message}`));
    worker.on("exit", (code) => retire(helper, `worker exited with code ${code}`));
    return helper;
  } catch (err) {
    if (debugMessages()) console.warn(`wasm helper thread not started: ${(err as Error).message}`);
    return null;
  }
}

/** The usable helper for this backend module, or undefined (not threaded, off, still starting, or retired). */
function readyHelper(wasmModule: ModuleLike): Helper | undefined {
  if (!enabled) return undefined;
  let h = helpers.get(wasmModule);
  if (h === undefined || (h && h.retired && h.epoch < reviveEpoch)) {
    h = start(wasmModule);
    helpers.set(wasmModule, h);
  }
  if (!h || h.retired) return undefined;
  const ready = Atomics.load(h.control, READY);
  if (ready === LOAD_FAILED) retire(h, `the kernels did not load in the worker: ${readMessage(h)}`);
  return ready === LOADED ? h : undefined;
}

/** Resolves true once the helper for this backend module can take work (false when it cannot, or on timeout). */
export async function helperThreadReady(wasmModule: ModuleLike, timeoutMs = 10000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (readyHelper(wasmModule)) return true;
    const h = helpers.get(wasmModule);
    if (!enabled || h === null || h?.retired || Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Hands the helper one call of a kernel export (int arguments, pointers as byte offsets) and returns wait(),
 * which blocks until the helper is done and says whether it succeeded. False means the helper failed or never
 * picked the job up: it has been retired, and the caller must compute that part itself (after clearing any
 * output the failed call may have half-written). wait() throws only if the helper started the job and then
 * hung far beyond the time the caller's own part took. Returns undefined when no helper can take the job now.
 */
export function startOnHelper(wasmModule: ModuleLike, exportName: HelperExport, args: number[]): (() => boolean) | undefined {
  const fn = HELPER_EXPORTS.indexOf(exportName);
  if (fn < 0) throw new Error(`'${exportName}' is not a kernel the helper thread may run; allowed: ${HELPER_EXPORTS.join(", ")}.`);
  if (args.length > MAX_HELPER_ARGS) {
    throw new Error(`${exportName} was given ${args.length} arguments; the helper thread takes at most ${MAX_HELPER_ARGS}.`);
  }
  const bad = args.findIndex((a) => !Number.isInteger(a));
  if (bad >= 0) throw new Error(`Argument ${bad} of ${exportName} is ${args[bad]}; the helper thread passes only integers.`);
  const h = readyHelper(wasmModule);
  if (!h || Atomics.load(h.control, STATE) !== IDLE) return undefined;
  if (!(Atomics.load(h.control, AVAILABLE) & (1 << fn))) return undefined;
  const ctl = h.control;
  ctl[FN] = fn;
  ctl[NARGS] = args.length;
  for (let i = 0; i < args.length; i++) ctl[ARGS + i] = args[i] | 0;
  const posted = performance.now();
  Atomics.store(ctl, STATE, WORK);
  Atomics.notify(ctl, STATE);
  return () => waitForJob(h, exportName, posted);
}

/** A job that started may run this many times longer than the caller's own part (and at least a minute). */
const HANG_FACTOR = 20;

function waitForJob(h: Helper, exportName: HelperExport, posted: number): boolean {
  const ctl = h.control;
  const hangLimit = Math.max(timeouts.hangMinMs, HANG_FACTOR * (performance.now() - posted));
  const pickupMs = timeouts.pickupMs;
  while (Atomics.load(ctl, STATE) === WORK) {
    const left = posted + pickupMs - performance.now();
    if (left > 0) {
      Atomics.wait(ctl, STATE, WORK, left);
    } else if (Atomics.compareExchange(ctl, STATE, WORK, IDLE) === WORK) {
      retire(h, `it did not pick up ${exportName} within ${pickupMs} ms`);
      return false;
    }
  }
  const runningSince = performance.now();
  while (Atomics.load(ctl, STATE) === RUNNING) {
    const left = runningSince + hangLimit - performance.now();
    if (left <= 0 && Atomics.compareExchange(ctl, STATE, RUNNING, CANCELLED) === RUNNING) {
      // Its part cannot be taken back (the worker may still be writing it), so this call fails.
      const limit = hangLimit < 10000 ? `${Math.round(hangLimit)} ms` : `${Math.round(hangLimit / 1000)} s`;
      retire(h, `${exportName} ran for over ${limit}`);
      throw new Error(
        `The wasm helper thread ran ${exportName} for over ${limit} and was stopped. Run the cell again ` +
          `(the kernels now use one thread), or set LESSONS_WASM_ONE_THREAD=1 before starting to avoid the helper.`,
      );
    }
    if (left <= 0) continue; // it finished just now
    Atomics.wait(ctl, STATE, RUNNING, Math.min(left, 1000));
  }
  const state = Atomics.load(ctl, STATE);
  Atomics.store(ctl, STATE, IDLE);
  if (state === DONE) {
    calls.set(exportName, (calls.get(exportName) ?? 0) + 1);
    return true;
  }
  retire(h, `${exportName} failed: ${readMessage(h)}`);
  return false;
}

/**
 * Runs one kernel call split in two: `helperArgs` for `exportName` on the helper thread while `mine` runs on
 * this one. If the helper fails or never picks its part up, `redo` computes that part here (it must first clear
 * whatever the failed part may have written), so a true result always means both parts are done. False, with
 * nothing run, when no helper can take the job (the caller then does everything on one thread as usual).
 */
export function splitOnHelper(
  wasmModule: ModuleLike,
  exportName: HelperExport,
  helperArgs: number[],
  mine: () => void,
  redo: () => void,
): boolean {
  const wait = startOnHelper(wasmModule, exportName, helperArgs);
  if (!wait) return false;
  let ok = false;
  try {
    mine();
  } finally {
    ok = wait();
  }
  if (!ok) redo();
  return true;
}
