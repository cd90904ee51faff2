/**
 * Evaluating a trained classifier: predicted classes, accuracy, a confusion matrix, per-class precision, recall
 * and F1, and a results table of several trained models.
 *
 *   const predicted = await predictClasses(model, data.test);          // Int32Array of class indices
 *   const acc = accuracyOf(predicted, data.test.labels);
 *   const matrix = confusionMatrix(data.test.labels, predicted, 10);    // rows: true class, columns: predicted
 *   classScoresTable(classScores(matrix, data.classNames));             // text table, one row per class
 *
 * Undefined scores: precision is TP / (TP + FP), which is 0/0 for a class the model never predicts; recall is
 * TP / (TP + FN), 0/0 for a class absent from the labels. Such values are `null` in the data (not 0, which would
 * claim a measurement) and "n/a" in the text tables. F1 is computed as 2TP / (2TP + FP + FN), so it is 0, not
 * undefined, for a class that occurs but is never predicted, and `null` only when the class is neither present
 * nor predicted.
 */
import * as tf from "@tensorflow/tfjs";
import { inspect } from "util";
import type { ImageSplit } from "./data/images";
import { batches } from "./data/images";

export interface PredictOptions {
  /** Images per forward pass (bounds the memory used). Default 256. */
  batchSize?: number;
}

function isImageSplit(v: unknown): v is ImageSplit {
  return !!v && typeof v === "object" && (v as ImageSplit).images instanceof Uint8Array && typeof (v as ImageSplit).count === "number";
}

function argmaxRows(logits: tf.Tensor, where: string): Int32Array {
  if (logits.rank !== 2) {
    throw new Error(`${where}: the model's output has shape [${logits.shape}]; expected [batch, numClasses] (one score per class).`);
  }
  return tf.tidy(() => tf.argMax(logits, -1).dataSync() as Int32Array);
}

/**
 * The class each image is predicted to be (argmax of the model's outputs; logits or probabilities alike), computed
 * batch by batch so memory stays bounded. `images` is a tensor [n, h, w, c] already scaled as the model expects, or
 * a split from lib/data (uint8 pixels, scaled to 0..1 one batch at a time).
 */
export async function predictClasses(model: tf.LayersModel, images: tf.Tensor | ImageSplit, opts: PredictOptions = {}): Promise<Int32Array> {
  const batchSize = opts.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`predictClasses: batchSize must be a positive integer, got ${batchSize}.`);
  const parts: Int32Array[] = [];
  if (isImageSplit(images)) {
    for (const { xs, ys } of batches(images, batchSize)) {
      const logits = model.predict(xs) as tf.Tensor;
      try {
        parts.push(argmaxRows(logits, "predictClasses"));
      } finally {
        tf.dispose([xs, ys, logits]);
      }
      await new Promise((resolve) => setImmediate(resolve)); // lets a notebook show output during long runs
    }
  } else if (images instanceof tf.Tensor) {
    if (images.rank < 2) throw new Error(`predictClasses: expected a batch of images [n, h, w, c], got shape [${images.shape}].`);
    const n = images.shape[0];
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const logits = tf.tidy(() => model.predict(tf.slice(images, start, size)) as tf.Tensor);
      try {
        parts.push(argmaxRows(logits, "predictClasses"));
      } finally {
        logits.dispose();
      }
    }
  } else {
    throw new TypeError("predictClasses: pass a tensor of images [n, h, w, c] or a split from lib/data (e.g. data.test).");
  }
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Class indices from an array, a typed array or a 1-D int tensor. */
export function toClassArray(values: ArrayLike<number> | tf.Tensor, what: string): Int32Array {
  if (values instanceof tf.Tensor) {
    if (values.rank !== 1) throw new Error(`${what}: expected a 1-D tensor of class indices, got shape [${values.shape}] (argMax one-hot rows first).`);
    return Int32Array.from(values.dataSync());
  }
  if (values == null || typeof (values as ArrayLike<number>).length !== "number") {
    throw new TypeError(`${what}: expected an array of class indices.`);
  }
  return Int32Array.from(values);
}

