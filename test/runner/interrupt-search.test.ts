/**
 * A real tslab kernel: interrupting a tuner search (the stop button during lesson 02's grid or random search) must
 * stop the search itself, say so in the interrupted cell, and print nothing into later cells. Before, an interrupt
 * that arrived after a trial's last training step went unnoticed: the next trial's train() took a fresh interrupt
 * ticket, so the search ran on in the background and printed its trial lines (or a "Trial failed" line) into
 * whichever cell ran next.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type CellRun, Kernel } from "../../scripts/runner/kernel-client";

const root = path.join(__dirname, "..", "..");

// tfjs's default backend is enough here: what is tested is the search loop, not the kernels.
// Many tiny trials, one epoch of one batch each: every interrupt lands between a trial's only check and its end,
// which is where the search used to miss it.
const setup = (dir: string) => `
import * as tf from "@tensorflow/tfjs";
import { compileForClassification } from "./lib/train";
import { GridSearch, HyperParameters } from "./lib/tuner";
const images = tf.randomUniform([256, 4, 4, 1]);
const labels = tf.randomUniform([256], 0, 2, "int32");
const tuner = new GridSearch({
  hypermodel: (hp: HyperParameters) => compileForClassification(tf.sequential({ layers: [
    tf.layers.flatten({ inputShape: [4, 4, 1] }),
    tf.layers.dense({ units: hp.Int("units", { min: 1, max: 1000 }), activation: "relu" }),
    tf.layers.dense({ units: 2 }),
  ]})),
  objective: "val_loss", directory: ${JSON.stringify(dir)}, projectName: "stopped",
});
`;
const SEARCH = `
await tuner.search({ x: images, y: labels }, { epochs: 1, batchSize: 256, validationData: { x: images, y: labels } });
`;

const outputText = (run: CellRun) =>
  run.outputs.map((o) => (o.output_type === "stream" ? [o.text].flat().join("") : "")).join("") + run.stderr;

test("an interrupted search stops: the cell says how to resume, the next cell shows nothing of it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "interrupt-search-"));
  const kernel = await Kernel.start({ root, cwd: path.join(root, "notebooks") });
  try {
    const made = await kernel.execute(setup(dir), 60_000);
    assert.equal(made.status, "ok", outputText(made));
    const search = await kernel.execute(SEARCH, 8_000);
    const searchText = outputText(search);
    assert.equal(search.status, "timeout", `the runner interrupts the cell when its time is up: ${searchText.slice(-600)}`);
    // tslab refuses requests for 200 ms after a cell fails (its queue reset); a person is never that quick.
    await new Promise((r) => setTimeout(r, 500));
    const next = await kernel.execute(
      'const before = tuner.getTrials().length;\nawait new Promise((r) => setTimeout(r, 3000));\n' +
        'console.log(`next cell done; trials saved meanwhile: ${tuner.getTrials().length - before}`);\n',
      30_000,
    );
    assert.equal(next.status, "ok", outputText(next));
    const text = outputText(next);
    assert.doesNotMatch(text, /Trial|Search/, `the interrupted search printed into the next cell:\n${text.slice(0, 1500)}`);
    assert.match(text, /next cell done; trials saved meanwhile: 0\b/, "no trial ran after the interrupt");
    assert.match(searchText, /Trial \d+\/1000 complete/, "trials had finished");
    assert.match(searchText, /Search stopped/, `the interrupted cell says the search stopped:\n${searchText.slice(-1500)}`);
    assert.match(
      searchText,
      /during trial_\d+ \(units=\d+\), which is not saved\. The \d+ finished trial\(s\) are saved in .*: running search again on this tuner .* resumes from them/,
      "which trial was lost, and how to resume",
    );
    assert.doesNotMatch(searchText, /failed/, "an interrupt is not a failed trial");
  } finally {
    await kernel.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
