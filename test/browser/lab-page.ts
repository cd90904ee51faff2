/**
 * Reading and driving a JupyterLab notebook page from playwright. Lab runs with `expose_app_in_browser`, so
 * `window.jupyterapp` is the application: we read cell models and kernel state from it, and click the real
 * buttons where the check is about the button (the toolbar's stop button, the restart dialog).
 */
import type { Page } from "playwright-core";
import { sleep } from "./server";

export interface LabCell {
  index: number;
  executionCount: number | null;
  /** Output types as the model holds them ("stream", "error", or the MIME types of a display). */
  outputs: string[];
  /** Outputs the page actually shows for this cell. */
  shownOutputs: number;
  text: string;
  error?: string;
  trusted: boolean;
}

export interface LabState {
  kernel: string;
  connection: string;
  cells: LabCell[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** The current notebook's code cells and its kernel state. */
export async function labState(page: Page): Promise<LabState> {
  return page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const panel = app?.shell?.currentWidget;
    const kernel = panel?.sessionContext?.session?.kernel;
    if (!panel?.content?.widgets) return { kernel: "no notebook", connection: "none", cells: [] };
    const cells = (panel.content.widgets as any[])
      .map((w, index) => ({ w, index }))
      .filter(({ w }) => w.model.type === "code")
      .map(({ w, index }) => {
        const outs: any[] = w.model.outputs.toJSON();
        const err = outs.find((o) => o.output_type === "error");
        return {
          index,
          executionCount: w.model.executionCount ?? null,
          outputs: outs.map((o) => (o.data ? Object.keys(o.data).join("+") : o.output_type)),
          shownOutputs: w.outputArea.node.querySelectorAll(":scope > .jp-OutputArea-child").length,
          text: (w.outputArea.node as HTMLElement).innerText,
          error: err ? `${err.ename}: ${err.evalue}` : undefined,
          trusted: !!w.model.trusted,
        };
      });
    return { kernel: kernel?.status ?? "none", connection: kernel?.connectionStatus ?? "none", cells };
  });
}

/** Waits for Lab to show a notebook whose kernel is connected and idle. */
export async function waitForNotebook(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const panel = (window as any).jupyterapp?.shell?.currentWidget;
      const k = panel?.sessionContext?.session?.kernel;
      return !!(panel?.content?.widgets?.length && k && k.connectionStatus === "connected" && k.status === "idle");
    },
    undefined,
    { timeout: timeoutMs, polling: 500 },
  );
}

/**
 * Records every kernel status the page sees (window.__cnnKernelStatuses), so a kernel that died and was restarted
 * between two polls is still noticed.
 */
export async function recordKernelStatuses(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as any;
    w.__cnnKernelStatuses = [];
    w.jupyterapp.shell.currentWidget.sessionContext.statusChanged.connect((_: unknown, status: string) => w.__cnnKernelStatuses.push(status));
  });
}

/** Statuses that mean the kernel died since recordKernelStatuses. */
export async function kernelDeaths(page: Page): Promise<string[]> {
  return page.evaluate(() => ((window as any).__cnnKernelStatuses ?? []).filter((s: string) => /dead|autorestarting/.test(s)));
}

/** Runs a Lab command by id (without waiting for it: some open dialogs). */
export async function command(page: Page, id: string, args: object = {}): Promise<void> {
  await page.evaluate(({ id, args }) => void (window as any).jupyterapp.commands.execute(id, args), { id, args });
}

