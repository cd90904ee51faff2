/**
 * Sends rich output to the notebook when running inside a Jupyter kernel, and does nothing elsewhere. It knows
 * the course's two kernels:
 *
 * - tslab: its public `display.html()` sends a single MIME type per output. We want a text/plain summary next to
 *   the HTML (for consoles and text-only viewers), so we use the writer tslab's kernel installs for the running
 *   cell (`lastWriteDisplayData` in tslab/dist/jupyter.js), found in Node's module cache. If that internal ever
 *   moves, we fall back to the public `display.html()`.
 * - Deno (`deno jupyter`): `Deno.jupyter.broadcast` publishes display_data and update_display_data messages on
 *   the kernel's iopub channel, tied to the running cell. Outside `deno jupyter`, reading `Deno.jupyter` throws.
 */
import * as tf from "@tensorflow/tfjs";
import { nodeRequire } from "../node-require";

/** MIME type -> content: text for text/* types, a JSON value for JSON types (e.g. plotly's figure MIME type). */
export type MimeBundle = Record<string, string | object>;

export type NotebookKernel = "tslab" | "deno";

type DisplayWriter = (msg: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;

interface DenoJupyter {
  broadcast(msgType: string, content: Record<string, unknown>): Promise<void> | undefined;
}

function kernelWriter(): DisplayWriter | undefined {
  const cache = typeof require === "function" ? require.cache : undefined;
  if (!cache) return undefined;
  for (const key of Object.keys(cache)) {
    if (!/[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) continue;
    const writer = (cache[key]?.exports as { lastWriteDisplayData?: unknown } | undefined)?.lastWriteDisplayData;
    if (typeof writer === "function") return writer as DisplayWriter;
  }
  return undefined;
}

/** Deno's Jupyter API while code runs in `deno jupyter`, else undefined. */
function denoJupyter(): DenoJupyter | undefined {
  const deno = (globalThis as { Deno?: { jupyter?: unknown } }).Deno;
  if (typeof deno !== "object" || deno === null) return undefined;
  try {
    const jupyter = deno.jupyter as Partial<DenoJupyter> | undefined;
    return typeof jupyter?.broadcast === "function" ? (jupyter as DenoJupyter) : undefined;
  } catch {
    return undefined; // `deno run`: the getter throws
  }
}

/** The notebook kernel this code runs in, or undefined outside a notebook (unit tests, scripts). */
export function notebookKernel(): NotebookKernel | undefined {
  if (kernelWriter()) return "tslab";
  if (denoJupyter()) return "deno";
  return undefined;
}

/** True while code runs in a notebook cell (so display calls reach the notebook). */
export function inNotebook(): boolean {
  return notebookKernel() !== undefined;
}

export interface DisplayOptions {
  /** Names the output so that a later call with `update: true` can replace it in place. */
  displayId?: string;
  /** Replace the output named `displayId` (update_display_data) instead of adding one. */
  update?: boolean;
}

/**
 * Shows `bundle` (MIME type -> content) as one output of the running cell, or with `update` replaces the output
 * shown earlier under the same `displayId`. Returns false, without sending anything, outside a notebook.
 */
export function displayBundle(bundle: MimeBundle, options: DisplayOptions = {}): boolean {
  if (options.update && !options.displayId) throw new Error("displayBundle: `update: true` needs the `displayId` of the output to replace.");
  const transient = options.displayId ? { display_id: options.displayId } : {};
  const writer = kernelWriter();
  if (writer) {
    writer({ data: bundle, metadata: {}, transient }, options.update === true);
    return true;
  }
  const deno = denoJupyter();
  if (deno) {
    // Deno 2.9 sends at once and returns nothing; its documentation promises a Promise. Either way a failure
    // (the kernel shutting down) must not become an unhandled rejection.
    const sent: unknown = deno.broadcast(options.update ? "update_display_data" : "display_data", { data: bundle, metadata: {}, transient });
    if (sent instanceof Promise) sent.catch(() => undefined);
    return true;
  }
  const html = bundle["text/html"];
  if (options.update || typeof html !== "string" || !process.argv.some((a) => /tslab/.test(a))) return false;
  // A Jupyter kernel but not the writer we know: try tslab's public API with the HTML alone.
  try {
    const tslab = nodeRequire()("tslab") as { display: { html(s: string): void } };
    tslab.display.html(html);
    return true;
  } catch {
    return false;
  }
}

/**
 * tslab prints a promise rejection nobody handled, and an error thrown in a timer, to stderr as
 * "UnhandledPromiseRejection: ..." / "UncaughtException: ..."; Deno's kernel shows neither, so a forgotten
 * `await` would fail silently. Under Deno's kernel, lib reports them the same way (once per process).
 */
function reportAsyncErrorsInDeno(): void {
  const flag = Symbol.for("cnn-lessons-ts.denoAsyncErrors");
  const g = globalThis as unknown as Record<symbol, boolean> & {
    addEventListener?: (type: string, listener: (e: { reason?: unknown; error?: unknown; preventDefault(): void }) => void) => void;
  };
  if (g[flag] || typeof g.addEventListener !== "function" || notebookKernel() !== "deno") return;
  g[flag] = true;
  const text = (v: unknown) => (v instanceof Error ? v.stack ?? String(v) : String(v));
  g.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    console.error(`UnhandledPromiseRejection: ${text(e.reason)}`);
  });
  g.addEventListener("error", (e) => {
    e.preventDefault();
    console.error(`UncaughtException: ${text(e.error)}`);
  });
}

const SHOW_NOTHING = { value: () => ({}), configurable: true, writable: true };

/**
 * Deno's kernel shows a cell's completion value, which is the last expression statement's value even when
 * declarations follow it: `compileForClassification(model); const h = await train(...)` would print the whole
 * model object under the training lines, and a cell ending in `model.dispose();` its counts (tslab shows nothing
 * for either). Under Deno's kernel a model, and what its dispose() returns, show nothing as a cell's value;
 * `summary(model)` prints a model.
 */
function quietModelsInDeno(): void {
  if (notebookKernel() !== "deno") return;
  const proto = tf.LayersModel.prototype;
  if (Object.prototype.hasOwnProperty.call(proto, Symbol.for("Jupyter.display"))) return; // lib loaded twice
  Object.defineProperty(proto, Symbol.for("Jupyter.display"), SHOW_NOTHING);
  const dispose = proto.dispose;
  proto.dispose = function (this: tf.LayersModel) {
    const result = dispose.call(this);
    if (typeof result === "object" && result !== null) Object.defineProperty(result, Symbol.for("Jupyter.display"), SHOW_NOTHING);
    return result;
  };
}

reportAsyncErrorsInDeno();
quietModelsInDeno();