function samePair(labels: ArrayLike<number> | tf.Tensor, predicted: ArrayLike<number> | tf.Tensor): [Int32Array, Int32Array] {
  const y = toClassArray(labels, "labels");
  const p = toClassArray(predicted, "predicted");
  if (y.length !== p.length) throw new Error(`${y.length} labels but ${p.length} predictions; give one prediction per label.`);
  if (y.length === 0) throw new Error("No labels given: there is nothing to evaluate.");
  return [y, p];
}

/** Fraction of predictions equal to the labels. */
export function accuracyOf(predicted: ArrayLike<number> | tf.Tensor, labels: ArrayLike<number> | tf.Tensor): number {
  const [y, p] = samePair(labels, predicted);
  let correct = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === p[i]) correct++;
  return correct / y.length;
}

/**
 * Counts of (true class, predicted class) pairs: matrix[t][p] is how many images of class t were predicted as p.
 * The diagonal holds the correct predictions.
 */
export function confusionMatrix(labels: ArrayLike<number> | tf.Tensor, predicted: ArrayLike<number> | tf.Tensor, numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new Error(`confusionMatrix: numClasses must be a positive integer, got ${numClasses}.`);
  const [y, p] = samePair(labels, predicted);
  const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < y.length; i++) {
    for (const [v, what] of [[y[i], "label"], [p[i], "prediction"]] as const) {
      if (!(v >= 0 && v < numClasses)) throw new RangeError(`confusionMatrix: ${what} ${i} is ${v}, outside 0..${numClasses - 1}; is numClasses right?`);
    }
    matrix[y[i]][p[i]]++;
  }
  return matrix;
}

export interface ClassScore {
  className: string;
  /** TP / (TP + FP): of the images predicted as this class, the fraction that are. null when never predicted. */
  precision: number | null;
  /** TP / (TP + FN): of the images of this class, the fraction found. null when the class has no images. */
  recall: number | null;
  /** 2TP / (2TP + FP + FN), the harmonic mean of precision and recall. null when neither present nor predicted. */
  f1: number | null;
  /** Images of this class (row sum). */
  support: number;
  /** Images predicted as this class (column sum). */
  predictedCount: number;
}

function checkSquare(matrix: number[][], where: string): number {
  const n = Array.isArray(matrix) ? matrix.length : 0;
  if (n === 0 || !matrix.every((row) => Array.isArray(row) && row.length === n)) {
    throw new Error(`${where}: expected a square confusion matrix (number[][]) like confusionMatrix() returns.`);
  }
  return n;
}

/** Per-class precision, recall and F1 from a confusion matrix (rows true, columns predicted). */
export function classScores(matrix: number[][], classNames?: string[]): ClassScore[] {
  const n = checkSquare(matrix, "classScores");
  if (classNames && classNames.length !== n) throw new Error(`classScores: ${n} classes in the matrix but ${classNames.length} class names.`);
  return matrix.map((row, k) => {
    const tp = row[k];
    const support = row.reduce((a, b) => a + b, 0);
    const predictedCount = matrix.reduce((s, r) => s + r[k], 0);
    const fp = predictedCount - tp;
    const fn = support - tp;
    return {
      className: classNames?.[k] ?? String(k),
      precision: predictedCount === 0 ? null : tp / predictedCount,
      recall: support === 0 ? null : tp / support,
      f1: 2 * tp + fp + fn === 0 ? null : (2 * tp) / (2 * tp + fp + fn),
      support,
      predictedCount,
    };
  });
}

const pct = (x: number | null | undefined, digits = 1): string => (x == null ? "n/a" : `${(100 * x).toFixed(digits)}%`);

