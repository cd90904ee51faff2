/** Notebook hygiene: committed lessons carry no outputs and the standard project-kernel metadata. */
import { isDeepStrictEqual } from "util";
import { STANDARD_KERNELSPEC, STANDARD_LANGUAGE_INFO } from "../kernel/kernelspec";
import type { Notebook } from "./nbformat";

/** Copy of `nb` without outputs or execution counts, with the standard kernel metadata; tags and other metadata stay. */
export function cleanNotebook(nb: Notebook): Notebook {
  const copy: Notebook = JSON.parse(JSON.stringify(nb));
  for (const cell of copy.cells) {
    if (cell.cell_type === "code") {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  copy.metadata.kernelspec = { ...STANDARD_KERNELSPEC };
  copy.metadata.language_info = JSON.parse(JSON.stringify(STANDARD_LANGUAGE_INFO));
  delete copy.metadata.lessons_runner;
  return copy;
}

/** What is wrong with a notebook as committed (empty when clean). */
export function hygieneProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    if (cell.outputs?.length) problems.push(`cell ${i + 1} has outputs`);
    if (cell.execution_count !== null) problems.push(`cell ${i + 1} has an execution count`);
  });
  if (!isDeepStrictEqual(nb.metadata.kernelspec, STANDARD_KERNELSPEC)) {
    problems.push(`metadata.kernelspec is ${JSON.stringify(nb.metadata.kernelspec)}, not ${JSON.stringify(STANDARD_KERNELSPEC)}`);
  }
  if (nb.metadata.language_info?.name !== "typescript") problems.push('metadata.language_info.name is not "typescript"');
  if (nb.metadata.lessons_runner !== undefined) problems.push("metadata.lessons_runner (left by the runner) is present");
  return problems;
}
