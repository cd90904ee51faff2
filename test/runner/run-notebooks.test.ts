/**
 * End-to-end tests of `npm run notebooks`: real tslab kernels on the fixture notebooks. The runs are started
 * together in `before` (kernel start-up dominates), then each test checks one behaviour.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadExeca } from "../../scripts/kernel/load-execa";
import type { CodeCell, Notebook } from "../../scripts/runner/nbformat";

const root = path.join(__dirname, "..", "..");
const fixtures = path.join(root, "test", "fixtures", "notebooks");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runner-test-"));
const kernelTmp = path.join(tmp, "tmp");

interface Run {
  exitCode: number;
  output: string;
  out: string;
}

async function runCli(name: string, args: string[]): Promise<Run> {
  const { execa } = await loadExeca();
  const out = path.join(tmp, name);
  const r = await execa(process.execPath, [path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/run-notebooks.ts", "--out", out, ...args], {
    cwd: root,
    reject: false,
    all: true,
    env: { TMPDIR: kernelTmp },
    timeout: 420_000, // generous: several helpers may share this machine
  });
  return { exitCode: r.exitCode ?? -1, output: r.all ?? "", out };
}

function executed(run: Run, file: string): Notebook {
  return JSON.parse(fs.readFileSync(path.join(run.out, file), "utf8"));
}

function codeCells(nb: Notebook): CodeCell[] {
  return nb.cells.filter((c): c is CodeCell => c.cell_type === "code");
}

function text(cell: CodeCell): string {
  return cell.outputs.map((o) => ("text" in o ? [o.text].flat().join("") : "")).join("");
}

const fx = (f: string) => path.join("test", "fixtures", "notebooks", f);
const passesSource = fs.readFileSync(path.join(fixtures, "passes.ipynb"), "utf8");
let failing: Run, hanging: Run, hangingAsync: Run, passing: Run, unknownParam: Run, missing: Run;
let twinDir: string;

before(async () => {
  fs.mkdirSync(kernelTmp);
  // A second, differently named copy in another folder with its own lib link, as a learner's copy would be.
  twinDir = path.join(tmp, "twin");
  fs.mkdirSync(twinDir);
  fs.symlinkSync(path.join(root, "lib"), path.join(twinDir, "lib"));
  fs.copyFileSync(path.join(fixtures, "passes.ipynb"), path.join(twinDir, "passes-twin.ipynb"));
  [failing, hanging, hangingAsync, passing, unknownParam, missing] = await Promise.all([
    runCli("failing", ["--jobs", "3", ...["type-error", "runtime-error", "async-rejection", "kernel-dies", "raises-unmet"].map((n) => fx(`${n}.ipynb`))]),
    runCli("hanging", ["--cell-timeout", "8", fx("hangs.ipynb")]),
    runCli("hanging-async", ["--timeout", "6", fx("hangs-async.ipynb")]),
    runCli("passing", ["--fast", "-p", "LABEL=quick", "--jobs", "2", fx("passes.ipynb"), path.join(twinDir, "passes-twin.ipynb")]),
    runCli("unknown", ["-p", "EPOCHS=2", fx("passes.ipynb")]),
    runCli("missing", [fx("no-such-notebook.ipynb")]),
  ]);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("two passing notebooks run at once, with --fast and -p injected after the parameters cell", () => {
  assert.equal(passing.exitCode, 0, passing.output);
  assert.match(passing.output, /passes\.ipynb\s+passed/);
  assert.match(passing.output, /passes-twin\.ipynb\s+passed/);
  for (const file of ["passes.ipynb", "passes-twin.ipynb"]) {
    const nb = executed(passing, file);
    const cells = codeCells(nb);
    assert.deepEqual(cells.map((c) => c.execution_count), [1, 2, 3, 4, 5, 6, 7, 8], file);
    assert.deepEqual(cells[2]!.metadata.tags, ["injected-parameters"]);
    assert.equal(text(cells[0]!), "root name: true\n", "lib imported through ./lib");
    assert.match(text(cells[3]!), /SIZE=3 LABEL=quick VERBOSE=false/, "-p wins, --fast fills the rest");
    assert.equal(text(cells[4]!), "6\n");
    assert.deepEqual(cells[5]!.outputs, [{ output_type: "display_data", data: { "text/html": "<b>bold lesson</b>" }, metadata: {} }]);
    assert.match(text(cells[6]!), /RangeError: negative size/, "the raises-exception cell kept its error text");
    assert.equal(text(cells[7]!), "after the expected error 6\n");
    assert.equal((nb.metadata.lessons_runner as { status: string }).status, "passed");
  }
  assert.equal(fs.readFileSync(path.join(fixtures, "passes.ipynb"), "utf8"), passesSource, "source untouched");
  assert.deepEqual(fs.readdirSync(passing.out).sort(), ["passes-twin.ipynb", "passes.ipynb"], "no temp files left");
});

test("each failure names notebook, cell, source excerpt and tslab's error text", () => {
  assert.equal(failing.exitCode, 1, failing.output);
  const o = failing.output;
  assert.match(o, /FAILED test\/fixtures\/notebooks\/type-error\.ipynb, cell 2\n  source:\n    const depth: number = projectRoot\(\);/);
  assert.match(o, /Type 'string' is not assignable to type 'number'/);
  assert.match(o, /FAILED test\/fixtures\/notebooks\/runtime-error\.ipynb, cell 2/);
  assert.match(o, /RangeError: size must be positive, got -4/);
  assert.match(o, /FAILED test\/fixtures\/notebooks\/async-rejection\.ipynb, cell 1/);
  assert.match(o, /UnhandledPromiseRejection: Error: nobody awaited me/);
  assert.match(o, /FAILED test\/fixtures\/notebooks\/kernel-dies\.ipynb, cell 2/);
  assert.match(o, /The kernel process died \(exit code 3\)/);
  assert.match(o, /FAILED test\/fixtures\/notebooks\/raises-unmet\.ipynb, cell 1/);
  assert.match(o, /Expected the error "RangeError", but the cell succeeded/);
  for (const n of ["type-error", "runtime-error", "async-rejection", "kernel-dies", "raises-unmet"]) {
    assert.match(o, new RegExp(`${n}\\.ipynb\\s+FAILED\\s+\\d+\\.\\d`), `summary row for ${n}`);
  }
});

test("executed copies keep what ran before the failure and nothing after it", () => {
  const typeError = codeCells(executed(failing, "type-error.ipynb"));
  assert.deepEqual(typeError.map((c) => c.execution_count), [1, 2, null]);
  const errorOut = typeError[1]!.outputs.find((o) => o.output_type === "error");
  assert.equal(errorOut && errorOut.output_type === "error" && errorOut.ename, "TypeScriptError");
  assert.deepEqual(typeError[2]!.outputs, []);

  const died = codeCells(executed(failing, "kernel-dies.ipynb"));
  assert.equal(text(died[0]!), "alive\n");
  assert.deepEqual(died[2]!.outputs, []);

  const rejected = codeCells(executed(failing, "async-rejection.ipynb"));
  assert.match(text(rejected[0]!), /cell returned\n[^]*UnhandledPromiseRejection/);
  assert.equal(rejected[1]!.execution_count, null);
});

test("a hanging cell is interrupted at --cell-timeout and the notebook stops there", () => {
  assert.equal(hanging.exitCode, 1, hanging.output);
  assert.match(hanging.output, /FAILED test\/fixtures\/notebooks\/hangs\.ipynb, cell 2/);
  assert.match(hanging.output, /did not finish within 8 s/);
  const cells = codeCells(executed(hanging, "hangs.ipynb"));
  assert.equal(text(cells[0]!), "before the loop\n");
  assert.equal(cells[2]!.execution_count, null);
});

test("an await that never settles is interrupted when the whole-notebook --timeout runs out", () => {
  assert.equal(hangingAsync.exitCode, 1, hangingAsync.output);
  assert.match(hangingAsync.output, /FAILED test\/fixtures\/notebooks\/hangs-async\.ipynb, cell 2/);
  assert.match(hangingAsync.output, /Interrupted asynchronously[^]*the whole-notebook limit --timeout was reached/);
  const cells = codeCells(executed(hangingAsync, "hangs-async.ipynb"));
  assert.equal(text(cells[0]!), "waiting forever\n");
  assert.equal(cells[2]!.execution_count, null);
});

test("bad parameters and missing notebooks are reported before any work", () => {
  assert.equal(unknownParam.exitCode, 2);
  assert.match(unknownParam.output, /Unknown parameter EPOCHS: no selected notebook declares it \(passes\.ipynb declares SIZE, LABEL, VERBOSE\)/);
  assert.doesNotMatch(unknownParam.output, /▶/, "no notebook was started");
  assert.equal(missing.exitCode, 2);
  assert.match(missing.output, /Notebook not found: .*no-such-notebook\.ipynb/);
});

test("executed copies are valid nbformat 4 (checked with Python's nbformat when available)", async (t) => {
  const { execa } = await loadExeca();
  // Debian's python3-nbformat lives under /usr/bin/python3, which a pyenv python3 on PATH may hide.
  let python: string | undefined;
  for (const candidate of ["python3", "/usr/bin/python3"]) {
    const probe = await execa(candidate, ["-c", "import nbformat"], { reject: false });
    if (probe.exitCode === 0) {
      python = candidate;
      break;
    }
  }
  if (!python) return t.skip("python3 with nbformat is not installed");
  const files = [
    path.join(passing.out, "passes.ipynb"),
    path.join(failing.out, "type-error.ipynb"),
    path.join(failing.out, "kernel-dies.ipynb"),
    path.join(hanging.out, "hangs.ipynb"),
  ];
  const script = "import sys, nbformat\nfor f in sys.argv[1:]:\n    nbformat.validate(nbformat.read(f, as_version=4))\nprint('valid')";
  const r = await execa(python, ["-c", script, ...files], { reject: false, all: true });
  assert.equal(r.exitCode, 0, r.all);
});

test("no kernel process or connection file outlives the runs", () => {
  const leftovers: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes(kernelTmp)) leftovers.push(`${pid}: ${cmd.replace(/\0/g, " ")}`);
    } catch {
      // The process ended while we looked.
    }
  }
  assert.deepEqual(leftovers, []);
  assert.deepEqual(fs.readdirSync(kernelTmp).filter((f) => f.startsWith("lessons-kernel-")), []);
});
