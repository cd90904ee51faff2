/**
 * The helper thread's worker (started by helper-thread.ts): instantiates our training kernels on tfjs's shared wasm
 * memory, then serves kernel calls posted through the control block until it is terminated. Plain CommonJS, so
 * Node's and Deno's worker_threads load it by path, with no TypeScript loader.
 *
 * The control block's layout (slot numbers, job states, load states) is written down once, in helper-thread.ts,
 * and arrives here in workerData.protocol.
 *
 * Run as the worker's script, this file serves with no hooks. A test starts the helper with its own script instead
 * (setHelperWorker in helper-thread.ts), which calls serveHelper(workerData, hooks) to make chosen jobs fail.
 */
"use strict";

/**
 * Test hooks around each job; the production worker has none.
 * @typedef {object} HelperHooks
 * @property {() => void} [beforeClaim] runs when a posted job is seen, before the worker claims it (a test stalls
 *   here: the caller must then take the job back itself)
 * @property {() => void} [afterClaim] runs after the worker claimed the job, before the kernel (a test hangs here);
 *   a job the caller cancelled meanwhile is skipped without touching memory
 * @property {(fn: (...args: number[]) => void, args: number[]) => void} [run] runs the kernel call instead of
 *   fn(...args) (a test throws before or after it, or spoils an argument)
 */

/**
 * Instantiates the kernels on the shared memory, reports READY (or the load error), then serves jobs forever.
 * @param {object} data the workerData helper-thread.ts sends: memory, bytes, stackTop, control, message, names, protocol
 * @param {HelperHooks} [hooks]
 */
function serveHelper(data, hooks = {}) {
  const { memory, bytes, stackTop, control, message, names, protocol } = data;
  const { STATE, READY, FN, NARGS, MSG_LEN, AVAILABLE, ARGS } = protocol.slots;
  const { WORK, RUNNING, DONE, FAILED } = protocol.jobs;
  const { LOADED, LOAD_FAILED } = protocol.load;
  const { beforeClaim, afterClaim, run } = hooks;
  const ctl = new Int32Array(control);
  const msg = new Uint8Array(message);

  function report(err) {
    const text = new TextEncoder().encode(String((err && err.message) || err)).subarray(0, msg.length);
    msg.set(text);
    Atomics.store(ctl, MSG_LEN, text.length);
  }

  let fns;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    instance.exports.__stack_pointer.value = stackTop;
    fns = names.map((n) => instance.exports[n]);
    let available = 0;
    fns.forEach((f, i) => {
      if (typeof f === "function") available |= 1 << i;
    });
    Atomics.store(ctl, AVAILABLE, available);
    Atomics.store(ctl, READY, LOADED);
  } catch (err) {
    report(err);
    Atomics.store(ctl, READY, LOAD_FAILED);
    return;
  }

  for (;;) {
    const s = Atomics.load(ctl, STATE);
    if (s !== WORK) {
      Atomics.wait(ctl, STATE, s);
      continue;
    }
    if (beforeClaim) beforeClaim();
    // The caller may have taken the job back meanwhile: only a successful exchange makes it ours.
    if (Atomics.compareExchange(ctl, STATE, WORK, RUNNING) !== WORK) continue;
    if (afterClaim) {
      afterClaim();
      if (Atomics.load(ctl, STATE) !== RUNNING) continue; // cancelled meanwhile: leave memory alone
    }
    let state = DONE;
    try {
      const fn = fns[ctl[FN]];
      if (typeof fn !== "function") throw new Error("no kernel export number " + ctl[FN]);
      const args = Array.from(ctl.subarray(ARGS, ARGS + ctl[NARGS]));
      if (run) run(fn, args);
      else fn(...args);
    } catch (err) {
      report(err);
      state = FAILED;
    }
    Atomics.store(ctl, STATE, state);
    Atomics.notify(ctl, STATE);
  }
}

module.exports = { serveHelper };

if (require.main === module) serveHelper(require("worker_threads").workerData);
