/** Turning what tslab prints into a failure verdict and an nbformat error output. */
import type { ErrorOutput } from "./nbformat";

/** tslab reports async failures only as stderr text; a cell printing these has failed. */
const ASYNC_FAILURE = /^(UnhandledPromiseRejection|UncaughtException):/m;

export function hasAsyncFailure(stderr: string): boolean {
  return ASYNC_FAILURE.test(stderr);
}

/** A name for the error in tslab's stderr text (tslab sends no ename of its own). */
export function errorName(text: string): string {
  if (/^\d+:\d+ - /m.test(text)) return "TypeScriptError";
  const async = text.match(ASYNC_FAILURE);
  if (async) return async[1]!;
  const thrown = text.match(/^(?:Uncaught )?([A-Za-z_$][\w$.]*(?:Error|Exception))\b/m);
  return thrown ? thrown[1]! : "Error";
}

/** The first line that carries the message, for `evalue` and one-line summaries. */
export function errorSummary(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const informative = lines.find((l) => /^\d+:\d+ - |Error\b|Exception\b|Rejection/.test(l) && !l.startsWith("at "));
  return informative ?? lines[0] ?? "(no error text)";
}

export function errorOutput(ename: string, evalue: string): ErrorOutput {
  return { output_type: "error", ename, evalue, traceback: [`${ename}: ${evalue}`] };
}

/** First lines of a cell's source, to point at the cell in reports. */
export function sourceExcerpt(source: string, maxLines = 4): string {
  const lines = source.replace(/\s+$/, "").split("\n");
  const shown = lines.slice(0, maxLines).map((l) => (l.length > 100 ? l.slice(0, 97) + "..." : l));
  if (lines.length > maxLines) shown.push(`... (${lines.length - maxLines} more lines)`);
  return shown.join("\n");
}
