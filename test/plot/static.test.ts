import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PNG } from "pngjs";
import { plotHistory } from "../../lib/plot";
import { figureHtml, parseFigureHtml } from "../../lib/plots/html";
import { addStaticFallbacks, staticRenderingAvailable } from "../../scripts/render-static-plots";

test("addStaticFallbacks embeds a rendered PNG in each chart output of an executed notebook", { skip: !staticRenderingAvailable() && "no chromium" }, async () => {
  const fig = plotHistory({ epochs: [0, 1, 2], history: { loss: [1, 0.5, 0.3], val_loss: [1.1, 0.7, 0.6] } }, { metrics: ["loss"], show: false });
  fig.layout = { ...fig.layout, width: 500, height: 300 };
  const nb = {
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [
      { cell_type: "markdown", source: "hi", metadata: {} },
      { cell_type: "code", source: "", metadata: {}, execution_count: 1, outputs: [
        { output_type: "display_data", metadata: {}, data: { "text/html": figureHtml(fig, { id: "cnn-plot-a", bundleFromNotebookDir: "../x.js" }).split(/(?<=\n)/), "text/plain": "fig" } },
        { output_type: "stream", name: "stdout", text: "done" },
      ] },
    ],
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plot-static-"));
  const src = path.join(dir, "in.ipynb");
  fs.writeFileSync(src, JSON.stringify(nb));
  const out = path.join(dir, "out.ipynb");
  assert.equal(await addStaticFallbacks(src, out), 1);
  const html = JSON.parse(fs.readFileSync(out, "utf8")).cells[1].outputs[0].data["text/html"] as string;
  const parsed = parseFigureHtml(html)!;
  assert.equal(parsed.id, "cnn-plot-a", "same element id");
  assert.equal(parsed.bundleFromNotebookDir, "../x.js", "same plotly location");
  assert.equal(parsed.hasStatic, true);
  const b64 = /src="data:image\/png;base64,([^"]+)"/.exec(html)![1];
  const png = PNG.sync.read(Buffer.from(b64, "base64"));
  assert.deepEqual([png.width, png.height], [500, 300]);
  let colored = 0; // the curves are drawn in plotly's blue and orange
  for (let i = 0; i < png.data.length; i += 4) if (Math.abs(png.data[i] - png.data[i + 2]) > 80) colored++;
  assert.ok(colored > 200, `expected coloured curve pixels, found ${colored}`);
  assert.equal(await addStaticFallbacks(out), 0, "a second pass finds nothing left to do");
  fs.rmSync(dir, { recursive: true, force: true });
});
