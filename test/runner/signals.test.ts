/**
 * Stopping a run stops everything it started. Each case starts the runner on a notebook whose second cell spins
 * for ever, waits until that cell runs, signals the runner and checks: the exit code, the one-line message, the
 * executed copy saved as "interrupted", and no kernel process or temporary folder left after 10 seconds.
 * The cases run four at a time (kernel start-up dominates); every process is killed in `after` whatever happened.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isLauncher, launcherChain, launcherGone } from "../../scripts/runner/ancestry";
import type { CodeCell, Notebook } from "../../scripts/runner/nbformat";

const root = path.join(__dirname, "..", "..");
const hangs = path.join(root, "test", "fixtures", "notebooks", "hangs.ipynb");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "runner-signals-"));
const started: ChildProcess[] = [];

interface Case {
  name: string;
  /** Where the kernels of this case put their temporary folders (so we can find them). */
  kernelTmp: string;
  out: string;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  output: string;
  /** Kernel processes still alive 10 s after the signal. */
  leftovers: string[];
  tmpLeft: string[];
}

function kernelProcesses(kernelTmp: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes(kernelTmp) && cmd.includes("tslab")) found.push(pid);
    } catch {
      // ended while we looked
    }
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the runner (node --import tsx: the pid we signal is the runner itself, or with `viaTsx` tsx's wrapper
 * process, as `npm run` starts it), sends `signal` once the endless cell runs, and watches the aftermath.
 */
