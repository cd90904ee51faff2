/**
 * Sends rich output to the notebook when running inside the tslab kernel, and does nothing elsewhere.
 *
 * tslab's public `display.html()` sends a single MIME type per output. We want a text/plain summary next to the
 * HTML (for consoles and text-only viewers), so we use the writer tslab's kernel installs for the running cell
 * (`lastWriteDisplayData` in tslab/dist/jupyter.js), found in Node's module cache. If that internal ever moves,
 * we fall back to the public `display.html()`.
 */

/** MIME type -> content: text for text/* types, a JSON value for JSON types (e.g. plotly's figure MIME type). */
export type MimeBundle = Record<string, string | object>;

type DisplayWriter = (msg: { data: MimeBundle; metadata: object; transient: object }, update: boolean) => void;

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

/** True while code runs in a tslab notebook cell (so display calls reach the notebook). */
export function inNotebook(): boolean {
  return kernelWriter() !== undefined;
}

/**
 * Shows `bundle` (MIME type -> content) as one output of the running cell. Returns false, without sending
 * anything, outside a notebook (unit tests, scripts).
 */
export function displayBundle(bundle: MimeBundle): boolean {
  const writer = kernelWriter();
  if (writer) {
    writer({ data: bundle, metadata: {}, transient: {} }, false);
    return true;
  }
  const html = bundle["text/html"];
  if (typeof html !== "string" || !process.argv.some((a) => /tslab/.test(a))) return false;
  // A Jupyter kernel but not the writer we know: try tslab's public API with the HTML alone.
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const tslab = require("tslab") as { display: { html(s: string): void } };
    tslab.display.html(html);
    return true;
  } catch {
    return false;
  }
}