/** A text table of classScores, one row per class, "n/a" where a score is undefined (see the module comment). */
export function classScoresTable(scores: ClassScore[]): string {
  const width = Math.max(5, ...scores.map((s) => s.className.length));
  const head = `${"class".padEnd(width)}  precision  recall      F1  images  predicted`;
  const rows = scores.map((s) =>
    `${s.className.padEnd(width)}  ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}  ${pct(s.f1).padStart(6)}  ` +
    `${String(s.support).padStart(6)}  ${String(s.predictedCount).padStart(9)}`);
  const notes: string[] = [];
  if (scores.some((s) => s.precision === null)) notes.push("precision n/a: the model never predicted that class (0 of 0).");
  if (scores.some((s) => s.recall === null)) notes.push("recall n/a: no image of that class in the labels (0 of 0).");
  return [head, ...rows, ...notes].join("\n");
}

/** One trained model's results, for resultsTable. Accuracies are fractions 0..1. */
export interface ModelResult {
  name: string;
  epochs: number;
  /** Training images used. */
  images: number;
  /** Training time in seconds. */
  seconds: number;
  bestValAccuracy?: number;
  finalValAccuracy?: number;
  testAccuracy?: number;
  /** The original course's figure for this model, as text ("73.0% after 10 epochs"). */
  course?: string;
}

/** The part of lib/train's history a result needs. */
export interface HistoryLike {
  history: { val_accuracy?: ArrayLike<number>; loss?: ArrayLike<number> };
  seconds?: number;
}

/**
 * A ModelResult from a training history (epochs, seconds, best and final validation accuracy) plus what the
 * history does not know: training images, test accuracy, the course's figure.
 */
export function modelResult(name: string, run: HistoryLike, extra: { images: number; testAccuracy?: number; course?: string; seconds?: number }): ModelResult {
  if (!run || typeof run !== "object" || !run.history) throw new TypeError(`modelResult("${name}"): pass the history that train() returned.`);
  const val = run.history.val_accuracy ? Array.from(run.history.val_accuracy) : [];
  const epochs = Math.max(val.length, run.history.loss?.length ?? 0);
  const seconds = extra.seconds ?? run.seconds;
  if (seconds === undefined) throw new Error(`modelResult("${name}"): the history has no seconds; pass {seconds} (lib/train's histories have it).`);
  return {
    name, epochs, images: extra.images, seconds,
    bestValAccuracy: val.length ? Math.max(...val) : undefined,
    finalValAccuracy: val.length ? val[val.length - 1] : undefined,
    testAccuracy: extra.testAccuracy, course: extra.course,
  };
}

/** What resultsTable returns: the rows as data, and the same as text (shown when it is a cell's last value). */
export interface ResultsTable {
  rows: ModelResult[];
  text: string;
}

function formatSeconds(s: number): string {
  return s < 90 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`;
}

/**
 * A table of trained models: name, epochs, training images, time, best and final validation accuracy, test
 * accuracy and (when any row has one) the original course's figure. Returns {rows, text}; as the last value of a
 * notebook cell it prints as the text table.
 */
export function resultsTable(results: ModelResult[]): ResultsTable {
  if (!Array.isArray(results) || results.length === 0) throw new Error("resultsTable: pass an array of results, e.g. [modelResult(\"baseline\", history, {images: 5000})].");
  const header = ["model", "epochs", "images", "time", "best val acc", "final val acc", "test acc"];
  const withCourse = results.some((r) => r.course);
  if (withCourse) header.push("original course");
  const cells = results.map((r) => {
    const row = [r.name, String(r.epochs), r.images.toLocaleString("en-US"), formatSeconds(r.seconds),
      pct(r.bestValAccuracy), pct(r.finalValAccuracy), pct(r.testAccuracy)];
    if (withCourse) row.push(r.course ?? "");
    return row;
  });
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((v, c) => (c === 0 || c === 7 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join("  ").trimEnd();
  const text = [line(header), ...cells.map(line)].join("\n");
  const table: ResultsTable = { rows: results.map((r) => ({ ...r })), text };
  Object.defineProperty(table, inspect.custom, { value: () => text, enumerable: false });
  Object.defineProperty(table, "toString", { value: () => text, enumerable: false });
  return table;
}
