/**
 * showFigure: draw a plotly figure in the notebook. One output carries the figure three ways, and each front end
 * picks the richest it can draw:
 *  - application/vnd.plotly.v1+json: JupyterLab (and Notebook 7) with plotly's Lab renderer (jupyterlab-plotly,
 *    in requirements-jupyter.txt) draw it live, trusted or not, with no file served from the course folder;
 *  - text/html: the classic Notebook, Lab without that renderer, nbconvert and the course site (see html.ts:
 *    a loader for the live chart plus, in executed copies, a static picture);
 *  - text/plain: a one-line summary for consoles.
 */
import { projectRoot } from "../paths";
import { assertFigure, Figure, normalizeTitles, titleText } from "./figure";
import { bundlePathFrom, bundleRootGuesses, figureHtml, PLOTLY_BUNDLE } from "./html";
import { displayBundle } from "./display";

export interface ShowOptions {
  /** Set false to only build the figure (e.g. to combine or test it). Default true. */
  show?: boolean;
}

/** The MIME type of plotly's own renderers (JupyterLab's jupyterlab-plotly, nteract, VS Code). */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

/** Where the page can fetch plotly: from the notebook's folder (the kernel's cwd) and from likely server roots. */
function bundleLocations(): { bundleFromNotebookDir: string; bundleFromServerRoots: string[] } {
  try {
    const root = projectRoot();
    return { bundleFromNotebookDir: bundlePathFrom(process.cwd(), root), bundleFromServerRoots: bundleRootGuesses(root) };
  } catch {
    return { bundleFromNotebookDir: PLOTLY_BUNDLE, bundleFromServerRoots: [PLOTLY_BUNDLE] };
  }
}

/** One-line text description, shown by consoles and text-only viewers instead of the chart. */
export function figureSummary(fig: Figure): string {
  const names = fig.data.map((t) => t.name).filter((n): n is string => typeof n === "string" && n !== "");
  const kinds = Array.from(new Set(fig.data.map((t) => t.type ?? "scatter")));
  return `<plotly figure "${titleText(fig.layout) ?? "untitled"}": ${fig.data.length} ${kinds.join("/")} trace(s)` +
    (names.length ? ` (${names.join(", ")})` : "") + ">";
}

/**
 * tslab prints the value of a cell's last expression with console.log, so `plotHistory(h)` as the last line
 * would dump the whole figure under the chart. Once the chart is on screen, the figure prints as nothing (its
 * fields are still there: fig.data, fig.layout). Deno's kernel asks a value for its output with
 * Symbol.for("Jupyter.display") first, and shows nothing for an empty bundle.
 */
function quietWhenPrinted(fig: Figure): void {
  Object.defineProperty(fig, Symbol.for("nodejs.util.inspect.custom"), { value: () => "", enumerable: false, configurable: true });
  Object.defineProperty(fig, Symbol.for("Jupyter.display"), { value: () => ({}), enumerable: false, configurable: true });
}

/**
 * Shows a plotly figure as the output of the current notebook cell and returns it unchanged.
 * Outside a notebook (tests, scripts) it only validates and returns the figure.
 */
export function showFigure<F extends Figure>(fig: F, opts: ShowOptions = {}): F {
  assertFigure(fig);
  if (opts.show === false) return fig;
  const shown = displayBundle({
    [PLOTLY_MIME]: normalizeTitles(fig),
    "text/html": figureHtml(fig, bundleLocations()),
    "text/plain": figureSummary(fig),
  });
  if (shown) quietWhenPrinted(fig);
  return fig;
}
