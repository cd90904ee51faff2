/**
 * `npm run prepare-class -- [--course] [-p NAME=value ...] [--jobs N] [notebook ...]`
 *
 * Runs lessons at class sizes (or, with --course, the original course's sizes) with LESSONS_PREPARE_RUNS=1, so
 * every training cell that calls trainOrReplay (lib/prepared-runs) stores its run. In class the same cells then
 * replay those runs, with a banner, instead of training. Without notebook names it runs every lesson that has
 * such cells. Other options go to the notebook runner (`npm run notebooks -- --help`). Runs are stored in
 * build/prepared-runs, or LESSONS_PREPARED_RUNS=<folder>.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { projectRoot } from "../lib/paths";
import { preparedRunsDir } from "../lib/prepared-runs";

/** The runner's arguments for prepare-class's command line; throws on --fast (see below). */
export function prepareClassArgs(argv: string[], root = projectRoot()): string[] {
  if (argv.includes("--fast")) {
    throw new Error(
      "prepare-class prepares class-size (default) or --course runs; a --fast run would be replayed by the test suite's " +
        "fast runs instead of training. Leave out --fast.",
    );
  }
  // Option values (like the 5 in "--jobs 5") are not notebooks; anything ending in .ipynb, or a folder, is.
  const named = argv.filter((a) => a.endsWith(".ipynb") || (fs.existsSync(a) && fs.statSync(a).isDirectory()));
  if (named.length > 0) return argv;
  const dir = path.join(root, "notebooks");
  const withRuns = fs.readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && fs.readFileSync(path.join(dir, f), "utf8").includes("trainOrReplay("))
    .sort()
    .map((f) => path.join("notebooks", f));
  if (withRuns.length === 0) throw new Error(`No notebook in ${dir} calls trainOrReplay: nothing to prepare.`);
  return [...argv, ...withRuns];
}

function listRuns(dir: string): void {
  if (!fs.existsSync(dir)) return;
  console.log(`\nPrepared runs in ${dir}:`);
  for (const f of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, f, "run.json");
    if (!fs.existsSync(file)) continue;
    const run = JSON.parse(fs.readFileSync(file, "utf8"));
    console.log(`  ${f}: ${run.history.epochs.length} epochs, ${Math.round(run.seconds)} s, ${run.createdAt}`);
  }
}

function main(): void {
  const root = projectRoot();
  let args: string[];
  try {
    args = prepareClassArgs(process.argv.slice(2), root);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  console.log(`Preparing runs: npm run notebooks -- ${args.join(" ")}  (LESSONS_PREPARE_RUNS=1)`);
  const tsx = path.join(root, "node_modules", ".bin", "tsx");
  const result = spawnSync(tsx, [path.join(root, "scripts", "run-notebooks.ts"), ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, LESSONS_PREPARE_RUNS: "1" },
  });
  listRuns(preparedRunsDir());
  process.exit(result.status ?? 1);
}

if (require.main === module) main();
