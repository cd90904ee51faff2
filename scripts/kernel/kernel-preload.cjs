/**
 * Preloaded into every tslab kernel (`node --require .../kernel-preload.cjs tslab kernel ...`), before any TypeScript
 * loader runs: the parent watch (parent-watch.cjs), the fix for tslab's one-slot compiler timer (tslab-timers.cjs)
 * and a readable report of failures whose value prints as nothing (blank-errors.cjs).
 * Worker threads inherit --require; the last two act in the main thread only.
 */
"use strict";
const { isMainThread } = require("worker_threads");

require("./parent-watch.cjs");
if (isMainThread) require("./tslab-timers.cjs").patchTslabTypescript();
if (isMainThread) require("./blank-errors.cjs").patchConsoleError();
