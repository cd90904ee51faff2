/**
 * `npm run notebooks -- [--fast] [--out DIR] [--timeout S] [--cell-timeout S] [-p NAME=value ...] [--jobs N] [notebook ...]`
 *
 * Runs lesson notebooks headless, each in a fresh tslab kernel spoken to over ZeroMQ (no Python needed), writes
 * executed copies to build/notebooks/, prints each failure and a summary table; exits 1 if any notebook failed.
 */
import * as fs from "fs";
import * as path from "path";
import { Command, InvalidArgumentError } from "commander";
import { type NotebookResult, runNotebook } from "./runner/execute-notebook";
import { type ParameterValue, parseParameterArg } from "./runner/parameters";
import { formatFailure, formatTable } from "./runner/report";
import { addStaticFallbacks, staticRenderingAvailable } from "./render-static-plots";

const root = path.resolve(__dirname, "..");

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a positive number of seconds.");
  return n;
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
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb"))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Runs `tasks` with at most `jobs` at a time, keeping their order in the result. */
async function pool<T>(tasks: (() => Promise<T>)[], jobs: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
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

async function main(): Promise<number> {
  const program = new Command()
    .name("npm run notebooks --")
    .description("Execute lesson notebooks headless in fresh TypeScript (tslab) kernels.")
    .argument("[notebooks...]", "notebook files (default: every notebooks/*.ipynb)")
    .option("--fast", "use each notebook's metadata lessons.fast_parameters (smaller sizes, same code)", false)
    .option("--out <dir>", "folder for the executed copies", path.join(root, "build", "notebooks"))
    .option("--timeout <seconds>", "limit for running all cells of one notebook", positiveNumber, 4 * 3600)
    .option("--cell-timeout <seconds>", "limit for one cell", positiveNumber, 600)
    .option("-p, --parameter <name=value>", "override a parameter (repeatable; wins over --fast)", collectParameter, {})
    .option("--jobs <n>", "notebooks to run at the same time", positiveInt, 1)
    .option("--no-static-plots", "skip embedding a static picture of each chart in the executed copies (needs chromium)")
    .showHelpAfterError();
  program.parse();
  const opts = program.opts<{
    fast: boolean;
    out: string;
    timeout: number;
    cellTimeout: number;
    parameter: Record<string, ParameterValue>;
    jobs: number;
    staticPlots: boolean;
  }>();

  const files = program.args.length ? program.args.map((f) => path.resolve(f)) : defaultNotebooks();
  if (files.length === 0) {
    console.error("No notebooks to run: notebooks/ holds no .ipynb files and none were named.");
    return 2;
  }
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length) {
    console.error(`Notebook not found: ${missing.join(", ")}`);
    return 2;
  }
  const outDir = path.resolve(opts.out);
  const outFiles = files.map((f) => path.join(outDir, path.basename(f)));
  if (new Set(outFiles).size !== outFiles.length) {
    console.error("Two notebooks share a file name; their executed copies would overwrite each other. Run them separately.");
    return 2;
  }

  const results: NotebookResult[] = await pool(
    files.map((file, i) => async () => {
      console.log(`▶ ${path.relative(root, file) || file}`);
      const r = await runNotebook(file, {
        root,
        outFile: outFiles[i]!,
        fast: opts.fast,
        parameters: opts.parameter,
        cellTimeoutMs: opts.cellTimeout * 1000,
        notebookTimeoutMs: opts.timeout * 1000,
        log: (line) => console.log(line),
      });
      if (!r.passed) console.error(formatFailure(r, root));
      if (opts.staticPlots) await addStaticPictures(outFiles[i]!);
      return r;
    }),
    opts.jobs,
  );
  console.log("\n" + formatTable(results, root));
  return results.every((r) => r.passed) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e instanceof Error ? e.stack ?? e.message : e);
    process.exitCode = 1;
  },
);
