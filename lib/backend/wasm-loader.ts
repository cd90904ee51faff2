/**
 * Starts tfjs-backend-wasm ourselves instead of through its own loader, which under Node always picks the
 * single-threaded build and, for threads, hands emscripten blob: URLs that worker_threads cannot load.
 * We give emscripten real file paths for the .wasm, the worker script and the main script, so the threaded SIMD
 * build runs its XNNPACK thread pool under Node and inside the tslab kernel. If threads cannot start, callers
 * register the single-threaded SIMD build instead.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { nodeRequire } from "../node-require";
import { wasmOneThread } from "../config";

interface EmscriptenModuleWithTfjs {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  tfjs?: Record<string, unknown>;
  PThread?: {
    terminateAllThreads(): void;
    runningWorkers: Array<{ unref?: () => void }>;
    unusedWorkers: Array<{ unref?: () => void; terminate?: () => unknown }>;
  };
}

type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModuleWithTfjs>;

interface WasmPackage {
  BackendWasm: new (module: unknown) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

function packageDir(): string {
  return path.dirname(nodeRequire().resolve("@tensorflow/tfjs-backend-wasm/package.json"));
}

/** True under Deno (its Node compatibility runs our code and emscripten's Node path). */
export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === "object";

/**
 * Under Deno a worker_threads Worker is a web worker whose global scope has read-only properties (`location`),
 * which the pthread worker overwrites with Object.assign: make them plain writable properties first. Empty
 * under Node, so the worker file there is unchanged.
 */
const DENO_WORKER_PRELUDE = isDeno
  ? `for (const k of ["self", "location", "Worker", "postMessage", "performance", "importScripts"]) {
  try { Object.defineProperty(globalThis, k, { value: globalThis[k], writable: true, configurable: true, enumerable: true }); } catch {}
}
`
  : "";

/**
 * The package ships the pthread worker as a JS string (meant for a blob: URL); worker_threads needs a file,
 * so write the string to one (once per content) in the OS temp folder.
 */
