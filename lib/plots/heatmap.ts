/** A confusion matrix as a plotly heat map: true classes down, predicted classes across, counts in the cells. */
import { Figure, Layout, Trace } from "./figure";
import { showFigure, ShowOptions } from "./show";

/** White for 0 through to dark blue for the largest count (plotly's own "Blues" runs the other way, dark to light). */
export const WHITE_TO_BLUE: [number, string][] = [[0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1, "#08306b"]];

export interface ConfusionHeatmapOptions extends ShowOptions {
  title?: string;
  /**
   * Colour each cell by its share of the true class's images (the row), and write that share as a percentage under
   * the count. Rows then compare fairly when classes have different numbers of images; the diagonal is each class's
   * recall. Default false: colour by count.
   */
  normalize?: boolean;
  /** Displayed size of one cell in pixels. Default 48 (smaller for many classes). */
  cellSize?: number;
}

/**
 * Draws `matrix[t][p]` (how many images of true class t were predicted as p, as lib/evaluate's confusionMatrix
 * returns) with class names on both axes; the first class is at the top left, the diagonal holds correct answers.
 */
export function confusionHeatmap(matrix: number[][], classNames?: string[], opts: ConfusionHeatmapOptions = {}): Figure {
  const n = Array.isArray(matrix) ? matrix.length : 0;
  if (n === 0 || !matrix.every((row) => Array.isArray(row) && row.length === n)) {
    throw new Error("confusionHeatmap: expected a square confusion matrix (number[][]), e.g. confusionMatrix(labels, predicted, numClasses).");
  }
  const names = classNames ?? Array.from({ length: n }, (_, i) => String(i));
  if (names.length !== n) throw new Error(`confusionHeatmap: ${n} classes in the matrix but ${names.length} class names.`);
  if (new Set(names).size !== n) throw new Error("confusionHeatmap: class names must be different (plotly merges equal axis labels).");
  const rowSums = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const share = matrix.map((row, t) => row.map((v) => (rowSums[t] ? v / rowSums[t] : 0)));
  const text = matrix.map((row, t) => row.map((v, p) => (opts.normalize ? `${v}<br>${(100 * share[t][p]).toFixed(0)}%` : String(v))));
  const trace: Trace = {
    type: "heatmap",
    name: "confusion matrix",
    z: opts.normalize ? share : matrix.map((row) => [...row]),
    x: [...names],
    y: [...names],
    text,
    texttemplate: "%{text}",
    colorscale: WHITE_TO_BLUE,
    zmin: 0,
    ...(opts.normalize ? { zmax: 1 } : {}),
    colorbar: { title: { text: opts.normalize ? "share of true class" : "images" } },
    hovertemplate: "true %{y}<br>predicted %{x}<br>%{text}<extra></extra>",
  };
  const cell = opts.cellSize ?? (n > 12 ? 32 : 48);
  const longest = Math.max(...names.map((s) => s.length));
  const margin = { l: 40 + 7 * longest, r: 40, t: 70, b: 50 + 6 * longest };
  const layout: Layout = {
    title: { text: opts.title ?? "Confusion matrix" },
    width: n * cell + margin.l + margin.r + 90,
    height: n * cell + margin.t + margin.b,
    margin,
    xaxis: { title: { text: "predicted class" }, type: "category", tickangle: -45, side: "bottom", constrain: "domain" },
    yaxis: { title: { text: "true class" }, type: "category", autorange: "reversed", scaleanchor: "x", constrain: "domain" },
  };
  return showFigure({ data: [trace], layout }, opts);
}
