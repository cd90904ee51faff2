/**
 * The plotly figure shape used across the course. We keep our own small types instead of depending on
 * @types/plotly.js: lessons only build plain JSON objects, and plotly itself validates them in the browser.
 */

/** One plotly trace (scatter, heatmap, image, ...): plain JSON, passed to Plotly.newPlot unchanged. */
export interface Trace {
  type?: string;
  name?: string;
  [key: string]: unknown;
}

/** Plotly layout: title, axes, size, annotations... */
export interface Layout {
  title?: string | { text: string; [key: string]: unknown };
  width?: number;
  height?: number;
  [key: string]: unknown;
}

/** A plotly figure: what `Plotly.newPlot(div, data, layout, config)` takes. */
export interface Figure {
  data: Trace[];
  layout?: Layout;
  config?: Record<string, unknown>;
}

/** Throws a helpful error when `fig` is not a plotly figure (a common slip: passing a trace or an array). */
export function assertFigure(fig: unknown): asserts fig is Figure {
  if (fig === null || typeof fig !== "object" || Array.isArray(fig)) {
    throw new TypeError(
      `showFigure expects a figure object {data: [...traces], layout?: {...}}, got ${Array.isArray(fig) ? "an array" : typeof fig}. ` +
        `Wrap traces like this: showFigure({ data: [trace1, trace2], layout: { title: "..." } }).`,
    );
  }
  const data = (fig as { data?: unknown }).data;
  if (!Array.isArray(data)) {
    throw new TypeError(
      `The figure has no "data" array of traces (keys: ${Object.keys(fig).join(", ") || "none"}). ` +
        `Pass {data: [{x, y, type: "scatter"}], layout: {...}}.`,
    );
  }
  data.forEach((t, i) => {
    if (t === null || typeof t !== "object" || Array.isArray(t)) {
      throw new TypeError(`Trace ${i} of the figure is not an object; each trace is like {x: [...], y: [...], type: "scatter"}.`);
    }
  });
}

/** The figure's title text, whether given as a string or as {text}. */
export function titleText(layout: Layout | undefined): string | undefined {
  const t = layout?.title;
  return typeof t === "string" ? t : t?.text;
}

/**
 * plotly.js 3 dropped the `title: "text"` shorthand (it silently draws no title). Returns a copy of the figure
 * with string titles of the layout, its axes and colour bars turned into `{text}`.
 */
export function normalizeTitles(fig: Figure): Figure {
  const fix = (obj: Record<string, unknown> | undefined): Record<string, unknown> | undefined => {
    if (!obj || typeof obj !== "object") return obj;
    const copy: Record<string, unknown> = { ...obj };
    if (typeof copy.title === "string") copy.title = { text: copy.title };
    return copy;
  };
  const layout = fix(fig.layout) as Layout | undefined;
  if (layout) {
    for (const key of Object.keys(layout)) {
      if (/^[xy]axis\d*$/.test(key)) layout[key] = fix(layout[key] as Record<string, unknown>);
    }
  }
  const data = fig.data.map((t) =>
    t.colorbar && typeof t.colorbar === "object" ? { ...t, colorbar: fix(t.colorbar as Record<string, unknown>) } : t,
  );
  return { ...fig, data, ...(layout ? { layout } : {}) };
}