function workerScriptFile(dir: string): string {
  const { wasmWorkerContents } = nodeRequire()(path.join(dir, "tfjs-backend-wasm-threaded-simd.worker.js")) as { wasmWorkerContents: string };
  // The template literal turned the source's "\n" escapes into newlines inside string literals: undo that.
  const source = DENO_WORKER_PRELUDE + wasmWorkerContents.replace(/\n/g, "\\n");
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const file = path.join(os.tmpdir(), `tfjs-backend-wasm-worker-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const partial = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(partial, source);
    fs.renameSync(partial, file);
  }
  return file;
}

const ERROR_EVENTS = ["uncaughtException", "unhandledRejection"] as const;

type ErrorListener = (...args: unknown[]) => void;

function processErrorListeners(): Map<string, ErrorListener[]> {
  return new Map(ERROR_EVENTS.map((e) => [e, process.listeners(e as "uncaughtException") as ErrorListener[]]));
}

/**
 * The emscripten glue, run under Node, adds process listeners that rethrow every uncaught exception and unhandled
 * rejection, which turns them into a crash: a promise that nobody awaited in a notebook cell would kill the kernel
 * (tslab reports it and carries on) and the learner would lose every variable. They are removed again.
 */
function removeListenersAddedSince(before: Map<string, ErrorListener[]>): void {
  for (const [event, had] of before) {
    for (const listener of process.listeners(event as "uncaughtException") as ErrorListener[]) {
      if (!had.includes(listener)) process.removeListener(event, listener);
    }
  }
}

/** The emscripten module of one of the wasm builds, started with real file paths. */
async function startModule(threaded: boolean, poolThreads: number): Promise<EmscriptenModuleWithTfjs> {
  const dir = path.join(packageDir(), "wasm-out");
  const script = path.join(dir, threaded ? "tfjs-backend-wasm-threaded-simd.js" : "tfjs-backend-wasm.js");
  const binary = path.join(dir, threaded ? "tfjs-backend-wasm-threaded-simd.wasm" : "tfjs-backend-wasm-simd.wasm");
  for (const f of [script, binary]) {
    if (!fs.existsSync(f)) throw new Error(`${f} is missing; reinstall @tensorflow/tfjs-backend-wasm 4.22.0 (npm ci).`);
  }
  const factory = nodeRequire()(script) as Factory;
  const before = processErrorListeners();
  const module = await factory({
    locateFile: (file: string) =>
      file.endsWith(".wasm") ? binary : file.endsWith(".worker.js") ? workerScriptFile(dir) : path.join(dir, file),
    mainScriptUrlOrBlob: script,
    print: () => undefined,
  });
  removeListenersAddedSince(before);
  const initWithThreadsCount = module.cwrap("init_with_threads_count", null, ["number"]);
  module.tfjs = {
    init: module.cwrap("init", null, []),
    // BackendWasm passes the count given to setThreadsCount, which is not always the same module instance's
    // variable as ours; use the count we were asked for.
    initWithThreadsCount: () => initWithThreadsCount(poolThreads),
    getThreadsCount: module.cwrap("get_threads_count", "number", []),
    registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
    disposeData: module.cwrap("dispose_data", null, ["number"]),
    dispose: module.cwrap("dispose", null, []),
  };
  return module;
}

/**
 * The C++ side sizes XNNPACK's pool as min(requested, logical cores / 2), a browser heuristic that leaves one
 * thread on 2 vCPUs. While the module starts and sizes its pool, report twice the wanted thread count as the
 * core count (emscripten asks os.cpus() under Node), so the pool gets the threads we ask for. Returns a
 * function that restores os.cpus.
 */
function showCores(count: number): () => void {
  // The real module object (an `import * as` namespace would be a copy).
  const nodeOs = nodeRequire()("os") as { cpus: () => os.CpuInfo[] };
  const original = nodeOs.cpus;
  const real = original();
  if (real.length === 0 || real.length >= count) return () => undefined;
  const shown = Array.from({ length: count }, (_, i) => real[i % real.length]);
  nodeOs.cpus = () => shown;
  return () => {
    nodeOs.cpus = original;
  };
}

/**
 * How many threads XNNPACK's pool (the stock kernels) gets out of `threads`: all but the one our helper thread
 * (helper-thread.ts) computes on, when it will run. XNNPACK's workers spin for a while after each stock kernel
 * before they sleep; on 2 cores such a spinning worker takes the core our next split kernel needs (measured:
 * lesson 05's conv, batch norm, ReLU6 sequence 2.2 -> 1.2 ms with the pool on one thread).
 */
export function xnnpackPoolThreads(threads: number, helper = !wasmOneThread()): number {
  return threads > 1 && helper ? threads - 1 : threads;
}

/**
 * Replaces the 'wasm' backend factory with one that starts the threaded (threads > 1) or single-threaded SIMD
 * build, and activates it. Returns the threads it computes with: XNNPACK's pool and our helper thread.
 */
export async function activateWasm(threads: number, timeoutMs = 20000): Promise<number> {
  const pkg = nodeRequire()("@tensorflow/tfjs-backend-wasm") as WasmPackage; // registers the wasm kernels
  const threaded = threads > 1;
  const pool = xnnpackPoolThreads(threads);
  // Not tf.findBackend: it would start the package's own (single-threaded) loader.
  if ("wasm" in tf.engine().registryFactory) tf.removeBackend("wasm");
  pkg.setThreadsCount(pool);
  const restoreCores = showCores(pool > 1 ? 2 * pool : 0);
  const started = startModule(threaded, pool);
  // A thread pool that never comes up would hang forever: give up after a while.
  let timer: NodeJS.Timeout | undefined;
  let module: EmscriptenModuleWithTfjs;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ${threaded ? "threaded " : ""}wasm module did not start within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    module = await Promise.race([started, timeout]);
    tf.registerBackend("wasm", () => new pkg.BackendWasm(module), 2);
  } catch (err) {
    restoreCores();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  try {
    if (!(await tf.setBackend("wasm"))) throw new Error("tf.setBackend('wasm') failed");
    await tf.ready();
  } finally {
    restoreCores();
  }
  // XNNPACK's pool threads live for the whole process and emscripten keeps them referenced, so a script or
  // test would never exit: let Node exit while they wait for work.
  for (const w of [...(module.PThread?.runningWorkers ?? []), ...(module.PThread?.unusedWorkers ?? [])]) w.unref?.();
  // The package's build starts a fixed pool of 8 pthread workers up front, and XNNPACK's pool runs on threads - 1
  // of them; each idle one is a whole worker (its own JS heap and copy of the emscripten script, about 20 MB).
  // End them: emscripten starts a new worker whenever a thread is wanted and none is left.
  for (const w of module.PThread?.unusedWorkers.splice(0) ?? []) void w.terminate?.();
  // The pool runs on emscripten pthreads (the caller's thread plus the running workers); the helper on its own.
  return threaded ? 1 + (module.PThread?.runningWorkers.length ?? 0) + (threads - pool) : 1;
}
