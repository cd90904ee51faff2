/**
 * Picks the fastest TensorFlow.js backend that works on this machine and gets it ready for training.
 *
 * Order: @tensorflow/tfjs-node-gpu (installed, loads, and a GPU is visible), @tensorflow/tfjs-node, the wasm
 * backend with this project's training kernels (tfjs-backend-wasm alone cannot train convolutions), and last the
 * pure-JS cpu backend (correct but ~1000x slower). The native packages are optional: they need internet at
 * install time, so they are not dependencies and are loaded by name only if present.
 *
 *   const info = await setupBackend();          // in a notebook cell or a script
 *   LESSONS_BACKEND=cpu LESSONS_THREADS=1 ...   // environment overrides
 */
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs";
import { activateWasm, xnnpackPoolThreads } from "./backend/wasm-loader";
import { registerWasmTrainingKernels } from "./backend/wasm-kernels";
import { installFreeingBackprop } from "./backend/free-gradients";
import { kernelBuildChoice } from "./backend/kernel-build";
import { registerLeanGradients } from "./backend/gradients";
import { nodeRequire } from "./node-require";
import { BACKEND_NAMES, type BackendName, backendSetting, threadsSetting } from "./config";

export type { BackendName };

export interface BackendInfo {
  name: BackendName;
  /** Threads the backend computes with (wasm: XNNPACK pool size; native: logical cores). */
  threads: number;
  /** Why this backend was chosen (and why faster ones were not). */
  reason: string;
}

export interface SetupBackendOptions {
  /** Force a backend instead of picking one; LESSONS_BACKEND in the environment does the same. */
  backend?: BackendName;
  /** Threads for the wasm backend (default: all logical cores; 1 = single-threaded build); LESSONS_THREADS does the same. */
  threads?: number;
  /** Do not print the one-line summary. */
  quiet?: boolean;
}

// Kept on globalThis, not in a module variable: a notebook or test runner may load this module twice (CommonJS
// and ESM copies), and starting the wasm backend twice would leave kernels bound to the wrong instance.
const STATE = Symbol.for("cnn-lessons-ts.setupBackend");
type State = { pending?: Promise<BackendInfo> };
const state: State = ((globalThis as Record<symbol, State>)[STATE] ??= {});

/** Sets up the backend once; later calls return the same info (options of later calls are ignored). */
export function setupBackend(options: SetupBackendOptions = {}): Promise<BackendInfo> {
  if (!state.pending) {
    const pending = chooseBackend(options).then((info) => {
      if (!options.quiet) {
        const line = `TensorFlow.js backend: ${info.name} (${info.threads} thread${info.threads === 1 ? "" : "s"}) - ${info.reason}`;
        if (info.name === "cpu") console.warn(`WARNING: ${line}`);
        else console.log(line);
      }
      return info;
    });
    state.pending = pending;
    pending.catch(() => (state.pending = undefined));
  }
  return state.pending;
}

function requestedBackend(options: SetupBackendOptions): BackendName | undefined {
  if (options.backend === undefined) return backendSetting();
  if (!BACKEND_NAMES.includes(options.backend)) {
    throw new Error(`Unknown backend '${options.backend}' (from options.backend); use one of ${BACKEND_NAMES.join(", ")}.`);
  }
  return options.backend;
}

function requestedThreads(options: SetupBackendOptions): number | undefined {
  if (options.threads === undefined) return threadsSetting();
  if (!Number.isInteger(options.threads) || options.threads < 1) {
    throw new Error(`Thread count must be a positive integer, got '${String(options.threads)}' (options.threads).`);
  }
  return options.threads;
}

async function chooseBackend(options: SetupBackendOptions): Promise<BackendInfo> {
  const forced = requestedBackend(options);
  const threads = requestedThreads(options);
  const skipped: string[] = [];
  const order = forced ? [forced] : BACKEND_NAMES;
  for (const name of order) {
    try {
      const info = await tryBackend(name, threads);
      registerLeanGradients();
      installFreeingBackprop();
      const why = forced ? `forced by ${options.backend ? "options.backend" : "LESSONS_BACKEND"}: ${info.reason}` : info.reason;
      return { ...info, reason: [why, ...skipped].join("; ") };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (forced) throw new Error(`Backend '${name}' was requested but cannot start: ${message}`);
      skipped.push(`${name} unavailable (${message.split("\n")[0]})`);
    }
  }
  throw new Error(`No TensorFlow.js backend could start: ${skipped.join("; ")}`);
}

/** `require` by a computed name, so TypeScript does not need the optional native packages installed. */
function requireOptional(name: string): unknown {
  return nodeRequire()(name);
}

function gpuVisible(): boolean {
  return fs.existsSync("/proc/driver/nvidia/version") || fs.existsSync("/dev/nvidia0");
}

async function tryBackend(name: BackendName, threads: number | undefined): Promise<Omit<BackendInfo, "reason"> & { reason: string }> {
  switch (name) {
    case "node-gpu": {
      if (!gpuVisible()) throw new Error("no NVIDIA GPU visible");
      requireOptional("@tensorflow/tfjs-node-gpu");
      await activate("tensorflow");
      return { name, threads: threads ?? cores(), reason: "@tensorflow/tfjs-node-gpu is installed and a GPU is visible" };
    }
    case "node": {
      requireOptional("@tensorflow/tfjs-node");
      await activate("tensorflow");
      return { name, threads: threads ?? cores(), reason: "@tensorflow/tfjs-node (native TensorFlow) is installed" };
    }
    case "wasm": {
      const wanted = threads ?? cores();
      let got = 1;
      let note = "";
      try {
        got = await activateWasm(wanted);
      } catch (err) {
        // Threads can fail where workers cannot start (some sandboxes, kernels): one thread still trains.
        note = `; threads could not start (${(err as Error).message.split("\n")[0]}), running single-threaded`;
        got = await activateWasm(1);
      }
      registerWasmTrainingKernels();
      const pool = xnnpackPoolThreads(got);
      const how = got > 1 ? `threaded SIMD build, ${got} threads${pool < got ? `: XNNPACK's pool on ${pool}, our kernels split over a helper` : ""}` : "single-threaded SIMD build";
      const kernels = kernelBuildChoice().reason; // relaxed SIMD (fused multiply-add) where the runtime has it
      return { name, threads: got, reason: `no native @tensorflow/tfjs-node: wasm (${how}) with project training kernels, ${kernels}${note}` };
    }
    case "cpu": {
      await activate("cpu");
      return { name, threads: 1, reason: "pure-JS cpu backend: correct but very slow for training convolutional networks" };
    }
  }
}

async function activate(backendName: string): Promise<void> {
  const ok = await tf.setBackend(backendName);
  if (!ok) throw new Error(`tf.setBackend('${backendName}') failed`);
  await tf.ready();
}

function cores(): number {
  const os = nodeRequire()("os") as typeof import("os");
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}
