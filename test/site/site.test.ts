import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { figureHtml } from "../../lib/plots/html";
import type { Notebook } from "../../scripts/runner/nbformat";
import { lessonInfo } from "../../scripts/site/lesson-info";
import { indexPage, lessonPage, formatSeconds } from "../../scripts/site/pages";
import { linkLessonPages, staticCharts } from "../../scripts/site/prepare";
import { serveFolder } from "../../scripts/site/check";

const fig = { data: [{ type: "scatter", x: [1, 2], y: [3, 4] }], layout: { title: "Loss" } };
const PNG_1PX = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

function notebook(): Notebook {
  return {
    nbformat: 4, nbformat_minor: 5,
    metadata: { lessons_runner: { started: "2026-11-29T04:22:06.325Z", fast: true, parameters: { EPOCHS: 2 }, seconds: 107.5, status: "passed" } },
    cells: [
      { cell_type: "markdown", metadata: {}, source: "# Dropout on *Dollar Street*\n\nWhy dropout helps.\n\n**Objectives**\n- Add dropout layers\n- Tune the rate with a\n  grid search\n\nMore text, see [the CNN lesson](01-cnn.ipynb#Training) and [later](09-missing.ipynb)." },
      { cell_type: "code", metadata: {}, source: "setupBackend()", execution_count: 1, outputs: [
        { output_type: "stream", name: "stdout", text: "TensorFlow.js backend: wasm (2 threads) - no native tfjs-node\n" },
      ] },
      { cell_type: "code", metadata: {}, source: "plot()", execution_count: 2, outputs: [
        { output_type: "display_data", metadata: {}, data: {
          "application/vnd.plotly.v1+json": fig, "image/png": PNG_1PX, "text/plain": "<plotly figure>",
          "text/html": figureHtml(fig, { png: PNG_1PX }),
        } },
        { output_type: "display_data", metadata: {}, data: { "text/html": figureHtml(fig), "text/plain": "<plotly figure>" } },
      ] },
    ],
  } as unknown as Notebook;
}

test("a lesson's title, objectives, summary, run time, sizes and backend come from the executed notebook", () => {
  const info = lessonInfo("/x/02-dropout.ipynb", notebook());
  assert.equal(info.page, "02-dropout.html");
  assert.equal(info.title, "Dropout on Dollar Street");
  assert.deepEqual(info.objectives, ["Add dropout layers", "Tune the rate with a grid search"]);
  assert.equal(info.summary, "Why dropout helps.");
  assert.equal(info.run.seconds, 107.5);
  assert.equal(info.run.sizes, "fast");
  assert.equal(info.run.status, "passed");
  assert.equal(info.backend, "wasm (2 threads)");
  const bare = lessonInfo("/x/99.ipynb", { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] } as unknown as Notebook);
  assert.equal(bare.title, "99");
  assert.equal(bare.run.status, "not run by the course runner");
});

test("charts become their static picture without scripts; a chart without one becomes a note", () => {
  const { nb, charts, missing } = staticCharts(notebook());
  assert.equal(charts, 2);
  assert.equal(missing, 1);
  const outs = (nb.cells[2] as { outputs: { data: Record<string, string> }[] }).outputs;
  assert.deepEqual(Object.keys(outs[0]!.data).sort(), ["text/html", "text/plain"], "plotly JSON and Lab's PNG copy are dropped");
  assert.match(outs[0]!.data["text/html"]!, /<img class="cnn-plot-static"[^>]*src="data:image\/png;base64,/);
  assert.doesNotMatch(outs[0]!.data["text/html"]!, /<script/);
  assert.match(outs[1]!.data["text/html"]!, /chart-missing/);
  assert.ok("application/vnd.plotly.v1+json" in (notebook().cells[2] as { outputs: { data: object }[] }).outputs[0]!.data, "the input is not changed");
});

test("links to other lessons point at their pages when the site has them, and stay as they are otherwise", () => {
  const nb = linkLessonPages(notebook(), new Set(["01-cnn.html"]));
  const md = String(nb.cells[0]!.source);
  assert.match(md, /\]\(01-cnn\.html#Training\)/);
  assert.match(md, /\]\(09-missing\.ipynb\)/, "a lesson not in the site stays a (broken) link for the check to report");
});

test("pages carry the run's facts and escape text; run times read like a person wrote them", () => {
  const info = lessonInfo("/x/02-dropout.ipynb", notebook());
  info.title = "A <b>bold</b> title";
  const index = indexPage("Course", [info], { started: info.run.started, sizes: ["fast"], backend: "wasm (2 threads)", built: "now", source: "build/notebooks" });
  assert.match(index, /A &lt;b&gt;bold&lt;\/b&gt; title/);
  assert.match(index, /run time 1 min 48 s \(fast sizes\)/);
  assert.match(index, /2026-11-29 04:22:06 UTC/);
  assert.match(index, /<li>Add dropout layers<\/li>/);
  const page = lessonPage(info, "<p>body</p>");
  assert.match(page, /EPOCHS=2/);
  assert.match(page, /href="index.html"/);
  assert.doesNotMatch(page, /<script/);
  assert.equal(formatSeconds(42.4), "42 s");
  assert.equal(formatSeconds(3601), "60 min 01 s");
});

test("the static server serves files of its folder only", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "site-serve-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "index.html"), "<p>hi</p>");
  const server = await serveFolder(dir);
  try {
    const ok = await fetch(`${server.origin}/`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "<p>hi</p>");
    assert.equal((await fetch(`${server.origin}/missing.html`)).status, 404);
    assert.equal((await fetch(`${server.origin}/..%2f..%2fetc%2fpasswd`)).status, 404);
  } finally {
    await server.close();
  }
});

test("a built site opens in Chromium; the check reports a broken lesson link and a broken image, and nothing else", async (t) => {
  const { readyVenvBin } = await import("../../scripts/jupyter/venv");
  const { staticRenderingAvailable } = await import("../../scripts/render-static-plots");
  const { projectRoot } = await import("../../lib/paths");
  if (!readyVenvBin(projectRoot()) || !staticRenderingAvailable()) {
    t.skip("needs the course's Jupyter environment (npm run jupyter:install) and Debian's chromium");
    return;
  }
  const { buildSite } = await import("../../scripts/site/build");
  const { checkSite } = await import("../../scripts/site/check");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "site-build-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const from = path.join(dir, "executed");
  fs.mkdirSync(from);
  const first = notebook();
  (first.cells[0] as { source: string }).source += '\n\n<img src="missing-picture.png" alt="gone">';
  fs.writeFileSync(path.join(from, "02-dropout.ipynb"), JSON.stringify(first));
  const second = notebook();
  (second.cells[0] as { source: string }).source = "# The CNN lesson\n\n## Training\n\nBack to [dropout](02-dropout.ipynb).";
  fs.writeFileSync(path.join(from, "01-cnn.ipynb"), JSON.stringify(second));
  const out = path.join(dir, "site");
  const built = await buildSite(from, out);
  assert.deepEqual(built.lessons.map((l) => l.page), ["01-cnn.html", "02-dropout.html"]);
  assert.deepEqual(fs.readdirSync(out).sort(), ["01-cnn.html", "02-dropout.html", "index.html", "style.css"]);
  const problems = await checkSite(out);
  assert.equal(problems.length, 2, problems.join("\n"));
  assert.match(problems.join("\n"), /02-dropout\.html: link to a missing page or file: 09-missing\.ipynb/);
  assert.match(problems.join("\n"), /02-dropout\.html: image does not show \(missing-picture\.png\)/);
});
