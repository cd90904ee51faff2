/**
 * The course's environment variables (LESSONS_*), read and checked here and nowhere else: lib/ and scripts/ call
 * these accessors instead of reading process.env. README.md's "Environment variables" table lists every variable,
 * including the few read by plain CommonJS or shell launchers, which cannot import this module.
 *
 * Each accessor reads the environment when it is called, not once at import: a variable set by a parent process
 * (the runner, prepare-class) or changed by a test at run time is seen, and reading is cheap. A bad value throws an
 * Error naming the variable, what it must be and how to fix it. An empty value counts as unset, except for
 * LESSONS_DATA_MIRROR, where empty turns the mirror off. Every accessor takes the environment to read as an
 * optional argument (default process.env).
 */
import * as path from "path";

type Env = NodeJS.ProcessEnv;

/** The TensorFlow.js backends setupBackend() knows, fastest first (LESSONS_BACKEND takes one of them). */
export const BACKEND_NAMES = ["node-gpu", "node", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** The progress-line modes (LESSONS_PROGRESS takes one of them; lib/progress.ts says what each does). */
export const PROGRESS_MODES = ["auto", "tty", "live", "epoch", "none"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

/** The value, trimmed, or undefined when unset or empty. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function invalid(name: string, value: string, expected: string, fix: string): Error {
  return new Error(
    `${name} is set to ${JSON.stringify(value)}, but it must be ${expected}. ` +
      `Fix: ${fix} or unset it, where Jupyter or the command is started.`,
  );
}

/** A switch: "1" on; "0", empty or unset off. */
function flag(env: Env, name: string, what: string): boolean {
  const value = read(env, name);
  if (value === undefined || value === "0") return false;
  if (value === "1") return true;
  throw invalid(name, value, `1 (${what}) or 0 (off)`, `set ${name}=1 to turn it on or ${name}=0 to turn it off`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], example: T): T | undefined {
  const value = read(env, name);
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(name, value, `one of ${allowed.join(", ")}`, `set ${name}=${example} (for example)`);
}

function folder(env: Env, name: string): string | undefined {
  const value = read(env, name);
  return value === undefined ? undefined : path.resolve(value);
}

// Backends and our wasm kernels.

/** LESSONS_BACKEND: force a backend (node-gpu, node, wasm, cpu) instead of the fastest that starts. */
export function backendSetting(env: Env = process.env): BackendName | undefined {
  return oneOf(env, "LESSONS_BACKEND", BACKEND_NAMES, "wasm");
}

/** LESSONS_THREADS: how many threads the wasm backend computes with (default one per logical core). */
export function threadsSetting(env: Env = process.env): number | undefined {
  const value = read(env, "LESSONS_THREADS");
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value) && Number(value) >= 1) return Number(value);
  throw invalid("LESSONS_THREADS", value, "a whole number of threads, 1 or more", "set LESSONS_THREADS=2 (for example)");
}

/** LESSONS_WASM_ONE_THREAD=1 (or the older LESSONS_WASM_ONE_THREAD_FILTER=1): our kernels on one thread, no helper. */
export function wasmOneThread(env: Env = process.env): boolean {
  const on = flag(env, "LESSONS_WASM_ONE_THREAD", "our kernels on one thread");
  const older = flag(env, "LESSONS_WASM_ONE_THREAD_FILTER", "our kernels on one thread");
  return on || older;
}

/** LESSONS_WASM_NO_WINOGRAD=1: 3x3 convolutions and their filter gradients computed directly instead of with Winograd's transforms. */
export function wasmNoWinograd(env: Env = process.env): boolean {
  return flag(env, "LESSONS_WASM_NO_WINOGRAD", "no Winograd convolutions");
}

/** LESSONS_WASM_NO_RELAXED_SIMD=1: the plain SIMD build of our kernels even where relaxed SIMD works. */
export function wasmNoRelaxedSimd(env: Env = process.env): boolean {
  return flag(env, "LESSONS_WASM_NO_RELAXED_SIMD", "the plain SIMD build");
}

/** LESSONS_WASM_JS_KERNELS=1: the plain-JavaScript versions of our kernels instead of the compiled ones. */
export function wasmJsKernels(env: Env = process.env): boolean {
  return flag(env, "LESSONS_WASM_JS_KERNELS", "JavaScript kernels");
}

/** LESSONS_DEBUG=1: say why the compiled kernels or the helper thread could not be used. */
export function debugMessages(env: Env = process.env): boolean {
  return flag(env, "LESSONS_DEBUG", "debug messages");
}

// Data.

/** LESSONS_DATA_DIR: the download cache (absolute; default `<checkout>/data`). */
export function dataDirSetting(env: Env = process.env): string | undefined {
  return folder(env, "LESSONS_DATA_DIR");
}

/**
 * LESSONS_DATA_MIRROR: the offline mirror folder (absolute); null when "none" or empty turns the mirror off;
 * undefined when unset (then `../shared/data` beside the checkout is used if it exists).
 */
export function dataMirrorSetting(env: Env = process.env): string | null | undefined {
  const value = env.LESSONS_DATA_MIRROR;
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" || trimmed === "none" ? null : path.resolve(trimmed);
}

/** LESSONS_OFFLINE=1: the data loaders never touch the network. */
export function offlineMode(env: Env = process.env): boolean {
  return flag(env, "LESSONS_OFFLINE", "offline");
}

// Prepared runs (lib/prepared-runs.ts).

/** LESSONS_PREPARED_RUNS: the folder of prepared runs (absolute; default `<checkout>/build/prepared-runs`). */
export function preparedRunsSetting(env: Env = process.env): string | undefined {
  return folder(env, "LESSONS_PREPARED_RUNS");
}

/** LESSONS_REPLAY=off: trainOrReplay trains even when a prepared run exists (on, the default, replays it). */
export function replayOff(env: Env = process.env): boolean {
  return oneOf(env, "LESSONS_REPLAY", ["on", "off"] as const, "off") === "off";
}

/** LESSONS_PREPARE_RUNS=1: trainOrReplay stores every run it trains (npm run prepare-class sets it). */
export function prepareRunsOn(env: Env = process.env): boolean {
  return flag(env, "LESSONS_PREPARE_RUNS", "store the runs");
}

// Output.

/** LESSONS_PROGRESS: force the training progress line's mode (auto, tty, live, epoch, none). */
export function progressSetting(env: Env = process.env): ProgressMode | undefined {
  return oneOf(env, "LESSONS_PROGRESS", PROGRESS_MODES, "epoch");
}

// Scripts.

/** LESSONS_PYTHON: the Python that builds the Jupyter environment and runs the benchmark's PyTorch peer. */
export function pythonSetting(env: Env = process.env): string | undefined {
  return read(env, "LESSONS_PYTHON");
}

/** LESSONS_JUPYTER_VENV: the course's Jupyter environment (absolute; default `<checkout>/.venv-jupyter`). */
export function jupyterVenvSetting(env: Env = process.env): string | undefined {
  return folder(env, "LESSONS_JUPYTER_VENV");
}
