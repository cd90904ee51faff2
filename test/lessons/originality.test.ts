/**
 * Every sentence of the lessons is our own: none of 8+ words may be a near-copy (difflib ratio > 0.85) of a
 * sentence of the Python/Keras originals we port (../shared/seeds beside the checkout). Skipped, with the reason,
 * where the seeds or python3 are missing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const root = path.resolve(__dirname, "../..");
const seeds = process.env.LESSONS_SEEDS_DIR ?? path.resolve(root, "../shared/seeds");
const notebooks = fs.readdirSync(path.join(root, "notebooks")).filter((f) => f.endsWith(".ipynb")).map((f) => path.join(root, "notebooks", f));
const python = spawnSync("python3", ["--version"]).status === 0;
const skip = !fs.existsSync(seeds) ? `no seeds at ${seeds} (set LESSONS_SEEDS_DIR)` : !python ? "python3 not found" : false;

test("no sentence of a notebook is a near-copy of a seed sentence", { skip }, () => {
  const run = spawnSync("python3", [path.join(root, "scripts/originality/check.py"), seeds, ...notebooks], { encoding: "utf8" });
  assert.equal(run.stderr, "");
  const flagged = run.stdout.trim().split("\n").filter(Boolean).map((line) => JSON.parse(line));
  assert.deepEqual(flagged, [], `near-copied sentences:\n${run.stdout}`);
  assert.equal(run.status, 0);
});

test("the checker flags a near-copy and passes our own wording", { skip }, () => {
  const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "originality-"));
  fs.writeFileSync(path.join(dir, "seed.txt"), "Dropout layers will only randomly silence nodes during the training of the network.\n");
  const nb = (text: string) => {
    const file = path.join(dir, `nb-${Math.random().toString(36).slice(2)}.ipynb`);
    fs.writeFileSync(file, JSON.stringify({ cells: [{ cell_type: "markdown", source: [text] }] }));
    return file;
  };
  const copied = spawnSync("python3", [path.join(root, "scripts/originality/check.py"), dir, nb("Dropout layers only randomly silence nodes during the training of the network.")]);
  assert.equal(copied.status, 1);
  const ours = spawnSync("python3", [path.join(root, "scripts/originality/check.py"), dir, nb("While a model trains, each dropout layer zeroes a fresh random share of its inputs.")]);
  assert.equal(ours.status, 0, String(ours.stdout));
  fs.rmSync(dir, { recursive: true, force: true });
});
