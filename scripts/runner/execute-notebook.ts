/**
 * Executes one notebook, cell by cell, in a fresh kernel, shaped like nbclient: a NotebookClient owns the kernel
 * and runs one cell at a time (`executeCell`); `runNotebook` drives it over the whole notebook and saves the
 * executed copy after every cell.
 */
import * as path from "path";
import { errorName, errorOutput, errorSummary, hasAsyncFailure, sourceExcerpt } from "./failures";
import { cleanNotebook } from "./hygiene";
import { type CellRun, Kernel, KernelStartAborted } from "./kernel-client";
import { type CodeCell, hasTag, type Notebook, sourceText, toLines, writeNotebookAtomic } from "./nbformat";
import { injectParameters, type ParameterValue } from "./parameters";
import { collapseCarriageReturns } from "../../lib/progress";
import { kernelCommand, type KernelKind } from "./kernels";

export interface RunOptions {
  /** Project root (holds node_modules/tslab). */
  root: string;
  /** Where the executed copy is written. */
  outFile: string;
  cellTimeoutMs: number;
  /** Limit for running all cells (kernel start-up not included). */
  notebookTimeoutMs: number;
  /** The values injected after the parameters cell (already chosen and checked, see planParameters). */
  parameters: Record<string, ParameterValue>;
  /** What the run was asked for (recorded in the executed copy's metadata.lessons_runner). */
  settings?: Record<string, unknown>;
  /** Fires when the run must stop (a signal): the cell is interrupted and the copy saved as "interrupted". */
  signal?: AbortSignal;
  /** Progress lines. */
  log?: (line: string) => void;
  /** The kernel to run the notebook on (default tslab). */
  kernel?: KernelKind;
}

export interface CellFailure {
  /** 1-based position in the source notebook ("injected parameters" for the runner's own cell). */
  cell: string;
  excerpt: string;
  message: string;
}

export type NotebookStatus = "passed" | "failed" | "interrupted";

export interface NotebookResult {
  notebook: string;
  outFile: string;
  /** Whether an executed copy was written to outFile. */
  written: boolean;
  status: NotebookStatus;
  passed: boolean;
  seconds: number;
  failure?: CellFailure;
}

/** Waiting this long after a failed request keeps tslab from aborting the next one (it aborts for 200 ms). */
const AFTER_ERROR_PAUSE_MS = 300;
/** Time for a late "UnhandledPromiseRejection" from a timer of the last cell to arrive. */
const SETTLE_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stream text in Jupyter's list-of-lines form. A line rewritten with "\r" (the live training progress) keeps only
 * its final state, as a notebook front end shows it, so the saved copy reads as one line per epoch.
 */
function finishOutputs(run: CellRun): CodeCell["outputs"] {
  return run.outputs.map((o) =>
    o.output_type === "stream" ? { ...o, text: toLines(collapseCarriageReturns(String(o.text))) } : o,
  );
}

interface Verdict {
  ok: boolean;
  message?: string;
  ename?: string;
}

