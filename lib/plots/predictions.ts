/** A grid of test images titled with the predicted and the true class; wrong predictions in red with a red frame. */
import { Figure } from "./figure";
import { ImageLike, imageGrid, Pixels, TensorLike, toImageList } from "./images";
import { showFigure, ShowOptions } from "./show";

/** A split from lib/data (uint8 NHWC pixels); declared here so lib/plot does not load tfjs. */
export interface PixelSplit {
  images: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface PredictionGridOptions extends ShowOptions {
  /** Show at most this many images. Default 16. */
  max?: number;
  /** Show only the wrong predictions. Default false. */
  onlyWrong?: boolean;
  /** Images per row. Default 4. */
  cols?: number;
  title?: string;
  /** Displayed size of one image in pixels. Default 120. */
  cellSize?: number;
}

const WRONG = "#d62728";

function isPixelSplit(v: unknown): v is PixelSplit {
  return !!v && typeof v === "object" && (v as PixelSplit).images instanceof Uint8Array && typeof (v as PixelSplit).count === "number";
}

/** Image i of a split as a tensor-like lib/plot can read (no copy of the other images). */
function splitImage(split: PixelSplit, i: number): TensorLike {
  const { height, width, channels } = split;
  const size = height * width * channels;
  return { shape: [height, width, channels], dtype: "int32", dataSync: () => split.images.subarray(i * size, (i + 1) * size) };
}

function asTensorLike(p: Pixels): TensorLike {
  return { shape: [p.height, p.width, p.channels], dtype: p.integer ? "int32" : "float32", dataSync: () => p.values };
}

/**
 * predictionGrid(data.test, predicted, data.test.labels, data.classNames): the first images, each titled
 * "predicted (true)" when right and "✗ predicted (true: ...)" in red, framed in red, when wrong. `images` is a split
 * from lib/data, a tensor [n, h, w, c] (0..255 or 0..1) or an array of images, in the same order as the labels.
 */
export function predictionGrid(
  images: PixelSplit | ImageLike | ImageLike[],
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  classNames: string[],
  opts: PredictionGridOptions = {},
): Figure {
  if (predicted.length !== labels.length) {
    throw new Error(`predictionGrid: ${predicted.length} predictions but ${labels.length} labels; give one of each per image.`);
  }
  const nameOf = (k: number): string => {
    if (classNames[k] === undefined) throw new RangeError(`predictionGrid: class ${k} has no name (${classNames.length} class names given).`);
    return classNames[k];
  };
  const list = isPixelSplit(images) ? undefined : toImageList(images, "predictionGrid").map(asTensorLike);
  const count = list ? list.length : (images as PixelSplit).count;
  if (count < labels.length) throw new Error(`predictionGrid: ${labels.length} labels but only ${count} images.`);
  const imageAt = (i: number): TensorLike => (list ? list[i] : splitImage(images as PixelSplit, i));
  const max = opts.max ?? 16;
  const chosen: number[] = [];
  for (let i = 0; i < labels.length && chosen.length < max; i++) {
    if (!opts.onlyWrong || predicted[i] !== labels[i]) chosen.push(i);
  }
  if (chosen.length === 0) throw new Error(opts.onlyWrong ? "predictionGrid: no wrong predictions to show." : "predictionGrid: no images given.");
  const wrong = chosen.map((i) => predicted[i] !== labels[i]);
  const titles = chosen.map((i, k) => (wrong[k] ? `✗ ${nameOf(predicted[i])} (true: ${nameOf(labels[i])})` : `${nameOf(predicted[i])} (${nameOf(labels[i])})`));
  const mistakes = wrong.filter(Boolean).length;
  const shown = chosen.map(imageAt);
  const fig = imageGrid(shown, titles, {
    cols: opts.cols, cellSize: opts.cellSize, show: false,
    title: opts.title ?? `Predicted (true) class: ${mistakes} of ${chosen.length} wrong, marked ✗ in red`,
  });
  const layout = fig.layout!;
  const annotations = layout.annotations as { font?: Record<string, unknown> }[];
  const shapes: object[] = [];
  wrong.forEach((isWrong, k) => {
    if (!isWrong) return;
    annotations[k].font = { ...(annotations[k].font ?? {}), color: WRONG };
    const a = k === 0 ? "" : String(k + 1);
    // A frame in the image's own axis units, so it follows the image however plotly fits the panel.
    const [height, width] = shown[k].shape;
    shapes.push({ type: "rect", xref: "x" + a, yref: "y" + a, x0: -0.5, x1: width - 0.5, y0: -0.5, y1: height - 0.5,
      line: { color: WRONG, width: 3 } });
  });
  layout.shapes = shapes;
  return showFigure(fig, opts); // imageGrid did not show it: the marks come after
}
