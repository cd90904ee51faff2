/**
 * A Keras-like model summary: one row per layer (name (type), output shape, parameter count), then totals with
 * their memory size ("Total params: 514,510 (1.96 MB)"). summary() prints the table and also returns the numbers,
 * so notebooks can show values computed by code rather than typed by hand.
 */
import * as tf from "@tensorflow/tfjs";

export interface LayerSummary {
  /** Keras-style: "conv2d", "conv2d_1", ... for unnamed layers; a name given to the layer is kept. */
  name: string;
  /** The layer's class, e.g. "Conv2D". */
  type: string;
  /** Keras-style, e.g. "(None, 62, 62, 50)". */
  outputShape: string;
  params: number;
}

export interface ModelSummary {
  name: string;
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  totalBytes: number;
  trainableBytes: number;
  nonTrainableBytes: number;
  /** The printed table. */
  text: string;
}

export interface SummaryOptions {
  /** Print the table (console.log). Default true. */
  print?: boolean;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, string: 0 };

/** 1823960 -> "1,823,960". */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Sizes the way Keras prints them: 2058040 -> "1.96 MB", 548240 -> "535.39 KB", 0 -> "0.00 B". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${units[unit]}`;
}

/** [null, 62, 62, 50] -> "(None, 62, 62, 50)"; several outputs are listed one after the other. */
export function formatShape(shape: tf.Shape | tf.Shape[]): string {
  const one = (s: tf.Shape) => `(${s.map((d) => (d === null ? "None" : String(d))).join(", ")}${s.length === 1 ? "," : ""})`;
  if (shape.length > 0 && Array.isArray(shape[0])) return (shape as tf.Shape[]).map(one).join(", ");
  return one(shape as tf.Shape);
}

function weightStats(weights: tf.LayerVariable[]): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const w of weights) {
    const n = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    count += n;
    bytes += n * (BYTES_PER_ELEMENT[w.dtype] ?? 4);
  }
  return { count, bytes };
}

/**
 * The name Keras would show. TensorFlow.js names an unnamed layer `<snake_case class>_<Class><global counter>`
 * ("conv2d_Conv2D3"); Keras shows "conv2d", "conv2d_1", ... numbered within the model. Names a learner chose are
 * kept as they are.
 */
function displayNames(layers: tf.layers.Layer[]): string[] {
  const counts = new Map<string, number>();
  return layers.map((layer) => {
    const cls = layer.getClassName();
    const auto = new RegExp(`^(.+)_${cls}\\d+$`).exec(layer.name);
    const base = auto ? auto[1] : cls === "InputLayer" && /^input\d+$/.test(layer.name) ? "input_layer" : null;
    if (base === null) return layer.name;
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  });
}

function pad(text: string, width: number): string {
  return text.length >= width ? text + " " : text.padEnd(width);
}

/** Summarize a model; prints the Keras-like table unless {print: false}. */
export function summary(model: tf.LayersModel, opts: SummaryOptions = {}): ModelSummary {
  if (!model || !Array.isArray(model.layers)) {
    throw new Error(`summary() needs a tf.LayersModel (e.g. from lib/models), got ${typeof model}.`);
  }
  const names = displayNames(model.layers);
  const layers: LayerSummary[] = model.layers.map((layer, i) => ({
    name: names[i],
    type: layer.getClassName(),
    outputShape: formatShape(layer.outputShape),
    params: layer.countParams(),
  }));
  const trainable = weightStats(model.trainableWeights);
  const nonTrainable = weightStats(model.nonTrainableWeights);

  const cols = [33, 26, 12];
  const width = cols.reduce((a, b) => a + b, 0);
  const lines = [
    `Model: "${model.name}"`,
    "_".repeat(width),
    " " + pad("Layer (type)", cols[0] - 1) + pad("Output Shape", cols[1]) + "Param #",
    "=".repeat(width),
    ...layers.map(
      (l) => " " + pad(`${l.name} (${l.type})`, cols[0] - 1) + pad(l.outputShape, cols[1]) + formatCount(l.params),
    ),
    "=".repeat(width),
    `Total params: ${formatCount(trainable.count + nonTrainable.count)} (${formatBytes(trainable.bytes + nonTrainable.bytes)})`,
    `Trainable params: ${formatCount(trainable.count)} (${formatBytes(trainable.bytes)})`,
    `Non-trainable params: ${formatCount(nonTrainable.count)} (${formatBytes(nonTrainable.bytes)})`,
    "_".repeat(width),
  ];
  const result: ModelSummary = {
    name: model.name,
    layers,
    totalParams: trainable.count + nonTrainable.count,
    trainableParams: trainable.count,
    nonTrainableParams: nonTrainable.count,
    totalBytes: trainable.bytes + nonTrainable.bytes,
    trainableBytes: trainable.bytes,
    nonTrainableBytes: nonTrainable.bytes,
    text: lines.join("\n"),
  };
  if (opts.print ?? true) console.log(result.text);
  return result;
}
