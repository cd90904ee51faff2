/**
 * Turns a plotly figure into one self-contained HTML fragment for a notebook output.
 *
 * What the fragment does in each place a notebook is opened:
 *  - live Jupyter (classic Notebook or JupyterLab, trusted output): the small loader script fetches
 *    plotly.min.js ONCE per page from the Jupyter server's `files/` route (no CDN, works offline) and draws
 *    the interactive chart, replacing the static picture;
 *  - untrusted viewer (scripts stripped) or no server at all: the embedded PNG (added by
 *    scripts/render-static-plots.ts after a headless run) stays visible; without one, a short note shows.
 * The plotly bundle itself is never inlined: a figure output costs its data plus a ~2 KB loader.
 */
import * as path from "path";
import { Figure, normalizeTitles, titleText } from "./figure";

/** Marker attribute that scripts/render-static-plots.ts looks for in executed notebooks. */
export const FIGURE_MARKER = "data-cnn-plot";

/** Where the plotly bundle lives, relative to the project root. */
export const PLOTLY_BUNDLE = "node_modules/plotly.js-dist-min/plotly.min.js";

export interface FigureHtmlOptions {
  /** Static fallback picture (PNG bytes or base64) shown where scripts do not run. */
  png?: Uint8Array | string;
  /** Element id; random by default. Kept stable when a post-processor re-renders the output. */
  id?: string;
  /**
   * Path from the notebook's folder to the plotly bundle (POSIX separators), e.g. "../node_modules/...".
   * The page joins it to the notebook's own folder when it can tell which notebook it is in (classic Notebook).
   */
  bundleFromNotebookDir?: string;
  /**
   * Further guesses, as paths below the Jupyter server's root folder, tried in order: the server started in the
   * project root (`npm start`), then in each parent folder. Default: [PLOTLY_BUNDLE].
   */
  bundleFromServerRoots?: string[];
}

/** A fresh id that is safe in HTML ids and CSS selectors. */
export function newFigureId(): string {
  return "cnn-plot-" + Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}

/** JSON that can sit inside a <script> element: `<` is escaped so "</script>" can never close it early. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function unescapeAttr(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function toBase64(png: Uint8Array | string): string {
  return typeof png === "string" ? png : Buffer.from(png).toString("base64");
}

/** Path from the kernel's working folder (the notebook's folder under tslab) to the project's plotly bundle. */
export function bundlePathFrom(notebookDir: string, projectRootDir: string): string {
  return path.relative(notebookDir, path.join(projectRootDir, PLOTLY_BUNDLE)).split(path.sep).join("/");
}

/**
 * Where plotly.min.js is below a server root folder, for a server started in the project root or in one of its
 * `levels` nearest parent folders.
 */
export function bundleRootGuesses(projectRootDir: string, levels = 3): string[] {
  const guesses = [PLOTLY_BUNDLE];
  let dir = path.resolve(projectRootDir);
  let below = PLOTLY_BUNDLE;
  for (let i = 0; i < levels; i++) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    below = path.basename(dir) + "/" + below;
    guesses.push(below);
    dir = parent;
  }
  return guesses;
}

/**
 * Runs in the browser, as plain JavaScript text (not a compiled function: tsx and tslab may add helper calls
 * to compiled code that do not exist in the page). Called as loader(id, bundleFromNotebookDir, bundleFromServerRoots).
 */
