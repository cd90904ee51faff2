/**
 * A second thread for Conv2DBackpropFilter on the threaded wasm backend. XNNPACK's pool sits idle while our
 * compiled kernel runs, so a worker_threads Worker instantiates training_kernels-shared.wasm on the SAME shared
 * memory and computes the filter gradient of the second half of the batch into its own zeroed buffer while the
 * caller's thread does the first half; the caller then adds the two. The handshake is a tiny SharedArrayBuffer
 * of Int32 slots driven by Atomics (the kernel is synchronous, so the caller blocks in Atomics.wait).
 * Until the worker has started (it loads asynchronously) callers get undefined and use one thread.
 */
import { Worker } from "worker_threads";
import * as fs from "fs";
import { kernelModulePath } from "./native-kernels";
import type { WasmMemory } from "./wasm-api";

/** Control slots: state, then the 16 kernel arguments. */
const STATE = 0;
const ARGS = 1;
const IDLE = 0;
const WORK = 1;
const DONE = 2;
const STACK_BYTES = 64 * 1024;

/** Runs in the worker: instantiate the kernels on the shared memory, then serve requests forever. */
const WORKER_SOURCE = `
const { workerData } = require("worker_threads");
const { memory, bytes, stackTop, control } = workerData;
const ctl = new Int32Array(control);
const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
instance.exports.__stack_pointer.value = stackTop;
const k = instance.exports.conv2d_backprop_filter;
Atomics.store(ctl, 17, 1);
Atomics.notify(ctl, 17);
for (;;) {
  Atomics.wait(ctl, ${STATE}, ${IDLE});
  if (Atomics.load(ctl, ${STATE}) !== ${WORK}) continue;
  const a = [];
  for (let i = 0; i < 16; i++) a.push(ctl[${ARGS} + i]);
  k(...a);
  Atomics.store(ctl, ${STATE}, ${DONE});
  Atomics.notify(ctl, ${STATE});
}
`;
const READY = 17;

interface Helper {
  control: Int32Array;
  worker: Worker;
  /** Set (between kernel calls, from the event loop) when the worker has exited or failed: later calls use one thread. */
  dead: boolean;
}

const helpers = new WeakMap<object, Helper | null>();

let handedOff = 0;

/** How many calls the helper thread has taken so far (tests check that the two-thread path really ran). */
export function filterGradWorkerCalls(): number {
  return handedOff;
}

let enabled = process.env.LESSONS_WASM_ONE_THREAD_FILTER !== "1";

/** Turn the second filter-gradient thread on or off (tests compare both; off = the single-thread kernel). */
export function useFilterGradWorker(on: boolean): void {
  enabled = on;
}

interface ModuleLike {
  asm?: { memory?: WasmMemory };
  wasmMemory?: WasmMemory;
  _malloc(bytes: number): number;
}

function start(wasmModule: ModuleLike): Helper | null {
  const memory = wasmModule.asm?.memory ?? wasmModule.wasmMemory;
  if (!memory || typeof SharedArrayBuffer === "undefined" || !(memory.buffer instanceof SharedArrayBuffer)) return null;
  try {
    const control = new Int32Array(new SharedArrayBuffer(4 * 18));
    const stackBase = wasmModule._malloc(STACK_BYTES) >>> 0;
    const bytes = fs.readFileSync(kernelModulePath(true));
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { memory, bytes, stackTop: stackBase + STACK_BYTES - 16, control: control.buffer },
    });
    worker.unref();
    const helper: Helper = { control, worker, dead: false };
    const retire = (why: string) => {
      helper.dead = true;
      helpers.set(wasmModule, null);
      if (process.env.LESSONS_DEBUG) console.warn(`filter-gradient worker stopped (${why}); using one thread`);
    };
    worker.on("error", (err) => retire(err.message));
    worker.on("exit", (code) => retire(`exit code ${code}`));
    return helper;
  } catch (err) {
    if (process.env.LESSONS_DEBUG) console.warn(`filter-gradient worker not started: ${(err as Error).message}`);
    return null;
  }
}

/** The started helper for this backend module, or undefined (not threaded, disabled, or not ready yet). */
function readyHelper(wasmModule: ModuleLike): Helper | undefined {
  if (!enabled) return undefined;
  let h = helpers.get(wasmModule);
  if (h === undefined) {
    h = start(wasmModule);
    helpers.set(wasmModule, h);
  }
  if (!h || Atomics.load(h.control, READY) !== 1) return undefined;
  return h;
}

/** Resolves true once the worker for this backend module can take work (false when it cannot start). */
export async function filterGradWorkerReady(wasmModule: ModuleLike, timeoutMs = 10000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (readyHelper(wasmModule)) return true;
    if (helpers.get(wasmModule) === null || Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Hands the worker one conv2d_backprop_filter call (same 16 arguments as the compiled kernel) and returns a
 * function that waits for it; undefined when no worker is ready (then the caller computes it itself).
 */
export function startOnWorker(wasmModule: ModuleLike, args: number[]): (() => void) | undefined {
  const h = readyHelper(wasmModule);
  if (!h || Atomics.load(h.control, STATE) !== IDLE) return undefined;
  for (let i = 0; i < 16; i++) h.control[ARGS + i] = args[i] | 0;
  Atomics.store(h.control, STATE, WORK);
  handedOff++;
  Atomics.notify(h.control, STATE);
  return () => {
    while (Atomics.load(h.control, STATE) !== DONE) Atomics.wait(h.control, STATE, WORK, 1000);
    Atomics.store(h.control, STATE, IDLE);
  };
}
