/**
 * What the course site says about one executed notebook: its title and objectives (from the first markdown
 * cell, where every lesson states them), and how its run went (the runner's `metadata.lessons_runner`).
 */
import { type Notebook, sourceText } from "../runner/nbformat";

export interface RunInfo {
  started?: string;
  seconds?: number;
  status: string;
  /** "fast", "course" (the original course's sizes) or "full" (the notebook's own) sizes. */
  sizes: string;
  parameters: Record<string, unknown>;
}

export interface LessonInfo {
  file: string;
  /** The page's file name: the notebook's, with .html. */
  page: string;
  title: string;
  objectives: string[];
  /** The first paragraph after the title, for lessons that list no objectives. */
  summary: string;
  run: RunInfo;
  /** The backend line the lesson printed (e.g. "wasm (2 threads)"), when it printed one. */
  backend?: string;
}

function firstMarkdown(nb: Notebook): string {
  const cell = nb.cells.find((c) => c.cell_type === "markdown");
  return cell ? sourceText(cell.source) : "";
}

/** The first level-1 heading, without markdown emphasis. */
export function lessonTitle(nb: Notebook, fallback: string): string {
  const m = /^#\s+(.+)$/m.exec(firstMarkdown(nb));
  return m ? m[1]!.replace(/[*_`]/g, "").trim() : fallback;
}

/** The bullet list under an "Objectives" heading or bold label in the first markdown cell. */
export function lessonObjectives(nb: Notebook): string[] {
  const lines = firstMarkdown(nb).split("\n");
  const start = lines.findIndex((l) => /^\s*(#+\s*|\*\*)objectives\b/i.test(l));
  if (start < 0) return [];
  const items: string[] = [];
  for (const line of lines.slice(start + 1)) {
    const item = /^\s*[-*]\s+(.+)$/.exec(line);
    if (item) items.push(item[1]!.trim());
    else if (line.trim() === "" && items.length === 0) continue;
    else if (/^\s{2,}\S/.test(line) && items.length) items[items.length - 1] += " " + line.trim();
    else break;
  }
  return items;
}

/** The first paragraph of the first markdown cell that is not a heading. */
export function lessonSummary(nb: Notebook): string {
  const paragraphs = firstMarkdown(nb).split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p && !p.startsWith("#"));
  return (paragraphs[0] ?? "").replace(/\s*\n\s*/g, " ");
}

export function runInfo(nb: Notebook): RunInfo {
  const meta = (nb.metadata.lessons_runner ?? {}) as Record<string, unknown>;
  const parameters = (meta.parameters && typeof meta.parameters === "object" ? meta.parameters : {}) as Record<string, unknown>;
  return {
    started: typeof meta.started === "string" ? meta.started : undefined,
    seconds: typeof meta.seconds === "number" ? meta.seconds : undefined,
    status: typeof meta.status === "string" ? meta.status : "not run by the course runner",
    sizes: meta.fast === true ? "fast" : meta.course === true ? "course" : "full",
    parameters,
  };
}

/** The backend line of lib/backend's setupBackend ("TensorFlow.js backend: wasm (2 threads) - ..."). */
export function backendLine(nb: Notebook): string | undefined {
  for (const cell of nb.cells) {
    if (cell.cell_type !== "code") continue;
    for (const out of cell.outputs) {
      if (out.output_type !== "stream") continue;
      const m = /TensorFlow\.js backend: ([^\n-]+?)(?:\s+-|\n|$)/.exec(sourceText(out.text));
      if (m) return m[1]!.trim();
    }
  }
  return undefined;
}

export function lessonInfo(file: string, nb: Notebook): LessonInfo {
  const base = file.replace(/^.*[\\/]/, "").replace(/\.ipynb$/, "");
  return { file, page: `${base}.html`, title: lessonTitle(nb, base), objectives: lessonObjectives(nb), summary: lessonSummary(nb), run: runInfo(nb), backend: backendLine(nb) };
}
