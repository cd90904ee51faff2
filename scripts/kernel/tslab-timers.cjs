/**
 * Preloaded into every tslab kernel (see kernel-preload.cjs). tslab's compiler host keeps room for one pending
 * TypeScript timer and throws "Unexpected pending rebuildTimer" when a second is asked for. TypeScript asks for one
 * whenever a watched file or folder changes (a library file saved, `npm install` touching node_modules), so two such
 * changes while a cell runs killed the kernel, and one change before a cell could make the cell fail.
 *
 * This wraps the host that tslab creates: callbacks asked for while tslab's one timer is pending join it, and all of
 * them run, in order, when tslab fires that timer (it does so synchronously before it compiles a cell). Callbacks
 * scheduled while they run are run in the same pass, as a real event loop would run them before the compile.
 * Plain CommonJS, main thread only (it loads TypeScript, which worker threads never need).
 */
"use strict";

/** Wraps `host.setTimeout` / `host.clearTimeout` of a compiler host whose timer has a single slot. */
function coalesceTimers(host) {
  const setOne = host.setTimeout.bind(host);
  const clearOne = host.clearTimeout.bind(host);
  let slot = null; // { handle, queue: [{ callback, args }] } while tslab's one timer is pending
  let draining = null; // the queue being run, while it runs

  host.setTimeout = (callback, _ms, ...args) => {
    const entry = { callback, args };
    if (draining) draining.push(entry);
    else if (slot) slot.queue.push(entry);
    else {
      const queue = [entry];
      slot = { queue, handle: null };
      slot.handle = setOne(() => {
        slot = null;
        draining = queue;
        try {
          for (let i = 0; i < queue.length; i++) queue[i].callback(...queue[i].args);
        } finally {
          draining = null;
        }
      }, 0);
    }
    return entry;
  };

  host.clearTimeout = (entry) => {
    const queue = draining ?? slot?.queue;
    const i = queue ? queue.indexOf(entry) : -1;
    if (i < 0) return; // already ran, or never ours: nothing to cancel
    if (queue === draining) {
      queue[i] = { callback: () => {}, args: [] }; // keep the indices of the running pass
      return;
    }
    queue.splice(i, 1);
    if (queue.length === 0) {
      clearOne(slot.handle);
      slot = null;
    }
  };
  return host;
}

/** TypeScript as tslab's converter sees it: the same module, with `createWatchCompilerHost` wrapped. */
function withCoalescedTimers(ts) {
  const view = {};
  for (const key of Object.keys(ts)) {
    if (key !== "createWatchCompilerHost") Object.defineProperty(view, key, { enumerable: true, get: () => ts[key] });
  }
  const create = ts.createWatchCompilerHost;
  Object.defineProperty(view, "createWatchCompilerHost", {
    enumerable: true,
    get: () => (...args) => coalesceTimers(create(...args)),
  });
  return view;
}

/**
 * TypeScript's exports are read-only getters, so the module itself cannot be patched: instead tslab's converter is
 * handed a view of it when it loads TypeScript (the way require-in-the-middle hooks a module).
 */
function patchTslabTypescript() {
  const Module = require("module");
  const load = Module._load;
  let view = null;
  Module._load = function (request, parent, ...rest) {
    const exports = load.call(this, request, parent, ...rest);
    if (request !== "@tslab/typescript-for-tslab" || !/[\\/]tslab[\\/]dist[\\/]converter\.js$/.test(parent?.filename ?? "")) {
      return exports;
    }
    view ??= withCoalescedTimers(exports);
    return view;
  };
}

module.exports = { coalesceTimers, patchTslabTypescript };
