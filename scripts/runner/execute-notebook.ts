/** Executes one notebook, cell by cell, in a fresh kernel; saves the executed copy after every cell. */
import * as path from "path";
import { errorName, errorOutput, errorSummary, hasAsyncFailure, sourceExcerpt } from "./failures";
import { type CellRun, Kernel } from "./kernel-client";
import { type CodeCell, hasTag, type Notebook, readNotebook, sourceText, toLines, writeNotebookAtomic } from "./nbformat";
import { chooseParameters, injectParameters, type ParameterValue } from "./parameters";
import { collapseCarriageReturns } from "../../lib/progress";

export interface RunOptions {
  /** Project root (holds node_modules/tslab). */
  root: string;
  /** Where the executed copy is written. */
  outFile: string;
  cellTimeoutMs: number;
  /** Limit for running all cells (kernel start-up not included). */
  notebookTimeoutMs: number;
  fast: boolean;
  parameters: Record<string, ParameterValue>;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface CellFailure {
  /** 1-based position in the source notebook ("injected parameters" for the runner's own cell). */
  cell: string;
  excerpt: string;
  message: string;
}

export interface NotebookResult {
  notebook: string;
  outFile: string;
  passed: boolean;
  seconds: number;
  failure?: CellFailure;
}

/** Waiting this long after a failed request keeps tslab from aborting the next one (it aborts for 200 ms). */
const AFTER_ERROR_PAUSE_MS = 300;
/** Time for a late "UnhandledPromiseRejection" from a timer of the last cell to arrive. */
const SETTLE_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clearOutputs(nb: Notebook): Notebook {
  const copy: Notebook = JSON.parse(JSON.stringify(nb));
  for (const c of copy.cells) {
    if (c.cell_type === "code") {
      c.outputs = [];
      c.execution_count = null;
    }
  }
  return copy;
}

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

function judge(cell: CodeCell, run: CellRun, kernel: Kernel, timeoutS: number): Verdict {
  const expected = cell.metadata.lessons?.expected_error;
  const raises = hasTag(cell, "raises-exception");
  if (run.status === "dead") return { ok: false, ename: "KernelDied", message: kernel.deathReport() };
  if (run.status === "timeout") {
    const text = `The cell did not finish within ${timeoutS} s and was interrupted.` + (run.stderr ? `\n${run.stderr.trim()}` : "");
    return { ok: false, ename: "CellTimeout", message: text };
  }
  const failed = run.status === "error" || hasAsyncFailure(run.stderr);
  const text = run.stderr.trim() || (run.status === "error" ? "The kernel refused the cell (aborted)." : "");
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

export async function runNotebook(file: string, options: RunOptions): Promise<NotebookResult> {
  const started = Date.now();
  const name = path.basename(file);
  const log = options.log ?? (() => undefined);
  const result = (failure?: CellFailure): NotebookResult => ({
    notebook: file,
    outFile: options.outFile,
    passed: !failure,
    seconds: (Date.now() - started) / 1000,
    failure,
  });

  let nb: Notebook;
  let sourceCellNumber: (i: number) => string;
  try {
    const source = readNotebook(file);
    nb = clearOutputs(injectParameters(source, chooseParameters(source, options.fast, options.parameters)));
    const injectedAt = nb.cells.length > source.cells.length ? nb.cells.findIndex((c) => hasTag(c, "injected-parameters")) : -1;
    sourceCellNumber = (i) =>
      injectedAt < 0 || i < injectedAt ? `${i + 1}` : i === injectedAt ? "injected parameters" : `${i}`;
  } catch (e) {
    return result({ cell: "-", excerpt: "", message: (e as Error).message });
  }
  const runInfo = { started: new Date(started).toISOString(), fast: options.fast, parameters: options.parameters };
  const save = (status: string) => {
    nb.metadata.lessons_runner = { ...runInfo, status, seconds: Math.round((Date.now() - started) / 100) / 10 };
    writeNotebookAtomic(options.outFile, nb);
  };
  save("running");

  let kernel: Kernel;
  try {
    kernel = await Kernel.start({
      root: options.root,
      cwd: path.dirname(path.resolve(file)),
      startupTimeoutMs: 120_000,
    });
  } catch (e) {
    save("failed");
    return result({ cell: "kernel start", excerpt: "", message: (e as Error).message });
  }

  // Like papermill's execution timeout, the limit covers running the cells, not starting the kernel.
  const deadline = Date.now() + options.notebookTimeoutMs;
  const msgIdToCell = new Map<string, number>();
  let failure: CellFailure | undefined;
  const fail = (i: number, message: string, ename: string) => {
    const cell = nb.cells[i] as CodeCell;
    cell.outputs.push(errorOutput(ename, errorSummary(message)));
    failure = { cell: sourceCellNumber(i), excerpt: sourceExcerpt(sourceText(cell.source)), message };
  };
  /** Late stderr of finished cells, e.g. a promise rejected after the cell returned. */
  const checkLateOutput = () => {
    for (const [msgId, text] of kernel.lateStderr) {
      kernel.lateStderr.delete(msgId);
      const i = msgIdToCell.get(msgId);
      if (i === undefined) continue;
      (nb.cells[i] as CodeCell).outputs.push({ output_type: "stream", name: "stderr", text: toLines(text) });
      if (!failure && hasAsyncFailure(text) && !hasTag(nb.cells[i]!, "raises-exception")) {
        fail(i, text.trim(), errorName(text));
      }
    }
  };

  try {
    const codeCells = nb.cells.map((c, i) => [c, i] as const).filter(([c]) => c.cell_type === "code");
    for (const [n, [cellAny, i]] of codeCells.entries()) {
      const cell = cellAny as CodeCell;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        fail(i, `The notebook did not finish within ${options.notebookTimeoutMs / 1000} s (--timeout).`, "NotebookTimeout");
        break;
      }
      const limitMs = Math.min(options.cellTimeoutMs, remaining);
      const t0 = Date.now();
      const run = await kernel.execute(sourceText(cell.source), limitMs);
      msgIdToCell.set(run.msgId, i);
      cell.execution_count = run.executionCount;
      cell.outputs = finishOutputs(run);
      const verdict = judge(cell, run, kernel, Math.round(limitMs / 1000));
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      if (!verdict.ok) {
        const viaNotebookTimeout = run.status === "timeout" && limitMs < options.cellTimeoutMs;
        fail(i, viaNotebookTimeout ? `${verdict.message}\n(the whole-notebook limit --timeout was reached)` : verdict.message!, verdict.ename!);
      }
      if (!failure && run.status === "ok") await kernel.sync();
      checkLateOutput();
      save(failure ? "failed" : "running");
      log(`[${name}] cell ${sourceCellNumber(i)} (${n + 1}/${codeCells.length} code) ${failure ? "FAILED" : "ok"} ${secs}s`);
      if (failure) break;
      if (run.status === "error") await sleep(AFTER_ERROR_PAUSE_MS);
    }
    if (!failure && !kernel.dead) {
      await sleep(SETTLE_MS);
      checkLateOutput();
    }
    save(failure ? "failed" : "passed");
  } finally {
    await kernel.shutdown();
  }
  return result(failure);
}