async function signalRun(name: string, signal: NodeJS.Signals, via: "runner" | "tsx" | "npm" | "npm-group" = "runner"): Promise<Case> {
  const kernelTmp = path.join(tmp, name, "tmp");
  const out = path.join(tmp, name, "out");
  fs.mkdirSync(kernelTmp, { recursive: true });
  const [command, ...args] = {
    runner: [process.execPath, "--import", "tsx", "scripts/run-notebooks.ts"],
    tsx: [process.execPath, path.join(root, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/run-notebooks.ts"],
    npm: ["npm", "run", "--silent", "notebooks", "--"],
    "npm-group": ["npm", "run", "--silent", "notebooks", "--"],
  }[via];
  const child = spawn(command!, [...args, "--out", out, "--cell-timeout", "300", "--no-static-plots", hangs], {
    cwd: root,
    env: { ...process.env, TMPDIR: kernelTmp, npm_lifecycle_event: "" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: via === "npm-group", // its own process group, like a terminal's foreground job
  });
  started.push(child);
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const deadline = Date.now() + 300_000; // kernel start-up on a machine shared with other work
  while (!/\[hangs\.ipynb\] cell 1 .* ok/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the endless cell never started:\n${output}`);
    await sleep(200);
  }
  await sleep(500); // the endless cell is running now
  assert.equal(kernelProcesses(kernelTmp).length, 1, "one kernel runs before the signal");
  if (via === "npm-group") process.kill(-child.pid!, signal); // Ctrl-C: every process of the job gets it
  else child.kill(signal);
  const signalledAt = Date.now();
  await Promise.race([exited, sleep(30_000)]);
  if (via.startsWith("npm")) await sleep(5000); // npm may leave before the runner has finished stopping
  await sleep(Math.max(0, signalledAt + 10_000 - Date.now()));
  const tmpLeft = fs.readdirSync(kernelTmp).filter((f) => f.startsWith("lessons-kernel-"));
  return { name, kernelTmp, out, exitCode: child.exitCode, exitSignal: child.signalCode, output, leftovers: kernelProcesses(kernelTmp), tmpLeft };
}

let term: Case, int: Case, hup: Case, killed: Case, wrapperKilled: Case, npmTerm: Case, ctrlC: Case;

/** Runs `jobs` at most `limit` at a time (kernel start-ups of many at once starve each other on small machines). */
async function limited<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

before(async () => {
  [term, int, hup, killed, wrapperKilled, npmTerm, ctrlC] = await limited(
    [
      () => signalRun("term", "SIGTERM"),
      () => signalRun("int", "SIGINT"),
      () => signalRun("hup", "SIGHUP"),
      () => signalRun("kill", "SIGKILL"),
      () => signalRun("wrapper-kill", "SIGKILL", "tsx"),
      () => signalRun("npm-term", "SIGTERM", "npm"),
      () => signalRun("ctrl-c", "SIGINT", "npm-group"),
    ],
    4,
  );
});

after(() => {
  for (const c of started) {
    try {
      process.kill(-c.pid!, "SIGKILL"); // the npm-group case: the whole job
    } catch {
      if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    }
  }
  for (const c of [term, int, hup, killed, wrapperKilled, npmTerm, ctrlC]) for (const pid of c ? kernelProcesses(c.kernelTmp) : []) process.kill(Number(pid), "SIGKILL");
  fs.rmSync(tmp, { recursive: true, force: true });
});

function checkStopped(c: Case, signal: string, code: number): void {
  assert.equal(c.exitCode, code, c.output);
  const lines = c.output.split("\n").filter((l) => l.startsWith("Interrupted by"));
  assert.deepEqual(lines.length, 1, c.output);
  assert.match(lines[0]!, new RegExp(`^Interrupted by ${signal}: the kernels were shut down; saved with status "interrupted": .*hangs\\.ipynb\\.$`));
  assert.doesNotMatch(c.output, /\n\s+at |FAILED/, "no stack trace, no failure report");
  assert.match(c.output, /hangs\.ipynb\s+interrupted/);
  const nb: Notebook = JSON.parse(fs.readFileSync(path.join(c.out, "hangs.ipynb"), "utf8"));
  assert.equal((nb.metadata.lessons_runner as { status: string }).status, "interrupted");
  const cells = nb.cells.filter((x): x is CodeCell => x.cell_type === "code");
  assert.equal(cells[0]!.execution_count, 1);
  assert.ok(cells[1]!.outputs.some((o) => o.output_type === "error" && o.ename === "Interrupted"), JSON.stringify(cells[1]!.outputs));
  assert.equal(cells[2]!.execution_count, null);
  assert.deepEqual(fs.readdirSync(c.out), ["hangs.ipynb"], "no lock or temporary file left in --out");
}

test("SIGTERM interrupts the cell, shuts the kernel down, saves the copy as interrupted and exits 143", () => {
  checkStopped(term, "SIGTERM", 143);
  assert.deepEqual(term.leftovers, []);
  assert.deepEqual(term.tmpLeft, []);
});

test("SIGINT (Ctrl-C) does the same and exits 130", () => {
  checkStopped(int, "SIGINT", 130);
  assert.deepEqual(int.leftovers, []);
});

test("SIGHUP (the terminal closed) does the same and exits 129", () => {
  checkStopped(hup, "SIGHUP", 129);
  assert.deepEqual(hup.leftovers, []);
});

test("SIGKILL of the runner: the kernel notices it lost its parent, exits and removes its temporary folder", () => {
  assert.equal(killed.exitSignal, "SIGKILL");
  assert.deepEqual(killed.leftovers, [], "no kernel process 10 s after the runner was killed");
  assert.deepEqual(killed.tmpLeft, [], "the kernel's connection folder is gone");
});

test("SIGKILL of the wrapper that started the runner (tsx, as under npm): the runner stops its kernel and leaves", () => {
  assert.equal(wrapperKilled.exitSignal, "SIGKILL");
  assert.deepEqual(wrapperKilled.leftovers, []);
  assert.deepEqual(wrapperKilled.tmpLeft, []);
});

test("SIGTERM to npm (which does not pass it on): the runner sees its launcher end and stops everything", () => {
  assert.deepEqual(npmTerm.leftovers, [], npmTerm.output);
  assert.deepEqual(npmTerm.tmpLeft, []);
  assert.match(npmTerm.output, /The command that started the runner \(npm\) has ended: stopping/);
  const nb: Notebook = JSON.parse(fs.readFileSync(path.join(npmTerm.out, "hangs.ipynb"), "utf8"));
  assert.equal((nb.metadata.lessons_runner as { status: string }).status, "interrupted");
});

test("the launcher chain: npm, its sh -c and tsx's wrapper count, a login shell does not", () => {
  assert.ok(isLauncher(["node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "run", "notebooks"]));
  assert.ok(isLauncher(["npm", "test"]));
  assert.ok(isLauncher(["sh", "-c", "tsx scripts/run-notebooks.ts"]));
  assert.ok(isLauncher(["node", "/work/main/node_modules/.bin/tsx", "scripts/run-notebooks.ts"]));
  assert.ok(!isLauncher(["-bash"]));
  assert.ok(!isLauncher(["bash"]));
  assert.ok(!isLauncher(["/usr/bin/node", "--import", "tsx", "scripts/run-notebooks.ts"]));
  const chain = launcherChain();
  assert.equal(chain[0]![0], process.pid);
  assert.equal(launcherGone(chain), false);
});

test("Ctrl-C in a terminal (SIGINT to npm's whole process group, passed on by tsx too) stops the run cleanly once", () => {
  const lines = ctrlC.output.split("\n").filter((l) => l.startsWith("Interrupted by"));
  assert.deepEqual(lines, [`Interrupted by SIGINT: the kernels were shut down; saved with status "interrupted": ${path.join(ctrlC.out, "hangs.ipynb")}.`], ctrlC.output);
  assert.doesNotMatch(ctrlC.output, /\n\s+at /, "no tslab stack trace: the kernel is not in the terminal's process group");
  const nb: Notebook = JSON.parse(fs.readFileSync(path.join(ctrlC.out, "hangs.ipynb"), "utf8"));
  assert.equal((nb.metadata.lessons_runner as { status: string }).status, "interrupted");
  assert.deepEqual(fs.readdirSync(ctrlC.out), ["hangs.ipynb"]);
  assert.deepEqual(ctrlC.leftovers, []);
  assert.deepEqual(ctrlC.tmpLeft, []);
});
