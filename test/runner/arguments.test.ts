/**
 * What the runner checks before any kernel starts: paths typed relative to the user's folder (npm's INIT_CWD),
 * folder arguments, notebooks that are JSON but not nbformat 4, and the --out folder (lock, unwritable).
 * Each CLI case stops before starting a kernel, so these runs take a second or two.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadExeca } from "../../scripts/kernel/load-execa";
import { resolveNotebookArgs, userFolder } from "../../scripts/runner/arguments";
import { readNotebook } from "../../scripts/runner/nbformat";
import { LOCK_NAME, lockOutFolder, OutFolderError } from "../../scripts/runner/out-lock";

const root = path.join(__dirname, "..", "..");
const fixtures = path.join(root, "test", "fixtures", "notebooks");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runner-args-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ exitCode: number; output: string }> {
  const { execa } = await loadExeca();
  const r = await execa(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/run-notebooks.ts", ...args], {
    cwd: root,
    reject: false,
    all: true,
    env: { npm_lifecycle_event: "", INIT_CWD: "", ...env },
    timeout: 60_000,
  });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? "" };
}

test("the user's folder is npm's INIT_CWD only when npm started this script", () => {
  assert.equal(userFolder("notebooks", { npm_lifecycle_event: "notebooks", INIT_CWD: "/home/me/course/notebooks" }, "/x"), "/home/me/course/notebooks");
  assert.equal(userFolder("notebooks", { npm_lifecycle_event: "test", INIT_CWD: "/elsewhere" }, "/x"), "/x");
  assert.equal(userFolder("notebooks", {}, "/x"), "/x");
});

test("arguments resolve against the user's folder; a folder stands for its notebooks", () => {
  const r = resolveNotebookArgs(["./passes.ipynb", ".", "missing.ipynb"], fixtures);
  assert.equal(r.files[0], path.join(fixtures, "passes.ipynb"));
  assert.ok(r.files.includes(path.join(fixtures, "hangs.ipynb")));
  assert.equal(new Set(r.files).size, r.files.length, "a notebook named twice runs once");
  assert.ok(r.files.every((f) => f.endsWith(".ipynb")));
  assert.deepEqual(r.errors, [`Notebook not found: missing.ipynb (looked for ${path.join(fixtures, "missing.ipynb")})`]);
  assert.match(resolveNotebookArgs([path.join(root, "lib")], tmp).errors[0]!, /No notebooks \(\.ipynb files\) in the folder/);
});

test("`cd notebooks && npm run notebooks -- ./x.ipynb` finds x.ipynb there; a folder argument runs its notebooks", async () => {
  const env = { npm_lifecycle_event: "notebooks", INIT_CWD: fixtures };
  const missing = await runCli(["./no-such.ipynb"], env);
  assert.equal(missing.exitCode, 2);
  assert.match(missing.output, new RegExp(`looked for ${path.join(fixtures, "no-such.ipynb").replace(/[.]/g, "\\.")}`));
  // An unknown parameter stops the run before any kernel, after every notebook of the folder was read.
  const folder = await runCli(["-p", "NOPE=1", "."], env);
  assert.equal(folder.exitCode, 2, folder.output);
  assert.match(folder.output, /passes\.ipynb declares SIZE, LABEL, VERBOSE; raises-unmet\.ipynb has no parameters cell/);
  assert.doesNotMatch(folder.output, /▶/);
});

test("a notebook that is JSON but not nbformat 4 is named with the reason, before anything runs", async () => {
  const files = { "null.ipynb": "null", "no-cells.ipynb": '{"nbformat": 4, "metadata": {}}', "v3.ipynb": '{"nbformat": 3, "worksheets": []}' };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), text);
  assert.throws(() => readNotebook(path.join(tmp, "null.ipynb")), /null\.ipynb is not a notebook the runner can run: it is JSON but not a notebook \(it holds null\)/);
  assert.throws(() => readNotebook(path.join(tmp, "no-cells.ipynb")), /it has no "cells" list/);
  assert.throws(() => readNotebook(path.join(tmp, "v3.ipynb")), /nbformat is 3/);
  const r = await runCli(Object.keys(files).map((f) => path.join(tmp, f)).concat(path.join(fixtures, "passes.ipynb")));
  assert.equal(r.exitCode, 2, r.output);
  for (const name of Object.keys(files)) assert.match(r.output, new RegExp(`${name.replace(".", "\\.")} is not a notebook the runner can run`));
  assert.doesNotMatch(r.output, /executed copy|▶|\n\s+at /);
});

test("one run per --out folder: a live run's lock is refused, a dead run's lock taken over", () => {
  const out = path.join(tmp, "out-lock");
  const release = lockOutFolder(out);
  assert.throws(() => lockOutFolder(out), (e: Error) => e instanceof OutFolderError && /Another run \(pid \d+ .*\) is writing to .*out-lock.*--out DIR/.test(e.message));
  release();
  assert.equal(fs.existsSync(path.join(out, LOCK_NAME)), false);
  fs.writeFileSync(path.join(out, LOCK_NAME), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), started: "earlier" }));
  const again = lockOutFolder(out);
  again();
});

test("a second run on the same --out is refused with one line; an unwritable --out gives one line and the table", async () => {
  const out = path.join(tmp, "busy");
  const release = lockOutFolder(out); // this test process plays the first run
  try {
    const r = await runCli(["--out", out, path.join(fixtures, "passes.ipynb")]);
    assert.equal(r.exitCode, 2);
    assert.match(r.output, /Another run \(pid \d+/);
    assert.doesNotMatch(r.output, /\n\s+at /, "no stack trace");
  } finally {
    release();
  }
  fs.writeFileSync(path.join(tmp, "a-file"), "");
  const bad = await runCli(["--out", path.join(tmp, "a-file", "out"), path.join(fixtures, "passes.ipynb")]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.output, /^Cannot write to the output folder .*a-file\/out \(.*\)\. Choose a folder you can write with --out DIR\.$/m);
  assert.match(bad.output, /passes\.ipynb\s+not run\s+0\.0/);
  assert.doesNotMatch(bad.output, /\n\s+at /);
});

test("--fast and --course together are refused", async () => {
  const r = await runCli(["--fast", "--course", path.join(fixtures, "passes.ipynb")]);
  assert.equal(r.exitCode, 2);
  assert.match(r.output, /Choose one of --fast and --course/);
});
