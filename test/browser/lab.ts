/**
 * The JupyterLab check (run by `npm run test:browser`): the course's pinned JupyterLab with the project kernel in
 * headless Debian Chromium.
 *
 *  1. 00-setup-check, started with "Restart Kernel and Run All Cells" (the dialog's button is clicked): every cell
 *     runs without error and shows its outputs; every chart is drawn live by plotly's Lab renderer.
 *  2. In the same notebook, a training cell: the progress line updates in place (one line per finished epoch, the
 *     running epoch's line rewritten), then the toolbar's stop button interrupts it and the next cell runs.
 *  3. A cell with a TypeScript type error shows the error in that cell.
 *  4. The notebook, saved and given static pictures as the runner does (which makes it untrusted), is reopened:
 *     every chart still shows, and none of its HTML scripts ran.
 *  5. A lesson (fast-parameter copy) runs all cells: outputs, charts, no error.
 * Screenshots go to build/browser-check/lab-*.png. Returns the list of failures (empty: passed).
 */
import * as fs from "fs";
import * as path from "path";
import type { Page } from "playwright-core";
import { buildDir } from "../../lib/paths";
import { addStaticFallbacks, launchChromium } from "../../scripts/render-static-plots";
import { chooseParameters, injectParameters } from "../../scripts/runner/parameters";
import { readNotebook, writeNotebookAtomic } from "../../scripts/runner/nbformat";
import { appendCell, chartState, command, fullNotebookScreenshot, hoverCharts, recordKernelStatuses, type LabState, labState, waitForAllCells, waitForNotebook } from "./lab-page";
import { type JupyterServer, sleep, startJupyterServer } from "./server";
import { analyseProgress } from "./progress-snapshots";

export interface LabCheckOptions {
  root: string;
  /** The venv's jupyter. */
  jupyter: string;
  setupNotebook: string;
  /** A lesson to run with its fast parameters; undefined skips step 5. */
  lesson?: string;
  timeoutS: number;
}

/** Lab settings for a check: every cell rendered (no windowing), no autosave, no news or update checks. */
const LAB_SETTINGS = {
  "lab/user-settings/@jupyterlab/notebook-extension/tracker.jupyterlab-settings": { windowingMode: "none" },
  "lab/user-settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": { autosave: false },
  "lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings": { fetchNews: "false", checkForUpdates: false },
  "lab/user-settings/@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": { enabled: false },
  "jupyter_server_config.json": { LabApp: { expose_app_in_browser: true, news_url: null, check_for_updates_class: "jupyterlab.NeverCheckForUpdate" } },
};

/**
 * A training cell long enough to watch its progress line and to stop it (uses 00-setup-check's data). The 64
 * images are repeated 8 times, so that an epoch of batches of 1 lasts well over the progress line's 250 ms
 * between updates on a fast machine too (64 steps took about that long, and the line was then seen only at
 * its first step).
 */
export const TRAINING_PROBE = [
  "const probeX = tf.tile(scaleTo01(imagesToTensor(sample.train)), [8, 1, 1, 1]);",
  "const probeY = tf.tile(labelsToTensor(sample.train), [8]);",
  "const probeModel = compileForClassification(configurableModel({ convLayers: 2, filters: 16, denseUnits: 16, dropoutRate: 0, seed: 3 }));",
  "await train(probeModel, { x: probeX, y: probeY }, { epochs: 500, batchSize: 1, seed: 3 });",
].join("\n");
export const TYPE_ERROR_PROBE = 'const typeCheckProbe: number = "forty-two";';
/** Run after the stop; it waits 3 s first, so a training that went on in the background would print its progress here. */
export const AFTER_INTERRUPT_PROBE = [
  "const pauseMs = (ms: number) => new Promise((done) => setTimeout(done, ms));",
  "await pauseMs(3000);",
  'console.log("kernel still usable:", 6 * 7);',
].join("\n");

