/**
 * `npm run clean-notebooks [-- files or folders...]`: strips outputs and execution counts from notebooks/*.ipynb (or
 * the given notebooks, relative to where the command was typed) and sets the standard kernel metadata, so that
 * commits hold lessons, not results.
 */
import * as fs from "fs";
import * as path from "path";
import { notebooksIn, resolveNotebookArgs, userFolder } from "./runner/arguments";
import { cleanNotebook, hygieneProblems } from "./runner/hygiene";
import { readNotebook, serializeNotebook, writeNotebookAtomic } from "./runner/nbformat";

function main(): number {
  const root = path.resolve(__dirname, "..");
  const dir = path.join(root, "notebooks");
  const args = process.argv.slice(2);
  const named = resolveNotebookArgs(args, userFolder("clean-notebooks"));
  if (named.errors.length) {
    console.error(named.errors.join("\n"));
    return 2;
  }
  const files = args.length ? named.files : fs.existsSync(dir) ? notebooksIn(dir) : [];
  let changed = 0;
  let failed = 0;
  for (const file of files) {
    try {
      const nb = readNotebook(file);
      const before = fs.readFileSync(file, "utf8");
      const cleaned = cleanNotebook(nb);
      if (serializeNotebook(cleaned) === before) continue;
      const problems = hygieneProblems(nb);
      writeNotebookAtomic(file, cleaned);
      changed++;
      console.log(`cleaned ${path.relative(root, file)}${problems.length ? `: ${problems.join("; ")}` : " (formatting)"}`);
    } catch (e) {
      failed++;
      console.error((e as Error).message);
    }
  }
  console.log(`${files.length} notebook(s) checked, ${changed} cleaned${failed ? `, ${failed} could not be read` : ""}.`);
  return failed ? 1 : 0;
}

process.exitCode = main();