const LOADER_JS = `function (id, relBundle, rootBundles) {
  var root = document.getElementById(id);
  if (!root) return;
  var live = root.querySelector(".cnn-plot-live");
  var note = root.querySelector(".cnn-plot-note");
  var figEl = root.querySelector("script.cnn-plot-figure");
  if (!live || !figEl) return;
  var fig = JSON.parse(figEl.textContent || "{}");
  function baseUrl() {
    var b = document.body && document.body.getAttribute("data-base-url"); /* classic Notebook */
    if (b) return b;
    var cfg = document.getElementById("jupyter-config-data"); /* JupyterLab, Notebook 7 */
    if (cfg) { try { b = JSON.parse(cfg.textContent || "{}").baseUrl; } catch (e) { b = null; } }
    return b || "/";
  }
  function notebookDir() {
    var p = document.body && document.body.getAttribute("data-notebook-path");
    if (!p) {
      /* JupyterLab: .../tree/<path>.ipynb (the active notebook; a wrong guess only costs one failed request) */
      var path = decodeURIComponent(location.pathname), t = path.lastIndexOf("/tree/");
      p = t >= 0 && /\\.ipynb$/.test(path) ? path.slice(t + 6) : null;
    }
    if (p === null || p === undefined) return null;
    var i = p.lastIndexOf("/");
    return i < 0 ? "" : p.slice(0, i);
  }
  function normalize(p) {
    var out = [], parts = p.split("/");
    for (var i = 0; i < parts.length; i++) {
      var s = parts[i];
      if (s === "" || s === ".") continue;
      if (s === "..") { if (!out.length) return null; out.pop(); } else out.push(s);
    }
    return out.join("/");
  }
  function candidates() {
    var base = baseUrl().replace(/\\/?$/, "/"), urls = [], dir = notebookDir();
    if (dir !== null) { var p = normalize(dir + "/" + relBundle); if (p) urls.push(base + "files/" + p); }
    for (var k = 0; k < rootBundles.length; k++) {
      var f = base + "files/" + rootBundles[k];
      if (urls.indexOf(f) < 0) urls.push(f);
    }
    return urls;
  }
  function loadScript(url) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = url;
      s.onload = function () { resolve(); };
      s.onerror = function () { s.remove(); reject(new Error("cannot load " + url)); };
      document.head.appendChild(s);
    });
  }
  function loadPlotly() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!window.__cnnLessonsPlotly) {
      var urls = candidates(), chain = Promise.reject(new Error("start"));
      urls.forEach(function (u) { chain = chain.catch(function () { return loadScript(u); }); });
      window.__cnnLessonsPlotly = chain.then(function () {
        if (!window.Plotly) throw new Error("plotly.min.js defined no window.Plotly");
        return window.Plotly;
      }, function () {
        window.__cnnLessonsPlotly = undefined; /* let a later figure retry */
        throw new Error("could not load plotly from " + urls.join(" or ") +
          "; start Jupyter in the course folder, e.g. with npm start");
      });
    }
    return window.__cnnLessonsPlotly;
  }
  loadPlotly().then(function (Plotly) {
    return Plotly.newPlot(live, fig.data, fig.layout || {}, fig.config || {});
  }).then(function () {
    var img = root.querySelector("img.cnn-plot-static");
    if (img) img.remove();
    if (note) note.remove();
  }).catch(function (err) {
    if (note) note.textContent = "Interactive chart unavailable (" + err.message + ").";
    else if (typeof console !== "undefined") console.warn("cnn-plot:", err);
  });
}`;

/** The HTML fragment for one figure (see the module comment for how it behaves). */
export function figureHtml(fig: Figure, opts: FigureHtmlOptions = {}): string {
  const id = opts.id ?? newFigureId();
  const title = titleText(fig.layout) ?? "chart";
  const rel = opts.bundleFromNotebookDir ?? PLOTLY_BUNDLE;
  const roots = opts.bundleFromServerRoots ?? [PLOTLY_BUNDLE];
  const parts: string[] = [];
  parts.push(`<div class="cnn-plot" id="${escapeAttr(id)}" ${FIGURE_MARKER}="1" data-bundle="${escapeAttr(rel)}" data-roots="${escapeAttr(JSON.stringify(roots))}">`);
  if (opts.png !== undefined) {
    parts.push(
      `<img class="cnn-plot-static" alt="${escapeAttr(title)}" style="max-width:100%" ` +
        `src="data:image/png;base64,${toBase64(opts.png)}"/>`,
    );
  } else {
    parts.push(`<div class="cnn-plot-note" style="color:#777;font-style:italic">[chart: ${escapeAttr(title)}] ` +
      `Run the notebook in Jupyter to draw it.</div>`);
  }
  parts.push(`<div class="cnn-plot-live"></div>`);
  parts.push(`<script type="application/json" class="cnn-plot-figure">${scriptSafeJson(normalizeTitles(fig))}</script>`);
  parts.push(
    `<script>(${LOADER_JS})(${JSON.stringify(id)}, ${JSON.stringify(rel)}, ${scriptSafeJson(roots)});</script>`,
  );
  parts.push(`</div>`);
  return parts.join("\n");
}

/** Reads back the figure and id stored in a fragment made by figureHtml; undefined for other HTML. */
export function parseFigureHtml(
  html: string,
): { id: string; figure: Figure; bundleFromNotebookDir: string; bundleFromServerRoots: string[]; hasStatic: boolean } | undefined {
  if (!html.includes(FIGURE_MARKER)) return undefined;
  const idMatch = /<div class="cnn-plot" id="([^"]+)" [^>]*data-bundle="([^"]*)" data-roots="([^"]*)"/.exec(html);
  const figMatch = /<script type="application\/json" class="cnn-plot-figure">([\s\S]*?)<\/script>/.exec(html);
  if (!idMatch || !figMatch) return undefined;
  return {
    id: idMatch[1],
    figure: JSON.parse(figMatch[1]) as Figure,
    bundleFromNotebookDir: unescapeAttr(idMatch[2]),
    bundleFromServerRoots: JSON.parse(unescapeAttr(idMatch[3])) as string[],
    hasStatic: html.includes('class="cnn-plot-static"'),
  };
}
