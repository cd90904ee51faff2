/**
 * `npm run clean-notebooks [-- files...]`: strips outputs and execution counts from notebooks/*.ipynb (or the
 * given files) and sets the standard kernel metadata, so that commits hold lessons, not results.
 */
import * as fs from "fs";
import * as path from "path";
import { cleanNotebook, hygieneProblems } from "./runner/hygiene";
import { readNotebook, serializeNotebook, writeNotebookAtomic } from "./runner/nbformat";

const root = path.resolve(__dirname, "..");
const dir = path.join(root, "notebooks");
const args = process.argv.slice(2);
const files = args.length
  ? args.map((f) => path.resolve(f))
  : fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort().map((f) => path.join(dir, f))
    : [];

let changed = 0;
for (const file of files) {
  const nb = readNotebook(file);
  const before = fs.readFileSync(file, "utf8");
  const cleaned = cleanNotebook(nb);
  if (serializeNotebook(cleaned) === before) continue;
  const problems = hygieneProblems(nb);
  writeNotebookAtomic(file, cleaned);
  changed++;
  console.log(`cleaned ${path.relative(root, file)}${problems.length ? `: ${problems.join("; ")}` : " (formatting)"}`);
}
console.log(`${files.length} notebook(s) checked, ${changed} cleaned.`);
