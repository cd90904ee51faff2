/**
 * Two checkouts of the course on one machine share one kernel registration (`cnn-lessons-ts`) but never each
 * other's code: a notebook in either checkout runs that checkout's tslab and lib, a notebook outside both runs the
 * checkout that registered the kernel, and `npm start` says which checkout its lessons run.
 *
 * The checkouts are real folders made from this working tree (the files git would commit, so uncommitted changes
 * are what is tested), each with its own path, package.json and lib; their node_modules link to this checkout's,
 * which is what `npm ci` would install there. The kernel is registered by `npm run kernel:install` in the first
 * checkout and `npm start` runs in the second, with a stand-in `jupyter` command (it only answers where kernels
 * live and records how Lab was started); the kernels are started from the registered kernel.json as Jupyter
 * starts them: its argv with the connection file filled in, in the notebook's folder.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KERNEL_NAME, type KernelJson } from "../../scripts/kernel/kernelspec";
import { Kernel } from "../../scripts/runner/kernel-client";

const root = path.resolve(__dirname, "..", "..");
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "two-checkouts-")));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const listed = spawnSync("git", ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], { encoding: "utf8" });
const skip = listed.status === 0 ? false : `needs a git checkout to copy (git ls-files: ${(listed.stderr || listed.error?.message || "").trim()})`;

/** A checkout of the course at `dest`: the working tree's committable files, and node_modules linked to ours. */
function makeCheckout(dest: string): string {
  for (const rel of listed.stdout.split("\0").filter(Boolean)) {
    const from = path.join(root, rel);
    const to = path.join(dest, rel);
    const stat = fs.lstatSync(from, { throwIfNoEntry: false });
    if (!stat) continue; // deleted in the working tree, not yet committed
    fs.mkdirSync(path.dirname(to), { recursive: true });
    if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), to);
    else fs.copyFileSync(from, to);
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dest, "node_modules"));
  return dest;
}

/** PATH with a stand-in `jupyter` first: kernels live under `data`; `kernelspec` is missing (as on Debian). */
function standInJupyter(data: string): NodeJS.ProcessEnv {
  const bin = path.join(tmp, "bin");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, "jupyter"), [
    "#!/bin/sh",
    'if [ "$1" = lab ] && [ "$2" != --version ]; then echo "stand-in Lab started in $(pwd -P) with: $*"; exit 0; fi',
    'if [ "$1" = --version ] || [ "$2" = --version ]; then echo 4.12.0; exit 0; fi',
    `if [ "$1" = --data-dir ]; then echo "${data}"; exit 0; fi`,
    `if [ "$1" = --paths ]; then echo '{"data": ["${data}"]}'; exit 0; fi`,
    'echo "stand-in jupyter: no $1 here" >&2; exit 1',
    "",
  ].join("\n"), { mode: 0o755 });
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}` };
  for (const name of Object.keys(env)) if (/^JUPYTER_|^LESSONS_JUPYTER_VENV$|^npm_/.test(name)) delete env[name];
  return env;
}

/** `npm run <script>` in `cwd`; fails the test with its output unless it exits 0. */
function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync("npm", ["--silent", ...args], { cwd, env, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `npm ${args.join(" ")} in ${cwd} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The cell each notebook runs: which tslab the kernel process started, and which checkout the lib it imports is in. */
const WHERE_CELL = `import { projectRoot } from "./lib/paths";
console.log(JSON.stringify({ tslab: process.argv[1], lib: projectRoot() }));
`;

/** Starts the registered kernel as Jupyter would for a notebook in `folder`, and runs WHERE_CELL there. */
async function runFrom(spec: KernelJson, folder: string): Promise<{ tslab: string; lib: string }> {
  const kernel = await Kernel.start({ root, cwd: folder, argv: (file) => spec.argv.map((a) => a.replace("{connection_file}", file)) });
  try {
    const run = await kernel.execute(WHERE_CELL, 120_000);
    assert.equal(run.status, "ok", `the cell failed in ${folder}: ${run.stderr}`);
    const out = run.outputs.map((o) => ("text" in o ? String(o.text) : "")).join("");
    return JSON.parse(out);
  } finally {
    await kernel.shutdown();
  }
}

const tslabOf = (checkout: string) => path.join(checkout, "node_modules", "tslab", "bin", "tslab");

test("two checkouts share one registration: each notebook runs its own checkout, one outside both the registering one; npm start says which", { skip }, async () => {
  const first = makeCheckout(path.join(tmp, "first"));
  const second = makeCheckout(path.join(tmp, "second"));
  // A learner's folder outside both checkouts, linked to the first like the Hub's learner folders (README).
  const learner = path.join(tmp, "home", "cnn-lessons");
  fs.mkdirSync(learner, { recursive: true });
  for (const link of ["lib", "node_modules"]) fs.symlinkSync(path.join(first, link), path.join(learner, link));
  const data = path.join(tmp, "jupyter-data");
  const env = standInJupyter(data);

  const installed = npm(first, ["run", "kernel:install", "--", "--user"], env);
  const specFile = path.join(data, "kernels", KERNEL_NAME, "kernel.json");
  assert.ok(installed.includes(specFile), installed);
  const spec = JSON.parse(fs.readFileSync(specFile, "utf8")) as KernelJson;

  const [inFirst, inSecond, outside] = await Promise.all(
    [path.join(first, "notebooks"), path.join(second, "notebooks"), learner].map((folder) => runFrom(spec, folder)),
  );
  assert.deepEqual(inFirst, { tslab: tslabOf(first), lib: first });
  assert.deepEqual(inSecond, { tslab: tslabOf(second), lib: second }, "a notebook in the second checkout ran another checkout's code");
  assert.deepEqual(outside, { tslab: tslabOf(first), lib: first }, "outside any checkout the registering checkout runs");

  // npm start in the second checkout registers the kernel from there and says whose tslab its lessons run.
  const started = npm(second, ["start"], env);
  assert.ok(started.includes(`notebooks in ${second} run this checkout's tslab (${path.join(second, "node_modules", "tslab")})`), started);
  assert.ok(started.includes(`notebooks outside any checkout use ${second}.`), started);
  assert.ok(started.includes(`Kernel registration replaced: it was made from ${first}; notebooks outside any checkout now run this one`), started);
  assert.match(started, new RegExp(`^stand-in Lab started in ${second} with: lab `, "m"));
  assert.equal(JSON.parse(fs.readFileSync(specFile, "utf8")).metadata.lessons.fallback_checkout, second);
});
