/**
 * `npm run notebooks -- [--fast | --course] [--out DIR] [--timeout S] [--cell-timeout S] [-p NAME=value ...] [--jobs N] [notebook or folder ...]`
 *
 * Runs lesson notebooks headless, each in a fresh tslab kernel spoken to over ZeroMQ (no Python needed), writes
 * executed copies to build/notebooks/, prints each failure and a summary table; exits 1 if any notebook failed.
 * Everything that can be checked (paths, notebooks, parameters, the output folder) is checked before any kernel
 * starts. SIGINT, SIGTERM and SIGHUP stop the run cleanly: the cell is interrupted, the kernel shut down, the copy
 * saved as "interrupted", and the exit code is 128 + the signal's number.
 */
import * as fs from "fs";
import * as path from "path";
import { Command, InvalidArgumentError } from "commander";
import { type NotebookResult, runNotebook } from "./runner/execute-notebook";
import { launcherChain, launcherGone } from "./runner/ancestry";
import { notebooksIn, resolveNotebookArgs, userFolder } from "./runner/arguments";
import { type Notebook, readNotebook } from "./runner/nbformat";
import { lockOutFolder, OutFolderError } from "./runner/out-lock";
import { type ParameterValue, parseParameterArg, planParameters, type SizeMode } from "./runner/parameters";
import { formatFailure, formatTable } from "./runner/report";
import { KERNEL_KINDS, type KernelKind, parseKernelKind } from "./runner/kernels";
import { addStaticFallbacks, staticRenderingAvailable } from "./render-static-plots";

const root = path.resolve(__dirname, "..");

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number of seconds.");
  return n;
}

