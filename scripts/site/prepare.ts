/**
 * Turning an executed notebook into what the site renders, as pure functions on the notebook:
 *  - each chart output becomes its static picture alone (no loader script: the site runs without JavaScript and
 *    has no Jupyter server to fetch plotly from); a chart without a picture becomes a short note;
 *  - plotly's JSON and Lab's stored PNG of it are dropped where the HTML picture is there (nbconvert would
 *    otherwise pick one of several copies);
 *  - markdown links to other lessons (`02-x.ipynb`) point at their pages (`02-x.html`) when the site has them.
 */
import { parseFigureHtml, FIGURE_MARKER } from "../../lib/plots/html";
import { type Notebook, sourceText } from "../runner/nbformat";

const PLOTLY_MIME = "application/vnd.plotly.v1+json";

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** The picture part of a chart's HTML (see lib/plots/html.ts), or a note when the run embedded none. */
export function staticChartHtml(html: string): string | undefined {
  if (!html.includes(FIGURE_MARKER)) return undefined;
  const parsed = parseFigureHtml(html);
  if (!parsed) return undefined;
  const title = (parsed.figure.layout?.title as { text?: string } | undefined)?.text ?? "chart";
  const img = /<img class="cnn-plot-static"[^>]*\/>/.exec(html)?.[0];
  return img
    ? `<figure class="chart">${img.replace(/style="[^"]*"/, 'style="max-width:100%;height:auto"')}</figure>`
    : `<p class="chart-missing">[chart: ${escapeHtml(title)}] No picture of this chart was saved: run the notebooks with Debian's chromium installed.</p>`;
}

/** A copy of the notebook's outputs with every chart reduced to its picture. Returns how many charts. */
export function staticCharts(nb: Notebook): { nb: Notebook; charts: number; missing: number } {
  let charts = 0;
  let missing = 0;
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const cell of copy.cells) {
    if (cell.cell_type !== "code") continue;
    for (const out of cell.outputs) {
      if (out.output_type !== "display_data" && out.output_type !== "execute_result") continue;
      const html = out.data["text/html"];
      const fixed = html === undefined ? undefined : staticChartHtml(sourceText(html as string | string[]));
      if (fixed === undefined) continue;
      charts++;
      if (fixed.includes("chart-missing")) missing++;
      out.data = { "text/html": fixed, ...(out.data["text/plain"] ? { "text/plain": out.data["text/plain"] } : {}) };
      delete (out.data as Record<string, unknown>)[PLOTLY_MIME];
    }
  }
  return { nb: copy, charts, missing };
}

/** Markdown links `(name.ipynb)` or `(name.ipynb#part)` to pages of the site become `(name.html...)`. */
export function linkLessonPages(nb: Notebook, pages: Set<string>): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const cell of copy.cells) {
    if (cell.cell_type !== "markdown") continue;
    const text = sourceText(cell.source).replace(/\]\(([\w.-]+)\.ipynb(#[^)\s]*)?\)/g, (whole, name: string, hash?: string) =>
      pages.has(`${name}.html`) ? `](${name}.html${hash ?? ""})` : whole);
    cell.source = text;
  }
  return copy;
}