/** Appends a code cell with `source` at the end of the notebook and makes it the active cell. */
export async function appendCell(page: Page, source: string): Promise<number> {
  return page.evaluate((source) => {
    const panel = (window as any).jupyterapp.shell.currentWidget;
    const nb = panel.content;
    const at = nb.model.cells.length;
    nb.model.sharedModel.insertCell(at, { cell_type: "code", source });
    nb.activeCellIndex = at;
    nb.deselectAll?.();
    return at;
  }, source);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/**
 * Polls until every code cell has run and the kernel is idle. Stops early (and returns) when the kernel has
 * been idle for a few seconds with an error in some cell: Lab stops "run all" at the first error.
 */
export async function waitForAllCells(page: Page, timeoutMs: number, cellIndexes?: number[]): Promise<LabState> {
  const until = Date.now() + timeoutMs;
  let idleWithError = 0;
  let idleStalled = 0;
  for (;;) {
    const deaths = await kernelDeaths(page);
    if (deaths.length) throw new Error(`the kernel died while cells ran (statuses seen: ${deaths.join(", ")}); out of memory?`);
    const s = await labState(page);
    const watched = cellIndexes ? s.cells.filter((c) => cellIndexes.includes(c.index)) : s.cells;
    const busyPrompt = await page.locator(".jp-InputPrompt", { hasText: "[*]" }).count();
    if (s.kernel === "idle" && busyPrompt === 0 && watched.every((c) => c.executionCount !== null)) return s;
    idleWithError = s.kernel === "idle" && busyPrompt === 0 && s.cells.some((c) => c.error) ? idleWithError + 1 : 0;
    if (idleWithError >= 5) return s;
    // Idle, nothing running, cells left unrun and no error: Lab stopped running them. Say which, after a minute.
    idleStalled = s.kernel === "idle" && busyPrompt === 0 ? idleStalled + 1 : 0;
    if (idleStalled >= 60) {
      const pending = watched.filter((c) => c.executionCount === null).map((c) => c.index);
      throw new Error(`the kernel has been idle for a minute but cells ${pending.join(", ")} never ran (no error was shown)`);
    }
    if (s.kernel === "dead" || s.connection === "disconnected") throw new Error(`the kernel is ${s.kernel} (${s.connection})`);
    if (Date.now() > until) {
      const pending = watched.filter((c) => c.executionCount === null).map((c) => c.index);
      throw new Error(`cells did not finish within ${timeoutMs / 1000}s (kernel ${s.kernel}; cells not run: ${pending.join(", ")})`);
    }
    await sleep(1000);
  }
}

/**
 * Makes the viewport as tall as the notebook so one screenshot shows all of it (Lab scrolls inside a panel), from
 * its first cell: a notebook taller than the largest viewport shows its first 16,000 pixels, not its end.
 */
export async function fullNotebookScreenshot(page: Page, file: string): Promise<void> {
  const height = await page.evaluate(() => {
    // The element that scrolls the notebook (which one it is has changed between Lab versions): the one with the
    // most hidden content among those that scroll.
    const panel = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden)");
    const scrollers = Array.from(panel?.querySelectorAll<HTMLElement>("*") ?? [])
      .filter((e) => /auto|scroll/.test(getComputedStyle(e).overflowY))
      .sort((a, b) => (b.scrollHeight - b.clientHeight) - (a.scrollHeight - a.clientHeight));
    const s = scrollers[0];
    s?.setAttribute("data-check-scroller", "");
    return s ? s.scrollHeight + (window.innerHeight - s.clientHeight) + 40 : 900;
  });
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 16000) });
  await page.evaluate(() => document.querySelector("[data-check-scroller]")?.scrollTo(0, 0));
  await sleep(1000);
  await page.screenshot({ path: file });
  await page.setViewportSize({ width: 1280, height: 900 });
}

const VISIBLE_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)";

/**
 * Makes plotly's Lab renderer draw every chart live. It draws a chart, stores a PNG of it in the output
 * (image/png, so a saved notebook has a picture), and from then on shows that picture until the mouse enters
 * the chart. So we hover each chart and wait for plotly's svg.
 */
export async function hoverCharts(page: Page): Promise<void> {
  const charts = page.locator(`${VISIBLE_PANEL} .jp-RenderedPlotly`);
  const n = await charts.count();
  for (let i = 0; i < n; i++) {
    const chart = charts.nth(i);
    await chart.scrollIntoViewIfNeeded({ timeout: 10_000 }).catch(() => undefined);
    await chart.hover({ timeout: 10_000 }).catch(() => undefined);
    await chart.locator("svg.main-svg").first().waitFor({ state: "visible", timeout: 30_000 }).catch(() => undefined);
  }
}

/** Charts of the current notebook: plotly outputs in the model, and how the page shows them. */
export async function chartState(page: Page): Promise<{ inModel: number; drawnLive: number; staticPictures: number; htmlScriptsRan: number }> {
  return page.evaluate((sel) => {
    const panel = document.querySelector(sel) ?? document;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const cells: any[] = (window as any).jupyterapp.shell.currentWidget.content.widgets;
    const inModel = cells.reduce(
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (n, w) => n + (w.model.type === "code" ? w.model.outputs.toJSON().filter((o: any) => o.data?.["application/vnd.plotly.v1+json"]).length : 0),
      0,
    );
    // (No named helper functions in here: tsx would wrap them in a __name() call that the page does not have.)
    const rendered = Array.from(panel.querySelectorAll(".jp-RenderedPlotly"));
    return {
      inModel,
      drawnLive: rendered.filter((r) => {
        const c = r.querySelector<HTMLElement>(".plot-container");
        return !!c && c.style.display !== "none" && c.offsetParent !== null && !!r.querySelector("svg.main-svg");
      }).length,
      staticPictures: Array.from(panel.querySelectorAll<HTMLImageElement>(".jp-RenderedPlotly img.plot-img, img.cnn-plot-static"))
        .filter((i) => i.style.display !== "none" && i.offsetParent !== null && i.complete && i.naturalWidth > 0).length,
      htmlScriptsRan: panel.querySelectorAll(".cnn-plot .cnn-plot-live.js-plotly-plot").length,
    };
  }, VISIBLE_PANEL);
}
