/**
 * `npm run test:browser [-- --front lab|classic|all] [--lesson nb | --no-lesson] [notebook.ipynb]`: drives Jupyter in
 * headless Debian Chromium with playwright-core, with the project kernel, and checks what a learner sees.
 *
 *  - JupyterLab (the course's pinned Lab from .venv-jupyter, `npm run jupyter:install`): see test/browser/lab.ts:
 *    restart-and-run-all of 00-setup-check, live plotly charts, the progress line updating in place, the stop
 *    button, a type error in its cell, the untrusted reopen, and a lesson's fast copy.
 *  - The classic Notebook (Debian's jupyter-notebook), below: runs 00-setup-check, checks that outputs appear and
 *    every chart is drawn (svg.main-svg) with plotly served by Jupyter itself, then the untrusted view.
 * Screenshots under build/browser-check/. Notebook files are never modified: temporary copies run.
 * Exits 1 when a check fails, 2 when jupyter or chromium is missing.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import type { Page } from "playwright-core";
import { projectRoot, buildDir } from "../lib/paths";
import { addStaticFallbacks, chromiumPath, launchChromium } from "./render-static-plots";
import { loadExeca } from "./kernel/load-execa";
import { readyVenvBin } from "./jupyter/venv";
import { runLabCheck } from "../test/browser/lab";
import { type JupyterServer, sleep, startJupyterServer } from "../test/browser/server";

class MissingTool extends Error {}

interface CellReport {
  index: number;
  prompt: unknown;
  outputTypes: string[];
  error?: string;
}

/** The notebook's code cells once all have run (numbered prompts), read from the classic Notebook's JS model. */
async function cellReports(page: Page): Promise<CellReport[]> {
  return page.evaluate(() => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const nb = (window as any).Jupyter.notebook;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return nb.get_cells().map((c: any, index: number) => ({ c, index })).filter((x: any) => x.c.cell_type === "code")
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      .map(({ c, index }: any) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const outs: any[] = c.output_area.outputs;
        const err = outs.find((o) => o.output_type === "error");
        return {
          index,
          prompt: c.input_prompt_number,
          outputTypes: outs.map((o) =>
            o.output_type === "display_data" || o.output_type === "execute_result"
              ? Object.keys(o.data).join("+")
              : o.output_type === "stream" ? `stream(${String(o.text).trim().length} chars)` : o.output_type),
          error: err ? `${err.ename}: ${err.evalue}` : undefined,
        };
      });
  });
}

/**
 * The executed notebook as someone else would open it later: saved, given static pictures by
 * render-static-plots (which also makes it untrusted: the server's signature no longer matches), reloaded.
 * Scripts must be stripped and every chart must still show as a picture.
 */
async function checkStaticView(page: Page, copy: string, charts: number, shotPath: string): Promise<string[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await page.evaluate(() => (window as any).Jupyter.notebook.save_notebook());
  const added = await addStaticFallbacks(copy);
  await page.reload();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await page.waitForFunction(() => !!(window as any).Jupyter?.notebook?._fully_loaded, undefined, { timeout: 60_000 });
  await page.waitForFunction(
    (n) => Array.from(document.querySelectorAll<HTMLImageElement>(".cnn-plot img.cnn-plot-static")).filter((i) => i.complete && i.naturalWidth > 0).length >= n,
    charts,
    { timeout: 20_000 },
  ).catch(() => undefined);
  const state = await page.evaluate(() => ({
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    trusted: (window as any).Jupyter.notebook.trusted as boolean,
    pictures: Array.from(document.querySelectorAll<HTMLImageElement>(".cnn-plot img.cnn-plot-static")).filter((i) => i.naturalWidth > 0).length,
    live: document.querySelectorAll(".cnn-plot .js-plotly-plot").length,
  }));
  const height = await page.evaluate(() => (document.getElementById("notebook-container")?.scrollHeight ?? 1000) + 200);
  await page.setViewportSize({ width: 1280, height: Math.min(height, 16000) });
  await sleep(500);
  await page.screenshot({ path: shotPath });
  console.log(`  untrusted reload: ${added} picture(s) embedded, ${state.pictures} shown, ${state.live} live chart(s), trusted=${state.trusted}`);
  const failures: string[] = [];
  if (state.trusted) failures.push("the post-processed notebook still counts as trusted, so the untrusted view was not tested");
  if (state.pictures < charts) failures.push(`untrusted view shows ${state.pictures} of ${charts} static chart pictures`);
  if (state.live > 0) failures.push("scripts ran in the untrusted view");
  return failures;
}

