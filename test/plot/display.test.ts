import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { displayBundle, inNotebook, notebookKernel } from "../../lib/plots/display";
import { writeCellText } from "../../lib/cell-output";
import { detectProgressMode } from "../../lib/progress";
import { lineChart } from "../../lib/plot";

type Sent = { type: string; content: { data: Record<string, unknown>; transient: { display_id?: string } } };

/** Stands in for `deno jupyter`: a global Deno whose jupyter.broadcast records what it is given. */
function fakeDenoKernel(t: { after(fn: () => void): void }): Sent[] {
  const sent: Sent[] = [];
  const g = globalThis as { Deno?: unknown };
  assert.equal(g.Deno, undefined, "the test runs under Node, without a Deno global");
  g.Deno = { jupyter: { broadcast: (type: string, content: Sent["content"]) => void sent.push({ type, content }) } };
  t.after(() => delete g.Deno);
  return sent;
}

test("outside a notebook no kernel is detected and nothing is sent", () => {
  assert.equal(notebookKernel(), undefined);
  assert.equal(inNotebook(), false);
  assert.equal(displayBundle({ "text/plain": "x" }), false);
});

test("under `deno run` (Deno.jupyter throws when read) it is not a notebook", (t) => {
  const g = globalThis as { Deno?: unknown };
  g.Deno = Object.defineProperty({}, "jupyter", {
    get() {
      throw new Error("Deno.jupyter is only available in `deno jupyter` subcommand");
    },
  });
  t.after(() => delete g.Deno);
  assert.equal(notebookKernel(), undefined);
  assert.equal(displayBundle({ "text/plain": "x" }), false);
});

test("in Deno's kernel a bundle goes out as display_data, and an update by display id as update_display_data", (t) => {
  const sent = fakeDenoKernel(t);
  assert.equal(notebookKernel(), "deno");
  assert.equal(displayBundle({ "text/plain": "chart", "text/html": "<b>chart</b>" }), true);
  assert.equal(displayBundle({ "text/plain": "one" }, { displayId: "d1" }), true);
  assert.equal(displayBundle({ "text/plain": "two" }, { displayId: "d1", update: true }), true);
  assert.deepEqual(sent.map((s) => s.type), ["display_data", "display_data", "update_display_data"]);
  assert.deepEqual(sent[0]!.content.data, { "text/plain": "chart", "text/html": "<b>chart</b>" });
  assert.deepEqual(sent[0]!.content.transient, {});
  assert.deepEqual(sent[2]!.content, { data: { "text/plain": "two" }, metadata: {}, transient: { display_id: "d1" } });
  assert.throws(() => displayBundle({ "text/plain": "x" }, { update: true }), /needs the `displayId`/);
});

test("a broadcast that rejects (kernel shutting down) does not become an unhandled rejection", async (t) => {
  const g = globalThis as { Deno?: unknown };
  g.Deno = { jupyter: { broadcast: () => Promise.reject(new Error("iopub closed")) } };
  t.after(() => delete g.Deno);
  let unhandled = false;
  const onUnhandled = () => (unhandled = true);
  process.on("unhandledRejection", onUnhandled);
  t.after(() => process.off("unhandledRejection", onUnhandled));
  assert.equal(displayBundle({ "text/plain": "x" }), true);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(unhandled, false);
});

test("tslab's kernel writer wins over a Deno global and receives display ids and updates", (t) => {
  fakeDenoKernel(t);
  const key = path.join(path.sep, "fake", "node_modules", "tslab", "dist", "jupyter.js");
  const calls: { transient: object; update: boolean }[] = [];
  require.cache[key] = {
    exports: { lastWriteDisplayData: (msg: { transient: object }, update: boolean) => calls.push({ transient: msg.transient, update }) },
  } as NodeJS.Module;
  t.after(() => delete require.cache[key]);
  assert.equal(notebookKernel(), "tslab");
  displayBundle({ "text/plain": "a" }, { displayId: "p" });
  displayBundle({ "text/plain": "b" }, { displayId: "p", update: true });
  assert.deepEqual(calls, [
    { transient: { display_id: "p" }, update: false },
    { transient: { display_id: "p" }, update: true },
  ]);
});

test("in Deno's kernel a line rewritten with \\r is one display updated in place; whole lines go to console.log", (t) => {
  const sent = fakeDenoKernel(t);
  const logged: string[] = [];
  t.mock.method(console, "log", (s: string) => void logged.push(s));
  assert.equal(detectProgressMode(), "live", "training progress draws its live line in Deno's kernel");
  writeCellText("\rEpoch 1/2 [>...] 1/4");
  writeCellText("\rEpoch 1/2 [==>.] 3/4");
  writeCellText("\rEpoch 1/2 [====] 4/4 - 0.3s");
  writeCellText("\n");
  writeCellText("Data: 64 images\nloaded\n");
  writeCellText("\rEpoch 2/2 [====] 4/4\n");
  assert.deepEqual(sent.map((s) => s.type), ["display_data", "update_display_data", "update_display_data", "update_display_data"]);
  const ids = new Set(sent.map((s) => s.content.transient.display_id));
  assert.equal(ids.size, 1, "every update names the line's display");
  assert.equal(sent.at(-1)!.content.data["text/plain"], "Epoch 1/2 [====] 4/4 - 0.3s", "the line keeps its last text");
  assert.deepEqual(logged, ["Data: 64 images", "loaded", "Epoch 2/2 [====] 4/4"]);
});

test("in Deno's kernel a chart goes out once, and the figure a cell ends with shows nothing more", (t) => {
  const sent = fakeDenoKernel(t);
  const fig = lineChart([1, 2], [3, 4], { title: "Deno chart" });
  assert.deepEqual(sent.map((s) => s.type), ["display_data"]);
  assert.ok("application/vnd.plotly.v1+json" in sent[0]!.content.data);
  const display = (fig as unknown as Record<symbol, () => object>)[Symbol.for("Jupyter.display")];
  assert.equal(typeof display, "function", "Deno asks a cell's value for its output with Symbol.for('Jupyter.display')");
  assert.deepEqual(display(), {}, "an empty bundle: Deno shows no execute_result");
  const unshown = lineChart([1, 2], [3, 4], { show: false });
  assert.equal((unshown as unknown as Record<symbol, unknown>)[Symbol.for("Jupyter.display")], undefined, "figures not shown still print");
});