function cellFailures(label: string, s: LabState): string[] {
  const failures: string[] = [];
  for (const c of s.cells) {
    console.log(`  ${label} cell ${c.index} [${c.executionCount ?? " "}]: ${c.outputs.length ? c.outputs.join(", ") : "no output"}${c.error ? `  ERROR ${c.error}` : ""}`);
    if (c.error) failures.push(`${label}: cell ${c.index} raised ${c.error}`);
    if (c.executionCount === null) failures.push(`${label}: cell ${c.index} did not run`);
    if (c.shownOutputs !== c.outputs.length) failures.push(`${label}: cell ${c.index} has ${c.outputs.length} outputs but the page shows ${c.shownOutputs}`);
  }
  if (!s.cells.some((c) => c.outputs.length)) failures.push(`${label}: no cell produced any output`);
  return failures;
}

async function chartFailures(label: string, page: Page): Promise<string[]> {
  await hoverCharts(page);
  const charts = await chartState(page);
  console.log(`  ${label}: ${charts.drawnLive} of ${charts.inModel} chart(s) drawn live by plotly's Lab renderer`);
  const failures: string[] = [];
  if (charts.inModel === 0) failures.push(`${label}: no chart output (application/vnd.plotly.v1+json) at all`);
  if (charts.drawnLive < charts.inModel) failures.push(`${label}: ${charts.inModel - charts.drawnLive} chart(s) not drawn`);
  return failures;
}

/** Step 2: watch the progress line of a training cell, then press the stop button. */
async function checkProgressAndStop(page: Page, shots: string): Promise<string[]> {
  const failures: string[] = [];
  const at = await appendCell(page, TRAINING_PROBE);
  await command(page, "notebook:run-cell");
  const snapshots: string[] = [];
  const until = Date.now() + 90_000;
  while (Date.now() < until) {
    const cell = (await labState(page)).cells.find((c) => c.index === at);
    if (cell?.text.trim()) snapshots.push(cell.text);
    if (analyseProgress(snapshots).finishedEpochs >= 2 && snapshots.length >= 20) break;
    await sleep(150);
  }
  // The running cell's output (its progress line) in view, not just the cell's code.
  await page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").nth(at).locator(".jp-OutputArea").scrollIntoViewIfNeeded({ timeout: 5000 })
    .catch(() => undefined);
  await page.screenshot({ path: path.join(shots, "lab-progress.png") });
  const progress = analyseProgress(snapshots);
  console.log(`  progress: ${snapshots.length} snapshots, ${progress.distinct} distinct, ${progress.partialStates} showed a running epoch, ` +
    `${progress.finishedEpochs} epoch(s) finished, most lines at once ${progress.maxLines}`);
  failures.push(...progress.problems.map((p) => `progress display: ${p}`));

  const stopButton = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) [data-command="notebook:interrupt-kernel"]').first();
  await stopButton.click({ timeout: 10_000 });
  const pressed = Date.now();
  const after = await waitForAllCells(page, 60_000, [at]).catch((e: Error) => (failures.push(`stop button: ${e.message}`), undefined));
  if (after) {
    const cell = after.cells.find((c) => c.index === at);
    console.log(`  stop button: the training cell ended ${((Date.now() - pressed) / 1000).toFixed(1)} s after the click (${cell?.error ?? "no error output"})`);
    if (analyseProgress([cell?.text ?? ""]).finishedEpochs >= 500) failures.push("stop button: training ran to the end instead of stopping");
  }
  const next = await appendCell(page, AFTER_INTERRUPT_PROBE);
  await command(page, "notebook:run-cell");
  const s = await waitForAllCells(page, 60_000, [next]).catch((e: Error) => (failures.push(`after the stop: ${e.message}`), undefined));
  const text = s?.cells.find((c) => c.index === next)?.text ?? "";
  if (!/kernel still usable: 42/.test(text)) failures.push(`after the stop, the next cell printed ${JSON.stringify(text.slice(0, 200))} instead of "kernel still usable: 42"`);
  else console.log("  after the stop, the next cell ran in the same kernel");
  // tslab's interrupt ends the cell, not the promise it awaited: training must stop too, not print into later cells.
  const leaked = /^.*Epoch\s+\d+\/500.*$/m.exec(text)?.[0];
  if (leaked) failures.push(`stop button: the cell ended but training went on in the background, printing into the next cell: ${JSON.stringify(leaked.trim().slice(0, 120))}`);
  return failures;
}

