/** Line-chart helpers for training curves and hyper-parameter sweeps. */
import { Figure, Layout, Trace } from "./figure";
import { showFigure, ShowOptions } from "./show";

/** plotly's default colour cycle, so a model keeps one colour for its training and validation curves. */
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/**
 * A training history: what tfjs `model.fit` returns (`{epoch, history}`) or the course's saved form
 * (`{epochs, history}`); `history` maps a metric name (loss, accuracy, val_loss, ...) to one value per epoch.
 */
export interface TrainingHistory {
  epochs?: number[];
  epoch?: number[];
  history: Record<string, ArrayLike<number>>;
}

const pretty = (metric: string): string => metric.replace(/_/g, " ");

/** Epoch axis: whole-number ticks (a 2-epoch run must not show 1.2, 1.4, ...). */
function epochAxisLayout(epochs: number): Record<string, unknown> {
  return { title: { text: "epoch" }, ...(epochs <= 12 ? { dtick: 1 } : {}) };
}

/** x values for a history: tfjs numbers epochs from 0, charts count from 1. */
function epochAxis(h: TrainingHistory, n: number): number[] {
  const given = h.epochs ?? h.epoch;
  if (given && given.length === n) return given[0] === 0 ? given.map((e) => e + 1) : Array.from(given);
  return Array.from({ length: n }, (_, i) => i + 1);
}

function series(h: TrainingHistory, metric: string, where: string): number[] {
  if (!h || typeof h !== "object" || !h.history || typeof h.history !== "object") {
    throw new TypeError(`${where}: expected a training history {epochs, history: {loss: [...], ...}} (what model.fit returns).`);
  }
  const values = h.history[metric];
  if (!values) {
    throw new Error(
      `${where}: the history has no "${metric}" values; it has ${Object.keys(h.history).join(", ") || "nothing"}. ` +
        `Compile the model with metrics: ["accuracy"] and pass validationData (or validationSplit) to fit for val_* values.`,
    );
  }
  return Array.from(values, Number);
}

export interface HistoryOptions extends ShowOptions {
  /** Metrics to draw, one panel each, with their val_ counterpart when present. Default ["accuracy", "loss"]. */
  metrics?: string[];
  title?: string;
}

/** Training curves of one model: one panel per metric, training and validation on the same panel. */
export function plotHistory(history: TrainingHistory, opts: HistoryOptions = {}): Figure {
  const metrics = opts.metrics ?? ["accuracy", "loss"];
  if (metrics.length === 0) throw new Error("plotHistory: metrics is empty; pass e.g. {metrics: ['accuracy', 'loss']}.");
  const data: Trace[] = [];
  const layout: Layout = { title: { text: opts.title ?? "Training history" }, height: 380, annotations: [] };
  const gap = 0.08;
  const width = (1 - gap * (metrics.length - 1)) / metrics.length;
  metrics.forEach((metric, i) => {
    const suffix = i === 0 ? "" : String(i + 1);
    const y = series(history, metric, "plotHistory");
    const x = epochAxis(history, y.length);
    const xa = "x" + suffix;
    const ya = "y" + suffix;
    data.push({ type: "scatter", mode: "lines+markers", name: `training ${pretty(metric)}`, x, y, xaxis: xa, yaxis: ya,
      line: { color: PALETTE[0] }, legendgroup: "training" });
    const val = history.history["val_" + metric];
    if (val) {
      data.push({ type: "scatter", mode: "lines+markers", name: `validation ${pretty(metric)}`, x: epochAxis(history, val.length),
        y: Array.from(val, Number), xaxis: xa, yaxis: ya, line: { color: PALETTE[1] }, legendgroup: "validation" });
    }
    const left = i * (width + gap);
    layout["xaxis" + suffix] = { ...epochAxisLayout(x.length), domain: [left, left + width], anchor: ya };
    layout["yaxis" + suffix] = { title: { text: pretty(metric) }, anchor: xa };
    (layout.annotations as object[]).push({ text: `<b>${pretty(metric)}</b>`, x: left + width / 2, y: 1.0, xref: "paper",
      yref: "paper", xanchor: "center", yanchor: "bottom", showarrow: false });
  });
  return showFigure({ data, layout }, opts);
}

export interface HistoriesOptions extends ShowOptions {
  /** Metric to compare. Default "loss". */
  metric?: string;
  /** Also draw the training curve (dashed) next to validation (solid). Default true. */
  training?: boolean;
  title?: string;
}

/**
 * Compares several models on one chart, e.g. {"no dropout": h1, "dropout 0.5": h2}: validation as solid lines,
 * training as dashed lines of the same colour, so the gap between them (overfitting) is easy to see.
 */
export function plotHistories(histories: Record<string, TrainingHistory>, opts: HistoriesOptions = {}): Figure {
  const metric = opts.metric ?? "loss";
  const names = Object.keys(histories ?? {});
  if (names.length === 0) throw new Error('plotHistories: pass at least one named history, e.g. {"baseline": history}.');
  const data: Trace[] = [];
  names.forEach((name, i) => {
    const h = histories[name];
    const color = PALETTE[i % PALETTE.length];
    if (opts.training !== false) {
      const y = series(h, metric, `plotHistories("${name}")`);
      data.push({ type: "scatter", mode: "lines", name: `${name}: training`, x: epochAxis(h, y.length), y,
        line: { color, dash: "dash" }, legendgroup: name });
    }
    const vy = series(h, "val_" + metric, `plotHistories("${name}")`);
    data.push({ type: "scatter", mode: "lines+markers", name: `${name}: validation`, x: epochAxis(h, vy.length), y: vy,
      line: { color }, legendgroup: name });
  });
  const layout: Layout = {
    title: { text: opts.title ?? `${pretty(metric)}: training (dashed) vs validation (solid)` },
    height: 420,
    xaxis: epochAxisLayout(Math.max(...data.map((t) => (t.x as number[]).length))),
    yaxis: { title: { text: pretty(metric) } },
  };
  return showFigure({ data, layout }, opts);
}

export interface LineChartOptions extends ShowOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Draw the x axis on a log scale (e.g. learning rates). */
  logX?: boolean;
}

/**
 * One or more series against shared x values, e.g. lineChart(rates, {"validation loss": losses}, {...}).
 * `ys` is one series (array) or several named series.
 */
export function lineChart(x: ArrayLike<number | string>, ys: ArrayLike<number> | Record<string, ArrayLike<number>>, opts: LineChartOptions = {}): Figure {
  const xs = Array.from(x);
  const named: Record<string, ArrayLike<number>> = isArrayLike(ys) ? { [opts.yTitle ?? "y"]: ys } : ys;
  const names = Object.keys(named);
  if (names.length === 0) throw new Error("lineChart: no series given; pass an array of y values or {name: values}.");
  const data: Trace[] = names.map((name, i) => {
    const y = Array.from(named[name], Number);
    if (y.length !== xs.length) {
      throw new Error(`lineChart: series "${name}" has ${y.length} values but x has ${xs.length}; give one y per x.`);
    }
    return { type: "scatter", mode: "lines+markers", name, x: xs, y, line: { color: PALETTE[i % PALETTE.length] } };
  });
  const layout: Layout = {
    title: { text: opts.title ?? "" },
    height: 400,
    showlegend: names.length > 1,
    xaxis: { title: { text: opts.xTitle ?? "" }, ...(opts.logX ? { type: "log" } : {}) },
    yaxis: { title: { text: opts.yTitle ?? "" } },
  };
  return showFigure({ data, layout }, opts);
}

function isArrayLike(v: unknown): v is ArrayLike<number> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}
