/**
 * Live training progress: ONE line per epoch that updates while the epoch runs.
 *
 *   Epoch 3/10 [============>.................] 12/28 - loss: 2.1034 - accuracy: 0.2312
 *   Epoch 3/10 [==============================] 28/28 - loss: 2.0034 - accuracy: 0.2512 - val_loss: 2.1… - 4.2s
 *
 * Modes (picked automatically, or forced with the LESSONS_PROGRESS environment variable):
 * - "tty":   a terminal; drawn with cli-progress.
 * - "live":  a Jupyter kernel (tslab or Deno), where stdout is not a TTY. Each update starts with '\r' so the
 *            notebook front end rewrites the line, updates are throttled (4 per second by default) and the epoch
 *            ends with '\n'. nbconvert's coalesce_streams drops everything before a '\r', so an executed notebook
 *            keeps exactly one line per epoch. (Under Deno, writeCellText shows the line as a display updated in
 *            place.)
 * - "epoch": plain non-TTY output (logs, pipes): nothing during the epoch, one line at its end.
 * - "none":  silent.
 */
import * as cliProgress from "cli-progress";
import { writeCellText } from "./cell-output";
import { notebookKernel } from "./plots/display";
import { PROGRESS_MODES, type ProgressMode, progressSetting } from "./config";

export type { ProgressMode };

/** Metric values shown on the line; any of them may be missing. */
export interface ProgressLogs {
  loss?: number;
  accuracy?: number;
  val_loss?: number;
  val_accuracy?: number;
}

export interface ProgressOptions {
  mode?: ProgressMode;
  /** Where text goes. Default writeCellText (process.stdout outside Deno's kernel). ("tty" mode always draws on process.stdout.) */
  write?: (text: string) => void;
  /** Minimum milliseconds between two live updates. Default 250 (4 per second). */
  minIntervalMs?: number;
  /** Characters in the bar. Default 30. */
  barWidth?: number;
}

/**
 * What a notebook front end shows for stream text containing '\r': text before a '\r' on the same line is
 * overwritten. (Same rule as nbconvert's coalesce_streams; a notebook runner can apply it before saving.)
 */
export function collapseCarriageReturns(text: string): string {
  return text.replace(/[^\n]*\r(?=[^\n])/g, "");
}

/** Resolve "auto" to the mode that suits where stdout goes. */
export function detectProgressMode(): Exclude<ProgressMode, "auto"> {
  const forced = progressSetting();
  if (forced && forced !== "auto") return forced;
  if (process.stdout.isTTY) return "tty";
  // tslab runs as `node .../tslab kernel ...`; its stdout is forwarded to the notebook as a stream output.
  if (process.argv.some((a) => /tslab/.test(a))) return "live";
  // Deno's kernel shows output only through console and display messages; writeCellText draws the line there.
  if (notebookKernel() === "deno") return "live";
  return "epoch";
}

function fmt(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? String(v) : v.toFixed(4);
}

/** " - loss: 2.1034 - accuracy: 0.2312" for the metrics that are present, in a fixed order. */
export function formatMetrics(logs: ProgressLogs): string {
  const keys: (keyof ProgressLogs)[] = ["loss", "accuracy", "val_loss", "val_accuracy"];
  return keys
    .filter((k) => logs[k] !== undefined)
    .map((k) => ` - ${k}: ${fmt(logs[k])}`)
    .join("");
}

/** "[=====>....]" for done out of total steps. */
export function formatBar(done: number, total: number, width: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(frac * width);
  const head = filled < width && filled > 0 ? ">" : "";
  return "[" + "=".repeat(filled - (head ? 1 : 0)) + head + ".".repeat(width - filled) + "]";
}

export class TrainingProgress {
  readonly mode: Exclude<ProgressMode, "auto">;
  private readonly write: (text: string) => void;
  private readonly minIntervalMs: number;
  private readonly barWidth: number;
  private epoch = 0;
  private epochs = 0;
  private steps = 0;
  private lastRender = 0;
  private lastLength = 0;
  private bar: cliProgress.SingleBar | undefined;

  constructor(opts: ProgressOptions = {}) {
    this.mode = !opts.mode || opts.mode === "auto" ? detectProgressMode() : opts.mode;
    if (!PROGRESS_MODES.includes(this.mode)) throw new Error(`Progress mode must be one of ${PROGRESS_MODES.join(", ")}.`);
    this.write = opts.write ?? writeCellText;
    this.minIntervalMs = opts.minIntervalMs ?? 250;
    this.barWidth = opts.barWidth ?? 30;
  }

  private line(done: number, logs: ProgressLogs): string {
    const width = String(this.epochs).length;
    const stepWidth = String(this.steps).length;
    return (
      `Epoch ${String(this.epoch).padStart(width)}/${this.epochs} ${formatBar(done, this.steps, this.barWidth)} ` +
      `${String(done).padStart(stepWidth)}/${this.steps}${formatMetrics(logs)}`
    );
  }

  /** Rewrite the current line (live mode), padding over leftovers of a longer previous line. */
  private rewrite(text: string): void {
    const pad = this.lastLength > text.length ? " ".repeat(this.lastLength - text.length) : "";
    this.write("\r" + text + pad);
    this.lastLength = text.length;
  }

  /** epoch is 1-based. */
  epochBegin(epoch: number, epochs: number, steps: number): void {
    this.epoch = epoch;
    this.epochs = epochs;
    this.steps = steps;
    this.lastRender = 0;
    this.lastLength = 0;
    if (this.mode === "tty") {
      this.bar = new cliProgress.SingleBar({
        format: `Epoch ${epoch}/${epochs} [{bar}] {value}/{total}{metrics}`,
        barCompleteChar: "=",
        barIncompleteChar: ".",
        barsize: this.barWidth,
        hideCursor: true,
        clearOnComplete: false,
        fps: 1000 / this.minIntervalMs,
      });
      this.bar.start(steps, 0, { metrics: "" });
    } else if (this.mode === "live") {
      this.rewrite(this.line(0, {}));
      this.lastRender = Date.now();
    }
  }

  /** After batch `done` (1-based) of the epoch. Returns true when it drew something (the caller may yield). */
  batchEnd(done: number, logs: ProgressLogs): boolean {
    if (this.mode === "tty") {
      this.bar?.update(done, { metrics: formatMetrics(logs) });
      return false;
    }
    if (this.mode !== "live") return false;
    const now = Date.now();
    if (now - this.lastRender < this.minIntervalMs) return false;
    this.lastRender = now;
    this.rewrite(this.line(done, logs));
    return true;
  }

  /** The epoch's final line, with validation metrics and its duration in seconds. */
  epochEnd(logs: ProgressLogs, seconds: number): void {
    const text = this.line(this.steps, logs) + ` - ${seconds.toFixed(1)}s`;
    if (this.mode === "tty" && this.bar) {
      this.bar.update(this.steps, { metrics: formatMetrics(logs) + ` - ${seconds.toFixed(1)}s` });
      this.bar.stop();
      this.bar = undefined;
    } else if (this.mode === "live") {
      this.rewrite(text);
      this.write("\n");
    } else if (this.mode === "epoch") {
      this.write(text + "\n");
    }
  }

  /** Stop drawing (e.g. when training fails mid-epoch) so the terminal cursor comes back. */
  abort(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = undefined;
    } else if (this.mode === "live" && this.lastLength > 0) {
      this.write("\n");
    }
  }
}