/** Step 3: a type error is shown in the cell that has it. */
async function checkTypeError(page: Page): Promise<string[]> {
  const at = await appendCell(page, TYPE_ERROR_PROBE);
  await command(page, "notebook:run-cell");
  await waitForAllCells(page, 60_000, [at]).catch(() => undefined);
  await sleep(1000);
  const cell = (await labState(page)).cells.find((c) => c.index === at);
  const shown = cell?.text ?? "";
  console.log(`  type error cell shows: ${JSON.stringify(shown.trim().split("\n")[0]?.slice(0, 120))}`);
  return /not assignable to type 'number'/.test(shown) ? [] : [`a type error was not shown in its cell (it shows ${JSON.stringify(shown.slice(0, 200))})`];
}

/** Step 4: saved, given static pictures (so no longer trusted), reopened. */
async function checkUntrustedReopen(page: Page, copy: string, charts: number, shot: string): Promise<string[]> {
  await command(page, "docmanager:save");
  await page.waitForFunction(() => !(window as any).jupyterapp.shell.currentWidget.context.model.dirty, undefined, { timeout: 30_000 }); // eslint-disable-line @typescript-eslint/no-explicit-any
  const added = await addStaticFallbacks(copy);
  await command(page, "docmanager:reload"); // "Reload Notebook from Disk"
  await page.locator(".jp-Dialog .jp-mod-accept").click({ timeout: 5000 }).catch(() => undefined);
  await sleep(1500);
  await page.reload();
  await waitForNotebook(page, 120_000);
  await page.waitForFunction(
    (n) => Array.from(document.querySelectorAll<HTMLImageElement>(".jp-NotebookPanel:not(.lm-mod-hidden) img.plot-img, .jp-NotebookPanel:not(.lm-mod-hidden) img.cnn-plot-static"))
      .filter((i) => i.style.display !== "none" && i.naturalWidth > 0).length >= n,
    charts,
    { timeout: 30_000 },
  ).catch(() => undefined);
  const s = await labState(page);
  const state = await chartState(page);
  await fullNotebookScreenshot(page, shot);
  const trustedCells = s.cells.filter((c) => c.outputs.length && c.trusted).length;
  console.log(`  untrusted reopen: ${added} picture(s) embedded; ${trustedCells} trusted cell(s); charts shown: ${state.drawnLive} by plotly's renderer, ` +
    `${state.staticPictures} as pictures; HTML scripts ran: ${state.htmlScriptsRan}`);
  const failures: string[] = [];
  if (added === 0) failures.push("untrusted reopen: no static picture was embedded");
  if (trustedCells > 0) failures.push("untrusted reopen: the reopened notebook still counts as trusted, so the untrusted view was not tested");
  if (state.staticPictures < charts) failures.push(`untrusted reopen: ${state.staticPictures} of ${charts} static chart pictures shown`);
  if (state.htmlScriptsRan > 0) failures.push("untrusted reopen: scripts from the notebook's HTML ran");
  return failures;
}

/** The lesson with its fast parameters, as a notebook file next to the check's other copies. */
function fastCopy(lesson: string, dir: string): string {
  const nb = readNotebook(lesson);
  const file = path.join(dir, `lab-${path.basename(lesson, ".ipynb")}.fast.ipynb`);
  writeNotebookAtomic(file, injectParameters(nb, chooseParameters(nb, true, {})));
  return file;
}

