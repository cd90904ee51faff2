/** What the runner prints: failure blocks and the closing summary table. */
import * as path from "path";
import type { NotebookResult } from "./execute-notebook";

const MAX_ERROR_LINES = 40;

function indent(text: string, by = "    "): string {
  return text
    .split("\n")
    .map((l) => by + l)
    .join("\n");
}

export function formatFailure(r: NotebookResult, root: string): string {
  const f = r.failure;
  if (!f) return "";
  let msg = f.message.trim();
  const lines = msg.split("\n");
  if (lines.length > MAX_ERROR_LINES) msg = [...lines.slice(0, MAX_ERROR_LINES), `... (${lines.length - MAX_ERROR_LINES} more lines)`].join("\n");
  const parts = [`FAILED ${path.relative(root, r.notebook) || r.notebook}, cell ${f.cell}`];
  if (f.excerpt) parts.push("  source:", indent(f.excerpt));
  parts.push("  error:", indent(msg));
  if (r.written) parts.push(`  executed copy: ${path.relative(root, r.outFile)}`);
  return parts.join("\n");
}

export function formatTable(results: NotebookResult[], root: string): string {
  const statusText = (r: NotebookResult) => (r.passed ? "passed" : r.status === "interrupted" ? (r.written ? "interrupted" : "not run") : "FAILED");
  const rows = results.map((r) => [path.relative(root, r.notebook) || r.notebook, statusText(r), r.seconds.toFixed(1)]);
  const head = ["notebook", "status", "seconds"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => (c === 2 ? s.padStart(widths[c]!) : s.padEnd(widths[c]!))).join("  ");
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
