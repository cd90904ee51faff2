/**
 * Adds a static PNG to every plotly chart in executed notebooks, so the charts stay visible where scripts do not
 * run (untrusted notebooks, GitHub, nbviewer, no Jupyter server). The live chart still replaces the picture when
 * the notebook is opened in a trusted Jupyter session.
 *
 *   npx tsx scripts/render-static-plots.ts build/notebooks/01-intro.ipynb [more.ipynb ...] [--out <dir>]
 *
 * From code (e.g. the notebook runner): `await addStaticFallbacks(path)`.
 * Needs Debian chromium (/usr/bin/chromium, or CHROMIUM_PATH); never downloads a browser.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Command } from "commander";
import { chromium, BrowserContext } from "playwright-core";
import { figureHtml, parseFigureHtml, PLOTLY_BUNDLE } from "../lib/plots/html";
import { Figure, normalizeTitles } from "../lib/plots/figure";
import { projectRoot } from "../lib/paths";

export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

/** Path of the system chromium, or a clear error telling how to get one. */
export function chromiumPath(): string {
  // An explicit CHROMIUM_PATH is the only candidate, so a wrong one is reported instead of silently replaced.
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `Chromium not found (looked at ${candidates.join(", ")}). Install Debian's package: apt-get install -y chromium ` +
        `(or set CHROMIUM_PATH to a chromium binary).`,
    );
  }
  return found;
}

/** True when chromium is there, so addStaticFallbacks can run (callers may skip it quietly otherwise). */
export function staticRenderingAvailable(): boolean {
  try {
    chromiumPath();
    return true;
  } catch {
    return false;
  }
}

/** Launches system chromium headless with a fresh profile; close the context, then remove `profileDir`. */
export async function launchChromium(): Promise<{ context: BrowserContext; profileDir: string; close(): Promise<void> }> {
  const executablePath = chromiumPath();
  const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-chromium-"));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    profileDir,
    async close() {
      await context.close().catch(() => undefined);
      fs.rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

/** Renders figures to PNG bytes with plotly in headless chromium (one browser for all of them). */
export async function renderFiguresToPng(figures: Figure[], opts: { scale?: number } = {}): Promise<Buffer[]> {
  if (figures.length === 0) return [];
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.setContent("<!doctype html><html><body></body></html>");
    await page.addScriptTag({ path: path.join(projectRoot(), PLOTLY_BUNDLE) });
    const out: Buffer[] = [];
    for (const fig of figures) {
      const dataUrl = await page.evaluate(
        async ({ fig, scale }) => {
          const P = (window as unknown as { Plotly: any }).Plotly; // eslint-disable-line @typescript-eslint/no-explicit-any
          const div = document.createElement("div");
          document.body.appendChild(div);
          const layout = Object.assign({}, fig.layout || {});
          const width = typeof layout.width === "number" ? layout.width : 900;
          const height = typeof layout.height === "number" ? layout.height : 450;
          await P.newPlot(div, fig.data, Object.assign(layout, { width, height }), { staticPlot: true });
          const url: string = await P.toImage(div, { format: "png", width, height, scale });
          P.purge(div);
          div.remove();
          return url;
        },
        { fig: normalizeTitles(fig), scale: opts.scale ?? 1 },
      );
      out.push(Buffer.from(dataUrl.replace(/^data:image\/png;base64,/, ""), "base64"));
    }
    return out;
  } finally {
    await browser.close();
  }
}

interface NotebookOutput {
  output_type: string;
  data?: Record<string, string | string[]>;
}
interface Notebook {
  cells: { cell_type: string; outputs?: NotebookOutput[] }[];
}

const joinText = (v: string | string[]): string => (Array.isArray(v) ? v.join("") : v);

/**
 * Adds the static picture to each chart output of a notebook that lacks one. Writes to `outPath` (default: in
 * place) and returns how many charts were rendered.
 */
export async function addStaticFallbacks(notebookPath: string, outPath = notebookPath): Promise<number> {
  const nb = JSON.parse(fs.readFileSync(notebookPath, "utf8")) as Notebook;
  if (!Array.isArray(nb.cells)) throw new Error(`${notebookPath} is not a Jupyter notebook (no "cells" array).`);
  const todo: { data: Record<string, string | string[]>; parsed: NonNullable<ReturnType<typeof parseFigureHtml>> }[] = [];
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const html = out.data?.["text/html"];
      if (!html) continue;
      const parsed = parseFigureHtml(joinText(html));
      if (parsed && !parsed.hasStatic) todo.push({ data: out.data!, parsed });
    }
  }
  if (todo.length > 0) {
    const pngs = await renderFiguresToPng(todo.map((t) => t.parsed.figure));
    todo.forEach((t, i) => {
      t.data["text/html"] = figureHtml(t.parsed.figure, {
        id: t.parsed.id,
        png: pngs[i],
        bundleFromNotebookDir: t.parsed.bundleFromNotebookDir,
        bundleFromServerRoots: t.parsed.bundleFromServerRoots,
      });
    });
  }
  if (todo.length > 0 || outPath !== notebookPath) {
    fs.mkdirSync(path.dirname(path.resolve(outPath)), { recursive: true });
    fs.writeFileSync(outPath, JSON.stringify(nb, null, 1) + "\n");
  }
  return todo.length;
}

async function main(): Promise<void> {
  const program = new Command()
    .name("render-static-plots")
    .description("Embed a static PNG in every plotly chart output of executed notebooks")
    .argument("<notebooks...>", "executed .ipynb files")
    .option("--out <dir>", "write copies into this folder instead of changing the notebooks in place")
    .parse();
  const { out } = program.opts<{ out?: string }>();
  for (const nb of program.args) {
    const target = out ? path.join(out, path.basename(nb)) : nb;
    const n = await addStaticFallbacks(nb, target);
    console.log(`${target}: ${n} chart(s) given a static picture`);
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`render-static-plots: ${err.message}`);
    process.exit(1);
  });
}