/** The text of the cell's error outputs: Deno reports a failed cell there (tslab only on stderr). */
function errorOutputsText(run: CellRun): string {
  return run.outputs
    .flatMap((o) => (o.output_type === "error" ? (o.traceback.length ? o.traceback : [`${o.ename}: ${o.evalue}`]) : []))
    .map((line) => String(line).replace(/\u001b\[[0-9;]*m/g, ""))
    .join("\n")
    .trim();
}

function judge(cell: CodeCell, run: CellRun, kernel: Kernel, timeoutS: number): Verdict {
  const expected = cell.metadata.lessons?.expected_error;
  const raises = hasTag(cell, "raises-exception");
  if (run.status === "interrupted") return { ok: false, ename: "Interrupted", message: "The run was stopped while this cell ran." };
  if (run.status === "dead") return { ok: false, ename: "KernelDied", message: kernel.deathReport() };
  if (run.status === "timeout") {
    const text = `The cell did not finish within ${timeoutS} s and was interrupted.` + (run.stderr ? `\n${run.stderr.trim()}` : "");
    return { ok: false, ename: "CellTimeout", message: text };
  }
  const failed = run.status === "error" || hasAsyncFailure(run.stderr);
  const text = [run.stderr.trim(), errorOutputsText(run)].filter(Boolean).join("\n") || (run.status === "error" ? "The kernel refused the cell (aborted)." : "");
  if (raises) {
    if (typeof expected !== "string" || expected === "") {
      return {
        ok: false,
        ename: "NotebookMetadataError",
        message: 'A cell tagged "raises-exception" needs metadata lessons.expected_error (text of the expected error).',
      };
    }
    if (!failed) return { ok: false, ename: "MissingExpectedError", message: `Expected the error "${expected}", but the cell succeeded.` };
    if (!text.includes(expected)) {
      return { ok: false, ename: errorName(text), message: `Expected the error "${expected}", but got:\n${text}` };
    }
    return { ok: true };
  }
  return failed ? { ok: false, ename: errorName(text), message: text } : { ok: true };
}

/** The source notebook as it will run: outputs cleared, parameters injected after the parameters cell. */
export function prepareNotebook(source: Notebook, parameters: Record<string, ParameterValue>): { nb: Notebook; cellLabel: (i: number) => string } {
  const nb = injectParameters(cleanNotebook(source), parameters);
  const injectedAt = nb.cells.length > source.cells.length ? nb.cells.findIndex((c) => hasTag(c, "injected-parameters")) : -1;
  const cellLabel = (i: number) => (injectedAt < 0 || i < injectedAt ? `${i + 1}` : i === injectedAt ? "injected parameters" : `${i}`);
  return { nb, cellLabel };
}

export interface CellResult {
  /** The cell ran and passed (or failed as its raises-exception tag expects). */
  ok: boolean;
  status: CellRun["status"];
  seconds: number;
}

export interface ClientOptions {
  root: string;
  /** The kernel's working directory (the notebook's folder, as under Jupyter). */
  cwd: string;
  signal?: AbortSignal;
  /** How cells are named in failure reports. */
  cellLabel?: (i: number) => string;
  /** The kernel to start (default tslab). */
  kernel?: KernelKind;
}

/** One notebook and its kernel; runs one cell at a time and records outputs and the first failure in `nb`. */
export class NotebookClient {
  private kernel?: Kernel;
  private readonly msgIdToCell = new Map<string, number>();
  failure?: CellFailure;

  constructor(
    readonly nb: Notebook,
    private readonly options: ClientOptions,
  ) {}

  async startKernel(): Promise<void> {
    const command = kernelCommand(this.options.kernel ?? "tslab", this.options.root);
    this.kernel = await Kernel.start({ root: this.options.root, cwd: this.options.cwd, startupTimeoutMs: 120_000, signal: this.options.signal, ...command });
  }

  get kernelDead(): boolean {
    return this.kernel?.dead ?? true;
  }

  /** Marks cell `i` failed: an error output in the cell and the failure for the report. */
  fail(i: number, message: string, ename: string): void {
    const cell = this.nb.cells[i] as CodeCell;
    cell.outputs.push(errorOutput(ename, errorSummary(message)));
    this.failure ??= { cell: (this.options.cellLabel ?? String)(i), excerpt: sourceExcerpt(sourceText(cell.source)), message };
  }

  /** Runs code cell `i` within `limitMs` (`cellLimitMs` is the per-cell limit, to tell which limit was hit). */
  async executeCell(i: number, limitMs: number, cellLimitMs = limitMs): Promise<CellResult> {
    const kernel = this.kernel;
    if (!kernel) throw new Error("executeCell before startKernel");
    const cell = this.nb.cells[i];
    if (cell?.cell_type !== "code") throw new Error(`cell ${i + 1} is not a code cell`);
    const t0 = Date.now();
    const run = await kernel.execute(sourceText(cell.source), limitMs, { signal: this.options.signal });
    this.msgIdToCell.set(run.msgId, i);
    cell.execution_count = run.executionCount;
    cell.outputs = finishOutputs(run);
    // The runner's own cell shows no value: Deno's kernel would show the last assigned parameter (tslab shows none).
    // A value with an empty bundle (Deno: a shown chart, a model) shows nothing in a notebook either: not kept.
    const injected = hasTag(cell, "injected-parameters");
    cell.outputs = cell.outputs.filter((o) => o.output_type !== "execute_result" || (!injected && Object.keys(o.data).length > 0));
    const verdict = judge(cell, run, kernel, Math.round(limitMs / 1000));
    if (!verdict.ok) {
      const viaNotebookTimeout = run.status === "timeout" && limitMs < cellLimitMs;
      this.fail(i, viaNotebookTimeout ? `${verdict.message}\n(the whole-notebook limit --timeout was reached)` : verdict.message!, verdict.ename!);
    }
    this.checkLateOutput();
    if (run.status === "error") await sleep(AFTER_ERROR_PAUSE_MS);
    return { ok: verdict.ok, status: run.status, seconds: (Date.now() - t0) / 1000 };
  }

  /** Late stderr of finished cells, e.g. a promise rejected after the cell returned. */
  checkLateOutput(): void {
    const kernel = this.kernel;
    if (!kernel) return;
    for (const [msgId, text] of kernel.lateStderr) {
      kernel.lateStderr.delete(msgId);
      const i = this.msgIdToCell.get(msgId);
      if (i === undefined) continue;
      (this.nb.cells[i] as CodeCell).outputs.push({ output_type: "stream", name: "stderr", text: toLines(text) });
      if (!this.failure && hasAsyncFailure(text) && !hasTag(this.nb.cells[i]!, "raises-exception")) {
        this.fail(i, text.trim(), errorName(text));
      }
    }
  }

  /** Gives a timer of the last cell the chance to report a late failure. */
  async settle(): Promise<void> {
    if (this.kernelDead) return;
    await sleep(SETTLE_MS);
    this.checkLateOutput();
  }

  /** shutdown_request, then SIGKILL if the kernel has not left. */
  async shutdownKernel(): Promise<void> {
    await this.kernel?.shutdown();
  }
}

export async function runNotebook(file: string, source: Notebook, options: RunOptions): Promise<NotebookResult> {
  const started = Date.now();
  const name = path.basename(file);
  const log = options.log ?? (() => undefined);
  let written = false;
  let status: NotebookStatus = "failed";
  const result = (failure?: CellFailure): NotebookResult => ({
    notebook: file,
    outFile: options.outFile,
    written,
    status: failure ? status : "passed",
    passed: !failure,
    seconds: (Date.now() - started) / 1000,
    failure,
  });

  let prepared: ReturnType<typeof prepareNotebook>;
  try {
    prepared = prepareNotebook(source, options.parameters);
  } catch (e) {
    return result({ cell: "-", excerpt: "", message: (e as Error).message });
  }
  const { nb, cellLabel } = prepared;
  const runInfo = { started: new Date(started).toISOString(), ...options.settings, parameters: options.parameters };
  let saveError: string | undefined;
  const save = (s: string) => {
    nb.metadata.lessons_runner = { ...runInfo, status: s, seconds: Math.round((Date.now() - started) / 100) / 10 };
    try {
      writeNotebookAtomic(options.outFile, nb);
      written = true;
    } catch (e) {
      saveError ??= `Cannot write the executed copy ${options.outFile}: ${(e as Error).message}`;
    }
  };
  save("running");
  if (saveError) return result({ cell: "-", excerpt: "", message: saveError });

  const client = new NotebookClient(nb, {
    root: options.root,
    cwd: path.dirname(path.resolve(file)),
    signal: options.signal,
    cellLabel,
    kernel: options.kernel,
  });
  const stopped = () => options.signal?.aborted === true;
  try {
    await client.startKernel();
  } catch (e) {
    status = e instanceof KernelStartAborted ? "interrupted" : "failed";
    save(status);
    return result({ cell: "kernel start", excerpt: "", message: (e as Error).message });
  }

  // Like papermill's execution timeout, the limit covers running the cells, not starting the kernel.
  const deadline = Date.now() + options.notebookTimeoutMs;
  try {
    const codeCells = nb.cells.map((c, i) => [c, i] as const).filter(([c]) => c.cell_type === "code");
    for (const [n, [, i]] of codeCells.entries()) {
      if (stopped()) {
        status = "interrupted";
        client.fail(i, "The run was stopped before this cell.", "Interrupted");
        break;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        client.fail(i, `The notebook did not finish within ${options.notebookTimeoutMs / 1000} s (--timeout).`, "NotebookTimeout");
        break;
      }
      const r = await client.executeCell(i, Math.min(options.cellTimeoutMs, remaining), options.cellTimeoutMs);
      if (r.status === "interrupted") status = "interrupted";
      save(client.failure ? status : "running");
      log(`[${name}] cell ${cellLabel(i)} (${n + 1}/${codeCells.length} code) ${client.failure ? (status === "interrupted" ? "INTERRUPTED" : "FAILED") : "ok"} ${r.seconds.toFixed(1)}s`);
      if (client.failure) break;
    }
    if (!client.failure) await client.settle();
  } finally {
    await client.shutdownKernel();
  }
  save(client.failure ? status : "passed");
  return result(client.failure ?? (saveError ? { cell: "-", excerpt: "", message: saveError } : undefined));
}
