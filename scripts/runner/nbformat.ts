/** The parts of nbformat 4 the runner reads and writes, plus reading and atomic saving of notebooks. */
import * as fs from "fs";
import * as path from "path";

export type MultilineString = string | string[];

export interface StreamOutput {
  output_type: "stream";
  name: "stdout" | "stderr";
  text: MultilineString;
}
export interface DisplayDataOutput {
  output_type: "display_data";
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
export interface ExecuteResultOutput {
  output_type: "execute_result";
  execution_count: number | null;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}
export interface ErrorOutput {
  output_type: "error";
  ename: string;
  evalue: string;
  traceback: string[];
}
export type Output = StreamOutput | DisplayDataOutput | ExecuteResultOutput | ErrorOutput;

export interface CellMetadata {
  tags?: string[];
  lessons?: { expected_error?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface CodeCell {
  cell_type: "code";
  id?: string;
  metadata: CellMetadata;
  source: MultilineString;
  outputs: Output[];
  execution_count: number | null;
}
export interface OtherCell {
  cell_type: "markdown" | "raw";
  id?: string;
  metadata: CellMetadata;
  source: MultilineString;
  attachments?: Record<string, unknown>;
}
export type Cell = CodeCell | OtherCell;

export interface Notebook {
  cells: Cell[];
  metadata: {
    kernelspec?: Record<string, unknown>;
    language_info?: Record<string, unknown>;
    lessons?: { fast_parameters?: Record<string, unknown>; [key: string]: unknown };
    [key: string]: unknown;
  };
  nbformat: number;
  nbformat_minor: number;
}

export function sourceText(source: MultilineString): string {
  return Array.isArray(source) ? source.join("") : source;
}

/** Splits text the way Jupyter stores it: lines keeping their "\n". */
export function toLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((l) => l !== "");
}

export function hasTag(cell: Cell, tag: string): boolean {
  return Array.isArray(cell.metadata?.tags) && cell.metadata.tags.includes(tag);
}

/** What keeps `value` from being an nbformat 4 notebook the runner can run, or undefined when it is one. */
export function notNotebookReason(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `it is JSON but not a notebook (it holds ${value === null ? "null" : Array.isArray(value) ? "a list" : typeof value})`;
  }
  const nb = value as Record<string, unknown>;
  if (nb.nbformat !== 4) return `it is not an nbformat 4 notebook (nbformat is ${JSON.stringify(nb.nbformat) ?? "missing"})`;
  if (!Array.isArray(nb.cells)) return 'it has no "cells" list';
  const bad = nb.cells.findIndex((c) => !c || typeof c !== "object" || !["code", "markdown", "raw"].includes((c as { cell_type?: string }).cell_type ?? ""));
  if (bad >= 0) return `cell ${bad + 1} has no valid cell_type`;
  return undefined;
}

/** Reads a notebook; the error names the file and the reason when it is not valid JSON or not nbformat 4. */
export function readNotebook(file: string): Notebook {
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`Cannot read notebook ${file}: ${(e as Error).message}`);
  }
  const reason = notNotebookReason(value);
  if (reason) throw new Error(`${file} is not a notebook the runner can run: ${reason}. Open it in Jupyter and save it as a notebook (nbformat 4).`);
  const nb = value as Notebook;
  nb.metadata ??= {};
  for (const cell of nb.cells) {
    cell.metadata ??= {};
    cell.source ??= "";
    if (cell.cell_type === "code") cell.outputs ??= [];
  }
  return nb;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

/** The layout Jupyter writes (sorted keys, 1-space indent, trailing newline), so diffs stay small. */
export function serializeNotebook(nb: Notebook): string {
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

/** Writes to a temp file in the same folder, then renames: readers never see a half-written notebook. */
export function writeNotebookAtomic(file: string, nb: Notebook): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, serializeNotebook(nb));
  fs.renameSync(tmp, file);
}
