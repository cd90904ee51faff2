import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { inspect } from "util";
import * as vm from "vm";
import { bundleRootGuesses } from "../../lib/plots/html";
import { showFigure, inNotebook, Figure, lineChart } from "../../lib/plot";
import { figureHtml, parseFigureHtml } from "../../lib/plots/html";
import { projectRoot } from "../../lib/paths";

const fig: Figure = { data: [{ type: "scatter", x: [1, 2], y: [3, 4], name: "a" }], layout: { title: "Loss </script><b>" } };

test("outside a notebook showFigure validates and returns the figure without sending anything", () => {
  assert.equal(inNotebook(), false);
  assert.equal(showFigure(fig), fig);
  assert.throws(() => showFigure([] as unknown as Figure), /expects a figure object/);
  assert.throws(() => showFigure({ layout: {} } as unknown as Figure), /no "data" array/);
  assert.throws(() => showFigure({ data: [1] } as unknown as Figure), /Trace 0 .* not an object/);
});

test("inside the tslab kernel the figure goes out as one display_data: plotly's MIME type, HTML and a text summary", (t) => {
  // Stand in for the kernel: tslab's jupyter module, found by its path in the module cache.
  const key = path.join(path.sep, "fake", "node_modules", "tslab", "dist", "jupyter.js");
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const sent: { data: Record<string, any> }[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  require.cache[key] = { exports: { lastWriteDisplayData: (msg: { data: Record<string, any> }) => sent.push(msg) } } as NodeJS.Module;
  t.after(() => delete require.cache[key]);
  assert.equal(inNotebook(), true);
  const shown = lineChart([1, 2, 3], [4, 5, 6], { title: "Demo" });
  assert.equal(sent.length, 1);
  assert.deepEqual(Object.keys(sent[0].data).sort(), ["application/vnd.plotly.v1+json", "text/html", "text/plain"]);
  // plotly's JupyterLab renderer reads {data, layout}; titles in the object form plotly.js 3 expects.
  const plotlyJson = sent[0].data["application/vnd.plotly.v1+json"];
  assert.deepEqual(plotlyJson.data, shown.data);
  assert.deepEqual(plotlyJson.layout.title, { text: "Demo" });
  assert.doesNotThrow(() => JSON.stringify(plotlyJson));
  assert.match(sent[0].data["text/plain"], /plotly figure "Demo": 1 scatter trace/);
  const parsed = parseFigureHtml(sent[0].data["text/html"]);
  assert.ok(parsed);
  assert.deepEqual(parsed.figure.data, shown.data);
  assert.equal(inspect(shown), "", "tslab console.logs a cell's last value; a shown chart must not be dumped below itself");
  assert.match(inspect(fig), /data:/, "figures that were not shown still print normally");
  // The kernel runs in the notebook's folder; the loader must find the bundle from there.
  const expected = path.relative(process.cwd(), path.join(projectRoot(), "node_modules/plotly.js-dist-min/plotly.min.js"));
  assert.equal(parsed.bundleFromNotebookDir, expected.split(path.sep).join("/"));
});

test("the HTML loads plotly from the Jupyter server, never from a CDN, and never inlines the bundle", () => {
  const html = figureHtml(fig, { bundleFromNotebookDir: "../node_modules/plotly.js-dist-min/plotly.min.js" });
  assert.doesNotMatch(html, /https?:\/\//, "no absolute URL (CDN) in the output");
  assert.doesNotMatch(html, /cdn/i);
  assert.match(html, /"files\/"/, "the loader builds a files/ URL on the Jupyter server");
  assert.match(html, /__cnnLessonsPlotly/, "one shared loading promise per page");
  const bundle = fs.readFileSync(path.join(projectRoot(), "node_modules/plotly.js-dist-min/plotly.min.js"), "utf8");
  assert.ok(html.length < 20_000, `figure HTML is ${html.length} chars; the plotly bundle must not be inlined`);
  assert.ok(!html.includes(bundle.slice(200, 400)), "no piece of plotly.min.js in the output");
});

test("figure JSON is stored script-safe and read back intact", () => {
  const html = figureHtml(fig, { id: "cnn-plot-test" });
  assert.equal(html.split("</script>").length - 1, 2, "only the two real script ends; the title cannot close a script");
  const parsed = parseFigureHtml(html)!;
  assert.equal(parsed.id, "cnn-plot-test");
  assert.deepEqual(parsed.figure.layout!.title, { text: "Loss </script><b>" }, "string titles become {text} for plotly 3");
  assert.equal(parsed.hasStatic, false);
  assert.match(html, /class="cnn-plot-note"/, "without a static picture a short note is shown where scripts do not run");
  const withPng = figureHtml(fig, { id: "x", png: Buffer.from([1, 2, 3]) });
  assert.match(withPng, /<img class="cnn-plot-static" alt="Loss &lt;\/script&gt;&lt;b&gt;" [^>]*src="data:image\/png;base64,AQID"/);
  assert.equal(parseFigureHtml(withPng)!.hasStatic, true);
  assert.equal(parseFigureHtml("<p>hello</p>"), undefined);
});

test("the page script is valid JavaScript and tries the notebook folder, then likely server roots", () => {
  const html = figureHtml(fig, { bundleFromNotebookDir: "../node_modules/p.js", bundleFromServerRoots: ["node_modules/p.js", "main/node_modules/p.js"] });
  const scripts = Array.from(html.matchAll(/<script>([\s\S]*?)<\/script>/g), (m) => m[1]);
  assert.equal(scripts.length, 1);
  assert.doesNotThrow(() => new vm.Script(scripts[0]), "loader must parse");
  assert.match(scripts[0], /"\.\.\/node_modules\/p\.js", \["node_modules\/p\.js","main\/node_modules\/p\.js"\]\);$/);
  const parsed = parseFigureHtml(html)!;
  assert.equal(parsed.bundleFromNotebookDir, "../node_modules/p.js");
  assert.deepEqual(parsed.bundleFromServerRoots, ["node_modules/p.js", "main/node_modules/p.js"]);
  assert.deepEqual(bundleRootGuesses("/home/ann/course", 3), [
    "node_modules/plotly.js-dist-min/plotly.min.js",
    "course/node_modules/plotly.js-dist-min/plotly.min.js",
    "ann/course/node_modules/plotly.js-dist-min/plotly.min.js",
    "home/ann/course/node_modules/plotly.js-dist-min/plotly.min.js",
  ]);
});