export async function runLabCheck(opts: LabCheckOptions): Promise<string[]> {
  const dir = path.join(buildDir(), "browser-check");
  fs.mkdirSync(dir, { recursive: true });
  const libLink = path.join(dir, "lib");
  if (!fs.existsSync(libLink)) fs.symlinkSync(path.relative(dir, path.join(opts.root, "lib")), libLink);
  const setupCopy = path.join(dir, `lab-${path.basename(opts.setupNotebook)}`);
  fs.copyFileSync(opts.setupNotebook, setupCopy);
  const lessonCopy = opts.lesson ? fastCopy(opts.lesson, dir) : undefined;
  const url = (file: string, server: JupyterServer) =>
    `${server.origin}/lab/tree/${path.relative(opts.root, file).split(path.sep).map(encodeURIComponent).join("/")}?token=${server.token}`;

  const failures: string[] = [];
  let server: JupyterServer | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  try {
    server = await startJupyterServer({
      jupyter: opts.jupyter,
      subcommand: "lab",
      root: opts.root,
      flags: (_port, token) => [`--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${opts.root}`],
      configFiles: LAB_SETTINGS,
    });
    const version = (await (await server.api("/api/status")).json()) as object;
    console.log(`JupyterLab on ${server.origin} (${Object.keys(version).length ? "up" : "?"}); ${path.relative(opts.root, opts.setupNotebook)}`);
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const origin = server.origin;
    const outside: string[] = [];
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(origin) || u.startsWith("data:") || u.startsWith("blob:")) return route.continue();
      outside.push(u);
      return route.abort();
    });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));

    // 1. Restart Kernel and Run All Cells, through its confirmation dialog.
    await page.goto(url(setupCopy, server));
    await waitForNotebook(page, 180_000);
    await recordKernelStatuses(page);
    const started = Date.now();
    await command(page, "notebook:restart-run-all");
    await page.locator(".jp-Dialog .jp-mod-accept").click({ timeout: 15_000 });
    const s1 = await waitForAllCells(page, opts.timeoutS * 1000);
    console.log(`  restart and run all: ${s1.cells.length} code cells in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    failures.push(...cellFailures("setup-check", s1));
    const verdict = /^(ready|not ready yet:)/m.exec(s1.cells.at(-1)?.text ?? "")?.[1];
    if (!verdict) failures.push("setup-check: the last cell printed no verdict (ready, or not ready yet: ...)");
    else console.log(`  setup-check verdict: "${verdict}" (the machine's state; missing data is reported, not a failure of the page)`);
    failures.push(...(await chartFailures("setup-check", page)));
    const charts = (await chartState(page)).inModel;
    await fullNotebookScreenshot(page, path.join(dir, "lab-00-setup-check.png"));

    // 2-4.
    failures.push(...(await checkProgressAndStop(page, dir)));
    failures.push(...(await checkTypeError(page)));
    await fullNotebookScreenshot(page, path.join(dir, "lab-00-setup-check.probes.png"));
    failures.push(...(await checkUntrustedReopen(page, setupCopy, charts, path.join(dir, "lab-00-setup-check.untrusted.png"))));

    // 5. A lesson, fast, after shutting the setup check's kernel down (one kernel at a time on small machines).
    if (lessonCopy) {
      const sessions = (await (await server.api("/api/sessions")).json()) as { id: string }[];
      for (const s of sessions) await server.api(`/api/sessions/${s.id}`, { method: "DELETE" });
      await page.goto(url(lessonCopy, server));
      await waitForNotebook(page, 180_000);
      await recordKernelStatuses(page);
      const t0 = Date.now();
      await command(page, "notebook:run-all-cells");
      const s5 = await waitForAllCells(page, opts.timeoutS * 1000);
      const label = path.basename(opts.lesson!, ".ipynb");
      console.log(`  ${label} (fast): ${s5.cells.length} code cells in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      failures.push(...cellFailures(label, s5), ...(await chartFailures(label, page)));
      await fullNotebookScreenshot(page, path.join(dir, `lab-${label}.png`));
    }
    if (outside.length) failures.push(`requests left the Jupyter server (blocked): ${outside.slice(0, 5).join(", ")}`);
    const plotErrors = pageErrors.filter((e) => /plotly|cnn-plot/i.test(e));
    if (plotErrors.length) failures.push(`browser errors: ${plotErrors.join("; ")}`);
    console.log(`  screenshots: ${path.relative(opts.root, dir)}/lab-*.png`);
  } catch (e) {
    failures.push((e as Error).message);
    if (server) console.error(`--- jupyter lab log (tail) ---\n${server.log().slice(-3000)}`);
  } finally {
    await browser?.close();
    await server?.stop();
    for (const f of [setupCopy, lessonCopy]) if (f) fs.rmSync(f, { force: true });
    fs.rmSync(path.join(dir, ".ipynb_checkpoints"), { recursive: true, force: true });
  }
  return failures;
}
