/**
 * `npm run site [-- --from build/notebooks] [--out build/site] [--no-check]`: the course website. Renders the
 * runner's executed notebooks (full or fast) into static pages, one per lesson with its outputs and the static
 * chart pictures, plus an index with each lesson's objectives and measured run time and the date and settings of
 * the run. Cell contents are rendered by nbconvert from the course's Jupyter environment (`npm run jupyter:install`).
 * The site is built in a temporary folder and swapped in whole. Then every page is opened in Chromium and checked
 * for broken images and links (scripts/site/check.ts); exits 1 when something is broken.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command } from "commander";
import { loadExeca } from "../kernel/load-execa";
import { readNotebook, writeNotebookAtomic } from "../runner/nbformat";
import { readyVenvBin, venvBin } from "../jupyter/venv";
import { type LessonInfo, lessonInfo } from "./lesson-info";
import { indexPage, lessonPage, SITE_CSS } from "./pages";
import { linkLessonPages, staticCharts } from "./prepare";
import { checkSite } from "./check";

const root = path.resolve(__dirname, "..", "..");
const COURSE_TITLE = "Convolutional neural networks in TypeScript";

function executedNotebooks(dir: string): string[] {
  if (!fs.existsSync(dir)) {
    throw new Error(`No executed notebooks in ${dir}. Run the lessons first: npm run notebooks (or npm run notebooks -- --fast).`);
  }
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb") && !f.startsWith(".")).sort().map((f) => path.join(dir, f));
  if (!files.length) throw new Error(`${dir} holds no .ipynb files. Run the lessons first: npm run notebooks -- --fast --out ${dir}`);
  return files;
}

/** Runs nbconvert once for all notebooks (basic template: the cells' HTML without a page around it). */
async function nbconvertBodies(jupyterBin: string, files: string[], outDir: string): Promise<Map<string, string>> {
  const { execa } = await loadExeca();
  const r = await execa(path.join(jupyterBin, "jupyter"), ["nbconvert", "--to", "html", "--template", "basic", "--output-dir", outDir, ...files],
    { reject: false, stdin: "ignore", all: true, timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`nbconvert failed:\n${(r.all ?? "").slice(-2000)}`);
  const bodies = new Map<string, string>();
  for (const f of files) bodies.set(f, fs.readFileSync(path.join(outDir, path.basename(f, ".ipynb") + ".html"), "utf8"));
  return bodies;
}

async function pygmentsCss(jupyterBin: string): Promise<string> {
  const { execa } = await loadExeca();
  const r = await execa(venvBin(path.dirname(jupyterBin), "python"), ["-m", "pygments", "-S", "default", "-f", "html", "-a", ".highlight"], { stdin: "ignore" });
  return r.stdout;
}

export async function buildSite(from: string, out: string): Promise<{ lessons: LessonInfo[]; charts: number; missing: number }> {
  const bin = readyVenvBin(root);
  if (!bin) throw new Error("The site is rendered with nbconvert from the course's Jupyter environment. Install it: npm run jupyter:install");
  const files = executedNotebooks(from);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-site-"));
  const staging = `${out}.tmp-${process.pid}`;
  try {
    const notebooks = files.map((f) => ({ file: f, nb: readNotebook(f) }));
    const lessons = notebooks.map(({ file, nb }) => lessonInfo(file, nb));
    const pages = new Set(lessons.map((l) => l.page));
    let charts = 0;
    let missing = 0;
    const prepared = notebooks.map(({ file, nb }) => {
      const s = staticCharts(linkLessonPages(nb, pages));
      charts += s.charts;
      missing += s.missing;
      const p = path.join(work, "in", path.basename(file));
      writeNotebookAtomic(p, s.nb);
      return p;
    });
    const bodies = await nbconvertBodies(bin, prepared, path.join(work, "out"));
    fs.rmSync(staging, { recursive: true, force: true });
    fs.mkdirSync(staging, { recursive: true });
    lessons.forEach((l, i) => {
      fs.writeFileSync(path.join(staging, l.page), lessonPage(l, bodies.get(prepared[i]!)!, lessons[i - 1], lessons[i + 1]));
    });
    const starts = lessons.map((l) => l.run.started).filter((s): s is string => !!s).sort();
    fs.writeFileSync(path.join(staging, "index.html"), indexPage(COURSE_TITLE, lessons, {
      started: starts[0],
      sizes: [...new Set(lessons.map((l) => l.run.sizes))],
      backend: lessons.find((l) => l.backend)?.backend,
      built: new Date().toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC"),
      source: path.relative(root, from) || from,
    }));
    fs.writeFileSync(path.join(staging, "style.css"), SITE_CSS + "\n" + (await pygmentsCss(bin)));
    // Swap the finished site in: the old one stays until the new one is complete.
    const old = `${out}.old-${process.pid}`;
    if (fs.existsSync(out)) fs.renameSync(out, old);
    fs.renameSync(staging, out);
    fs.rmSync(old, { recursive: true, force: true });
    return { lessons, charts, missing };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const program = new Command()
    .name("npm run site --")
    .description("Build the course website from executed notebooks, then check its links and images in Chromium")
    .option("--from <dir>", "executed notebooks (the runner's --out)", path.join(root, "build", "notebooks"))
    .option("--out <dir>", "where the site goes", path.join(root, "build", "site"))
    .option("--no-check", "skip opening the pages in Chromium")
    .parse();
  const opts = program.opts<{ from: string; out: string; check: boolean }>();
  const from = path.resolve(process.env.INIT_CWD ?? process.cwd(), opts.from);
  const out = path.resolve(process.env.INIT_CWD ?? process.cwd(), opts.out);
  const t0 = Date.now();
  const built = await buildSite(from, out);
  console.log(`Site: ${built.lessons.length} lesson page(s) and index.html in ${path.relative(process.cwd(), out) || out} ` +
    `(${built.charts} chart picture(s)${built.missing ? `, ${built.missing} chart(s) without a picture` : ""}; ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  for (const l of built.lessons) console.log(`  ${l.page}: ${l.run.status}, ${l.run.seconds ?? "?"} s, ${l.objectives.length} objective(s)`);
  if (!opts.check) return 0;
  const problems = await checkSite(out);
  if (problems.length) {
    console.error(`Site check FAILED:\n  - ${problems.join("\n  - ")}`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (e) => {
      console.error(`site: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
