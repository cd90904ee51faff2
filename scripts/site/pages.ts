/** HTML of the course site's pages: plain HTML and one stylesheet, readable without JavaScript. */
import type { LessonInfo } from "./lesson-info";

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Minimal inline markdown of objectives: `code`, **bold**, *emphasis*. */
function inline(md: string): string {
  return escapeHtml(md)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/\*([^*]+)\*/g, "<em>$1</em>");
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
${body}
</body>
</html>
`;
}

export function formatSeconds(s: number | undefined): string {
  if (s === undefined) return "not measured";
  if (s < 90) return `${s.toFixed(0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${String(Math.round(s - 60 * m)).padStart(2, "0")} s`;
}

function parameterText(p: Record<string, unknown>): string {
  const entries = Object.entries(p);
  return entries.length ? entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ") : "the notebook's own values";
}

export interface SiteRun {
  /** Earliest start among the lessons, ISO. */
  started?: string;
  sizes: string[];
  backend?: string;
  built: string;
  source: string;
}

export function indexPage(courseTitle: string, lessons: LessonInfo[], run: SiteRun): string {
  const rows = lessons.map((l) => `<li class="lesson">
  <h2><a href="${escapeHtml(l.page)}">${escapeHtml(l.title)}</a></h2>
  <p class="meta"><span class="status status-${escapeHtml(l.run.status)}">${escapeHtml(l.run.status)}</span>
    run time ${escapeHtml(formatSeconds(l.run.seconds))} (${escapeHtml(l.run.sizes)} sizes)</p>
  ${l.objectives.length ? `<ul class="objectives">${l.objectives.map((o) => `<li>${inline(o)}</li>`).join("")}</ul>` : l.summary ? `<p>${inline(l.summary)}</p>` : ""}
</li>`).join("\n");
  const total = lessons.reduce((s, l) => s + (l.run.seconds ?? 0), 0);
  return layout(courseTitle, `<header><h1>${escapeHtml(courseTitle)}</h1>
<p>The lessons as they ran, with every output and chart. Charts are pictures here; open a notebook in JupyterLab to
run it yourself and get interactive charts.</p></header>
<main>
<ol class="lessons">
${rows}
</ol>
<section class="run">
<h2>About this run</h2>
<dl>
<dt>Run on</dt><dd>${escapeHtml(run.started ? run.started.replace("T", " ").replace(/\.\d+Z$/, " UTC") : "unknown")}</dd>
<dt>Sizes</dt><dd>${escapeHtml(run.sizes.join(", "))} (fast: the test suite's small sizes; full: the sizes a class uses)</dd>
<dt>Backend</dt><dd>${escapeHtml(run.backend ?? "not reported")}</dd>
<dt>Total run time</dt><dd>${escapeHtml(formatSeconds(total))}</dd>
<dt>Built</dt><dd>${escapeHtml(run.built)} from ${escapeHtml(run.source)}</dd>
</dl>
</section>
</main>`);
}

export function lessonPage(l: LessonInfo, bodyHtml: string, prev?: LessonInfo, next?: LessonInfo): string {
  const nav = `<nav><a href="index.html">All lessons</a>${prev ? ` · <a href="${escapeHtml(prev.page)}" rel="prev">Previous: ${escapeHtml(prev.title)}</a>` : ""}` +
    `${next ? ` · <a href="${escapeHtml(next.page)}" rel="next">Next: ${escapeHtml(next.title)}</a>` : ""}</nav>`;
  return layout(l.title, `${nav}
<p class="meta"><span class="status status-${escapeHtml(l.run.status)}">${escapeHtml(l.run.status)}</span>
run ${escapeHtml(l.run.started ?? "at an unknown time")}, ${escapeHtml(formatSeconds(l.run.seconds))}, ${escapeHtml(l.run.sizes)} sizes:
${escapeHtml(parameterText(l.run.parameters))}</p>
<main class="notebook">
${bodyHtml}
</main>
${nav}`);
}

export const SITE_CSS = `
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 0 auto; padding: 1rem; line-height: 1.5; color: #222; }
a { color: #0b57d0; }
nav { margin: 0.5rem 0; }
.meta { color: #555; font-size: 0.9rem; }
.status { font-weight: bold; padding: 0 0.3rem; border-radius: 3px; }
.status-passed { background: #d7f5dd; color: #14532d; }
.status-failed, .status-interrupted { background: #fde2e1; color: #7f1d1d; }
.lessons { padding-left: 1.2rem; }
.lesson h2 { margin-bottom: 0.2rem; font-size: 1.2rem; }
.run dt { font-weight: bold; float: left; clear: left; width: 9rem; }
.run dd { margin-left: 10rem; }
.notebook .cell { margin: 0.8rem 0; }
.notebook .prompt { display: none; }
.notebook .input_area, .notebook .highlight { background: #f6f8fa; border: 1px solid #e3e6ea; border-radius: 4px; }
.notebook pre { margin: 0; padding: 0.5rem; overflow-x: auto; font-size: 0.85rem; }
.notebook .output_area pre { background: none; border: none; }
.notebook .output_stderr pre { background: #fff4f4; }
.notebook .output_subarea { overflow-x: auto; }
.notebook img { max-width: 100%; height: auto; }
.notebook table { border-collapse: collapse; }
.notebook td, .notebook th { border: 1px solid #ddd; padding: 0.2rem 0.5rem; }
.notebook .anchor-link { display: none; }
.notebook details { background: #fafafa; border-left: 3px solid #ccc; padding: 0.3rem 0.6rem; }
.chart { margin: 0.5rem 0; }
.chart-missing { color: #777; font-style: italic; }
`;
