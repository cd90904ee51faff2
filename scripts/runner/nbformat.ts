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

export function readNotebook(file: string): Notebook {
  let nb: Notebook;
  try {
    nb = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`Cannot read notebook ${file}: ${(e as Error).message}`);
  }
  if (nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    throw new Error(`${file} is not an nbformat 4 notebook (nbformat=${nb.nbformat}). Re-save it with Jupyter.`);
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