function kernelKind(value: string): KernelKind {
  try {
    return parseKernelKind(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number >= 1.");
  return n;
}

function collectParameter(value: string, previous: Record<string, ParameterValue>): Record<string, ParameterValue> {
  try {
    const [name, v] = parseParameterArg(value);
    return { ...previous, [name]: v };
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function defaultNotebooks(): string[] {
  const dir = path.join(root, "notebooks");
  return fs.existsSync(dir) ? notebooksIn(dir) : [];
}

/** Runs `tasks` with at most `jobs` at a time, keeping their order in the result; `skip` answers for tasks not started. */
async function pool<T>(tasks: (() => Promise<T>)[], jobs: number, skip: (i: number) => T | undefined): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = skip(i) ?? (await tasks[i]!());
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results;
}

/**
 * Charts draw themselves with plotly in a live notebook; a viewer that runs no scripts (GitHub, an untrusted
 * notebook) shows the PNG embedded here instead. Needs Debian's chromium; without it the copies keep a text note.
 */
async function addStaticPictures(executedCopy: string): Promise<void> {
  if (!fs.existsSync(executedCopy) || !staticRenderingAvailable()) return;
  try {
    const n = await addStaticFallbacks(executedCopy);
    if (n > 0) console.log(`  ${n} chart(s) in ${path.relative(root, executedCopy)} given a static picture`);
  } catch (e) {
    console.error(`  could not add static chart pictures to ${executedCopy}: ${(e as Error).message}`);
  }
}

const SIGNAL_NUMBERS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
/** A second signal within this time is the same request (delivered twice); a later one means "leave now". */
const REPEAT_GRACE_MS = 3000;

/**
 * Turns SIGINT, SIGTERM and SIGHUP (and the loss of our parent process: npm or tsx killed) into an abort of the
 * run. A second signal leaves at once (execa's clean-up still kills the kernels on exit).
 */
function stopOnSignals(controller: AbortController): { signal: () => NodeJS.Signals | undefined; dispose: () => void } {
  let received: NodeJS.Signals | undefined;
  let receivedAt = 0;
  const onSignal = (sig: NodeJS.Signals, why: string = sig) => {
    // Ctrl-C reaches the whole process group and tsx's wrapper passes it on too: the same keypress arrives twice.
    if (received && Date.now() - receivedAt < REPEAT_GRACE_MS) return;
    if (received) process.exit(128 + (SIGNAL_NUMBERS[received] ?? 1));
    received = sig;
    receivedAt = Date.now();
    console.error(`\n${why}: stopping (interrupting the cell and shutting the kernel down)...`);
    controller.abort();
  };
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const listener = (sig: NodeJS.Signals) => onSignal(sig);
  for (const s of signals) process.on(s, listener);
  const chain = launcherChain();
  const watch = setInterval(() => !received && launcherGone(chain) && onSignal("SIGHUP", "The command that started the runner (npm) has ended"), 1000);
  watch.unref();
  return {
    signal: () => received,
    dispose: () => {
      clearInterval(watch);
      for (const s of signals) process.off(s, listener);
    },
  };
}

interface Selected {
  file: string;
  nb: Notebook;
}

/** Reads every named notebook; problems are returned as lines, so all are reported before anything runs. */
function readAll(files: string[]): { selected: Selected[]; errors: string[] } {
  const selected: Selected[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      selected.push({ file, nb: readNotebook(file) });
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { selected, errors };
}

function notRun(file: string, outFile: string, message: string): NotebookResult {
  return { notebook: file, outFile, written: false, status: "interrupted", passed: false, seconds: 0, failure: { cell: "-", excerpt: "", message } };
}

async function main(): Promise<number> {
  const program = new Command()
    .name("npm run notebooks --")
    .description("Execute lesson notebooks headless in fresh TypeScript kernels (tslab, or Deno with --kernel deno).")
    .argument("[notebooks...]", "notebook files or folders of notebooks, relative to where you typed the command (default: every notebooks/*.ipynb)")
    .option("--fast", "use each notebook's metadata lessons.fast_parameters (smaller sizes, same code)", false)
    .option("--course", "use each notebook's metadata lessons.course_parameters (the original course's sizes)", false)
    .option("--out <dir>", "folder for the executed copies", path.join(root, "build", "notebooks"))
    .option("--timeout <seconds>", "limit for running all cells of one notebook", positiveNumber, 4 * 3600)
    .option("--cell-timeout <seconds>", "limit for one cell", positiveNumber, 600)
    .option("-p, --parameter <name=value>", "set a parameter in the notebooks that declare it (repeatable; wins over --fast/--course)", collectParameter, {})
    .option("--jobs <n>", "notebooks to run at the same time", positiveInt, 1)
    .option("--kernel <name>", `the kernel to run them on: ${KERNEL_KINDS.join(" or ")} (the project's Deno)`, kernelKind, "tslab" as KernelKind)
    .option("--no-static-plots", "skip embedding a static picture of each chart in the executed copies (needs chromium)")
    .showHelpAfterError();
  program.parse();
  const opts = program.opts<{
    fast: boolean;
    course: boolean;
    out: string;
    timeout: number;
    cellTimeout: number;
    parameter: Record<string, ParameterValue>;
    jobs: number;
    kernel: KernelKind;
    staticPlots: boolean;
  }>();
  if (opts.fast && opts.course) {
    console.error("Choose one of --fast and --course: they set the same parameters to different sizes.");
    return 2;
  }
  const mode: SizeMode = opts.fast ? "fast" : opts.course ? "course" : "full";

  const base = userFolder("notebooks");
  const args = resolveNotebookArgs(program.args, base);
  const files = program.args.length ? args.files : defaultNotebooks();
  if (args.errors.length) {
    console.error(args.errors.join("\n"));
    return 2;
  }
  if (files.length === 0) {
    console.error("No notebooks to run: notebooks/ holds no .ipynb files and none were named.");
    return 2;
  }
  const { selected, errors } = readAll(files);
  if (errors.length) {
    console.error(errors.join("\n"));
    return 2;
  }
  let plan: ReturnType<typeof planParameters>;
  try {
    plan = planParameters(selected, mode, opts.parameter);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  for (const note of plan.notes) console.log(`note: ${note}`);

  const outDir = path.resolve(base, opts.out);
  const outFiles = files.map((f) => path.join(outDir, path.basename(f)));
  if (new Set(outFiles).size !== outFiles.length) {
    console.error("Two notebooks share a file name; their executed copies would overwrite each other. Run them separately.");
    return 2;
  }
  let unlock: () => void;
  try {
    unlock = lockOutFolder(outDir);
  } catch (e) {
    if (!(e instanceof OutFolderError)) throw e;
    const why = e.message;
    console.error(why);
    console.log("\n" + formatTable(files.map((f, i) => notRun(f, outFiles[i]!, why)), root));
    return 2;
  }

  process.on("exit", unlock); // also when a second Ctrl-C makes us leave at once
  const controller = new AbortController();
  const signals = stopOnSignals(controller);
  let results: NotebookResult[];
  try {
    results = await pool(
      selected.map(({ file, nb }, i) => async () => {
        console.log(`▶ ${path.relative(root, file) || file}`);
        const r = await runNotebook(file, nb, {
          root,
          outFile: outFiles[i]!,
          parameters: plan.values.get(file) ?? {},
          settings: { fast: opts.fast, course: opts.course, overrides: opts.parameter, kernel: opts.kernel },
          kernel: opts.kernel,
          cellTimeoutMs: opts.cellTimeout * 1000,
          notebookTimeoutMs: opts.timeout * 1000,
          signal: controller.signal,
          log: (line: string) => console.log(line),
        });
        if (!r.passed && r.status !== "interrupted") console.error(formatFailure(r, root));
        if (opts.staticPlots && !controller.signal.aborted) await addStaticPictures(outFiles[i]!);
        return r;
      }),
      opts.jobs,
      (i) => (controller.signal.aborted ? notRun(files[i]!, outFiles[i]!, "not run: the run was stopped") : undefined),
    );
  } finally {
    signals.dispose();
    unlock();
  }
  console.log("\n" + formatTable(results, root));
  const stoppedBy = signals.signal();
  if (stoppedBy) {
    const shown = (f: string) => (f.startsWith(root + path.sep) ? path.relative(root, f) : f);
    const saved = results.filter((r) => r.status === "interrupted" && r.written).map((r) => shown(r.outFile));
    console.error(`Interrupted by ${stoppedBy}: the kernels were shut down${saved.length ? `; saved with status "interrupted": ${saved.join(", ")}` : ""}.`);
    return 128 + (SIGNAL_NUMBERS[stoppedBy] ?? 1);
  }
  return results.every((r) => r.passed) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exitCode = 1;
  },
);
