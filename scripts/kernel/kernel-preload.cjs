/**
 * Preloaded into every tslab kernel (`node --require .../kernel-preload.cjs tslab kernel ...`), before any TypeScript
 * loader runs: the parent watch (parent-watch.cjs) and the fix for tslab's one-slot compiler timer (tslab-timers.cjs).
 * Worker threads inherit --require; both parts act in the main thread only.
 */
"use strict";
const { isMainThread } = require("worker_threads");

require("./parent-watch.cjs");
if (isMainThread) require("./tslab-timers.cjs").patchTslabTypescript();