async function run(notebookArg: string | undefined, timeoutS: number): Promise<boolean> {
  const root = projectRoot();
  const execa = (await loadExeca()).execa;

  const nbPath = path.resolve(
    notebookArg ??
      (fs.existsSync(path.join(root, "notebooks/00-setup-check.ipynb"))
        ? path.join(root, "notebooks/00-setup-check.ipynb")
        : path.join(root, "test/fixtures/browser/plot-check.ipynb")),
  );
  if (!fs.existsSync(nbPath)) throw new Error(`No notebook at ${nbPath}; pass the path of an .ipynb file.`);

  const version = await execa("jupyter", ["notebook", "--version"], { reject: false, stdin: "ignore", timeout: 60_000 }).catch(() => undefined);
  if (!version || version.exitCode !== 0) {
    throw new MissingTool("The classic Jupyter Notebook is not installed (`jupyter notebook --version` failed). Install it: apt-get install -y jupyter-notebook");
  }
  try {
    chromiumPath();
  } catch (e) {
    throw new MissingTool((e as Error).message);
  }

  // A temporary copy, inside the project so the server can serve it and node_modules, next to a lib link.
  const workDir = path.join(buildDir(), "browser-check");
  fs.mkdirSync(workDir, { recursive: true });
  const name = path.basename(nbPath, ".ipynb");
  const copy = path.join(workDir, `${name}.run-${process.pid}.ipynb`);
  fs.copyFileSync(nbPath, copy);
  const libLink = path.join(workDir, "lib");
  if (!fs.existsSync(libLink)) fs.symlinkSync(path.relative(workDir, path.join(root, "lib")), libLink);
  const shotPath = path.join(workDir, `${name}.png`);
  const staticShotPath = path.join(workDir, `${name}.untrusted.png`);

  let server: JupyterServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let ok = false;
  try {
    // A private Jupyter (no user config, the project kernelspec), as for JupyterLab; its token in Notebook 6's setting.
    server = await startJupyterServer({
      jupyter: "jupyter",
      subcommand: "notebook",
      root,
      flags: (_port, token) => [`--NotebookApp.token=${token}`, `--NotebookApp.notebook_dir=${root}`],
    });
    const { origin, token } = server;
    console.log(`jupyter notebook ${version.stdout.trim()} on ${origin}; notebook ${path.relative(root, nbPath)}`);

    browser = await launchChromium();
    const page = await browser.context.newPage();
    const outside: string[] = [];
    const plotlyLoads: string[] = [];
    const pageErrors: string[] = [];
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
      outside.push(url);
      return route.abort();
    });
    page.on("request", (r) => {
      if (r.url().includes("plotly.min.js")) plotlyLoads.push(r.url());
    });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("dialog", (d) => void d.accept()); // "leave page?" when reloading
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });

    const rel = path.relative(root, copy).split(path.sep).map(encodeURIComponent).join("/");
    await page.goto(`${origin}/notebooks/${rel}?token=${token}`);
    await page
      .waitForFunction(
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        () => { const nb = (window as any).Jupyter?.notebook; return !!(nb && nb.kernel && nb.kernel.is_connected() && !!nb.kernel.info_reply?.implementation); },
        undefined,
        { timeout: 120_000 },
      )
      .catch(async () => {
        const state = await page.evaluate(() => {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const nb = (window as any).Jupyter?.notebook;
          return JSON.stringify({ notebook: !!nb, kernel: !!nb?.kernel, connected: nb?.kernel?.is_connected?.(), info: nb?.kernel?.info_reply });
        });
        throw new Error(`the kernel did not become ready within 120 s (${state})`);
      });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await page.evaluate(() => { const nb = (window as any).Jupyter.notebook; nb.set_autosave_interval(0); nb.execute_all_cells(); });
    await page.waitForFunction(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      () => (window as any).Jupyter.notebook.get_cells().filter((c: any) => c.cell_type === "code").every((c: any) => typeof c.input_prompt_number === "number"),
      undefined,
      { timeout: timeoutS * 1000, polling: 500 },
    );
    const cells = await cellReports(page);
    const charts = await page.locator(".cnn-plot").count();
    let drawn = 0;
    if (charts > 0) {
      await page
        .waitForFunction(
          (n) => document.querySelectorAll(".cnn-plot .cnn-plot-live.js-plotly-plot svg.main-svg").length >= n,
          charts,
          { timeout: 60_000 },
        )
        .catch(() => undefined);
      drawn = await page.locator(".cnn-plot .cnn-plot-live.js-plotly-plot").count();
    }

    // Screenshot of the whole notebook: the classic Notebook scrolls inside #site, so grow the viewport first.
    const height = await page.evaluate(() => (document.getElementById("notebook-container")?.scrollHeight ?? 1000) + 200);
    await page.setViewportSize({ width: 1280, height: Math.min(height, 16000) });
    await sleep(500);
    await page.screenshot({ path: shotPath });

    const failures: string[] = [];
    for (const c of cells) {
      console.log(`  cell ${c.index} [${String(c.prompt)}]: ${c.outputTypes.length ? c.outputTypes.join(", ") : "no output"}${c.error ? `  ERROR ${c.error}` : ""}`);
      if (c.error) failures.push(`cell ${c.index} raised ${c.error}`);
    }
    if (cells.every((c) => c.outputTypes.length === 0)) failures.push("no cell produced any output");
    console.log(`  charts: ${drawn} of ${charts} drawn by plotly; plotly.min.js fetched ${plotlyLoads.length} time(s)` +
      (plotlyLoads.length ? ` from ${plotlyLoads[0].replace(origin, "").replace(/token=\w+/, "token=…")}` : ""));
    if (drawn < charts) failures.push(`${charts - drawn} chart(s) were not drawn`);
    if (charts > 0 && plotlyLoads.length !== 1) failures.push(`plotly.min.js was requested ${plotlyLoads.length} times; expected once per page`);
    if (outside.length) failures.push(`requests left the Jupyter server (blocked): ${outside.slice(0, 5).join(", ")}`);
    const plotErrors = pageErrors.filter((e) => /plotly|cnn-plot/i.test(e));
    if (plotErrors.length) failures.push(`browser errors: ${plotErrors.join("; ")}`);
    else if (pageErrors.length) console.log(`  (other browser console errors: ${pageErrors.slice(0, 3).join("; ")})`);
    console.log(`  screenshot: ${path.relative(root, shotPath)}`);

    if (charts > 0 && !failures.length) {
      failures.push(...(await checkStaticView(page, copy, charts, staticShotPath)));
      console.log(`  untrusted view screenshot: ${path.relative(root, staticShotPath)}`);
    }

    if (failures.length) {
      console.error(`Browser check FAILED:\n  - ${failures.join("\n  - ")}`);
    } else {
      console.log(`Browser check passed: ${cells.length} code cells ran, ${drawn} chart(s) rendered.`);
      ok = true;
    }
  } catch (e) {
    console.error(`Browser check FAILED: ${(e as Error).message}`);
    const log = server?.log();
    if (log) console.error(`--- jupyter log (tail) ---\n${log.slice(-3000)}`);
  } finally {
    await browser?.close();
    await server?.stop(); // kernels shut down through the API, then the server's process group
    fs.rmSync(copy, { force: true });
    fs.rmSync(path.join(workDir, ".ipynb_checkpoints"), { recursive: true, force: true });
  }
  return ok;
}

