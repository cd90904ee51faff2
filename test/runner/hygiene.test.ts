import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { STANDARD_KERNELSPEC } from "../../scripts/kernel/kernelspec";
import { errorName, errorSummary, hasAsyncFailure } from "../../scripts/runner/failures";
import { cleanNotebook, hygieneProblems } from "../../scripts/runner/hygiene";
import { type Notebook, readNotebook } from "../../scripts/runner/nbformat";

const root = path.join(__dirname, "..", "..");
const fixtures = path.join(root, "test", "fixtures", "notebooks");

function dirty(): Notebook {
  const nb = readNotebook(path.join(fixtures, "passes.ipynb"));
  const cell = nb.cells[1]!;
  if (cell.cell_type !== "code") throw new Error("fixture changed: cell 2 should be code");
  cell.outputs = [{ output_type: "stream", name: "stdout", text: ["hi\n"] }];
  cell.execution_count = 4;
  nb.metadata.kernelspec = { name: "tslab", display_name: "TypeScript", language: "typescript" };
  return nb;
}

test("cleanNotebook strips outputs and counts, sets the kernel, keeps tags and lesson metadata", () => {
  const nb = dirty();
  assert.ok(hygieneProblems(nb).length >= 3);
  const clean = cleanNotebook(nb);
  assert.deepEqual(hygieneProblems(clean), []);
  assert.deepEqual(clean.metadata.kernelspec, STANDARD_KERNELSPEC);
  assert.deepEqual(clean.cells[2]!.metadata.tags, ["parameters"]);
  assert.deepEqual(clean.metadata.lessons, { fast_parameters: { SIZE: 3 } });
  assert.equal(clean.cells.length, nb.cells.length);
});

test("every fixture notebook is committed clean", () => {
  for (const f of fs.readdirSync(fixtures).filter((f) => f.endsWith(".ipynb"))) {
    assert.deepEqual(hygieneProblems(readNotebook(path.join(fixtures, f))), [], f);
  }
});

test("every lesson in notebooks/ is committed without outputs and with the project kernel", () => {
  // Only what git tracks: a lesson being written may have outputs until it is committed.
  const tracked = execFileSync("git", ["ls-files", "--", "notebooks/*.ipynb"], { cwd: root, encoding: "utf8" });
  for (const f of tracked.split("\n").filter(Boolean)) {
    const problems = hygieneProblems(readNotebook(path.join(root, f)));
    assert.deepEqual(problems, [], `${f}: ${problems.join("; ")} (run \`npm run clean-notebooks\`)`);
  }
});

test("notebooks/lib links to the shared lib folder", () => {
  assert.equal(fs.readlinkSync(path.join(root, "notebooks", "lib")), "../lib");
  assert.ok(fs.existsSync(path.join(root, "notebooks", "lib", "paths.ts")));
});

test("tslab's stderr text is classified into error names", () => {
  assert.equal(errorName("1:7 - Type 'string' is not assignable to type 'number'.\n"), "TypeScriptError");
  assert.equal(errorName("evalmachine.<anonymous>:2\nthrow x;\n^\n\nRangeError: bad\n    at f"), "RangeError");
  assert.equal(errorName("UnhandledPromiseRejection: Error: lost\n    at x"), "UnhandledPromiseRejection");
  assert.equal(errorSummary("evalmachine.<anonymous>:2\nthrow x;\n^\n\nRangeError: bad\n    at f"), "RangeError: bad");
  assert.ok(hasAsyncFailure("ok\nUncaughtException: Error: late\n"));
  assert.ok(!hasAsyncFailure("a warning about UnhandledPromiseRejection: in text"));
});