function defaultSetupNotebook(root: string): string {
  const setup = path.join(root, "notebooks/00-setup-check.ipynb");
  return fs.existsSync(setup) ? setup : path.join(root, "test/fixtures/browser/plot-check.ipynb");
}

async function runLab(notebookArg: string | undefined, lesson: string | undefined, timeoutS: number): Promise<boolean> {
  const root = projectRoot();
  const bin = readyVenvBin(root);
  if (!bin) throw new MissingTool("The course's JupyterLab is not installed (.venv-jupyter). Install it: npm run jupyter:install");
  try {
    chromiumPath();
  } catch (e) {
    throw new MissingTool((e as Error).message);
  }
  const failures = await runLabCheck({
    root, jupyter: path.join(bin, "jupyter"), setupNotebook: path.resolve(notebookArg ?? defaultSetupNotebook(root)),
    lesson: lesson && path.resolve(root, lesson), timeoutS,
  });
  if (failures.length) console.error(`JupyterLab check FAILED:\n  - ${failures.join("\n  - ")}`);
  else console.log("JupyterLab check passed.");
  return failures.length === 0;
}

async function main(): Promise<void> {
  const program = new Command()
    .name("test-browser")
    .description("Run notebooks in JupyterLab and the classic Notebook in headless chromium and check what learners see")
    .argument("[notebook]", "notebook to run (default notebooks/00-setup-check.ipynb, else the browser fixture)")
    .option("--front <which>", "lab, classic or all", "all")
    .option("--lesson <notebook>", "lesson run (fast parameters) in JupyterLab", "notebooks/01-dollar-street-cnn.ipynb")
    .option("--no-lesson", "skip the lesson in JupyterLab")
    .option("--timeout <seconds>", "time allowed for all cells of one notebook to finish", "300")
    .parse();
  const opts = program.opts<{ front: string; lesson: string | false; timeout: string }>();
  const timeout = Number(opts.timeout);
  if (!(timeout > 0)) throw new Error("--timeout must be a positive number of seconds");
  if (!["lab", "classic", "all"].includes(opts.front)) throw new Error(`--front must be lab, classic or all (got ${opts.front})`);
  let ok = true;
  const times: string[] = [];
  if (opts.front !== "classic") {
    const t0 = Date.now();
    ok = (await runLab(program.args[0], opts.lesson || undefined, timeout)) && ok;
    times.push(`JupyterLab ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  if (opts.front !== "lab") {
    const t0 = Date.now();
    ok = (await run(program.args[0], timeout)) && ok;
    times.push(`classic Notebook ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  console.log(`Browser checks ${ok ? "passed" : "FAILED"} (${times.join(", ")}).`);
  process.exit(ok ? 0 : 1);
}

main().catch((e: Error) => {
  console.error(`test-browser: ${e.message}`);
  process.exit(e instanceof MissingTool ? 2 : 1);
});
