/**
 * The in-memory form every image loader returns, and the small steps lessons take to turn it into tensors.
 *
 * Pixels stay as compact uint8 (0..255) NHWC arrays until a lesson asks for a tensor; scaling to 0..1 is a
 * separate, visible step (`scaleTo01`) because the lessons teach it.
 */
import * as tf from "@tensorflow/tfjs";
import { mulberry32, permutation } from "../random";

/** One split (train or test) of an image classification dataset. */
export interface ImageSplit {
  /** Pixels 0..255, NHWC, row-major: image i starts at i * height * width * channels. */
  images: Uint8Array;
  /** Class index per image. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

export interface ImageDataset {
  classNames: string[];
  train: ImageSplit;
  test: ImageSplit;
}

export interface SubsetOptions {
  /** Keep only this many training images (default: all). */
  trainCount?: number;
  /** Keep only this many test images (default: all). */
  testCount?: number;
  /** "first": the first N in file order (default); "stratified": a seeded subset with classes in proportion. */
  subset?: "first" | "stratified";
  /** Seed for the stratified subset (default 42). */
  seed?: number;
}

/** Fisher-Yates shuffle of 0..n-1 with a seed (lib/random's generator, so data and training draw alike). */
export function seededPermutation(n: number, seed: number): number[] {
  return permutation(n, mulberry32(seed));
}

/** A new split holding the given images, in the given order. */
export function selectImages(split: ImageSplit, indices: ArrayLike<number>): ImageSplit {
  const size = split.height * split.width * split.channels;
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k];
    if (i < 0 || i >= split.count) throw new RangeError(`image index ${i} is outside 0..${split.count - 1}`);
    images.set(split.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = split.labels[i];
  }
  return { ...split, images, labels, count: indices.length };
}

/** The first `n` images. */
export function firstImages(split: ImageSplit, n: number): ImageSplit {
  return n >= split.count ? split : selectImages(split, Array.from({ length: n }, (_, i) => i));
}

/**
 * A seeded subset of `n` images whose class proportions match the full split (largest remainders get the extra
 * images); kept in file order.
 */
export function stratifiedIndices(labels: Int32Array, n: number, seed: number): number[] {
  if (n >= labels.length) return Array.from({ length: labels.length }, (_, i) => i);
  const byClass = new Map<number, number[]>();
  labels.forEach((c, i) => {
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b);
  const exact = classes.map((c) => (byClass.get(c)!.length * n) / labels.length);
  const take = exact.map(Math.floor);
  let left = n - take.reduce((a, b) => a + b, 0);
  const order = classes.map((_, k) => k).sort((a, b) => exact[b] - take[b] - (exact[a] - take[a]) || a - b);
  for (const k of order) {
    if (left <= 0) break;
    take[k]++;
    left--;
  }
  const chosen: number[] = [];
  classes.forEach((c, k) => {
    const members = byClass.get(c)!;
    const perm = seededPermutation(members.length, seed + c * 7919);
    for (let j = 0; j < take[k]; j++) chosen.push(members[perm[j]]);
  });
  return chosen.sort((a, b) => a - b);
}

export function subsetSplit(split: ImageSplit, n: number | undefined, mode: "first" | "stratified" = "first", seed = 42): ImageSplit {
  if (n === undefined || n >= split.count) return split;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`subset size must be a positive integer, got ${n}`);
  return mode === "stratified" ? selectImages(split, stratifiedIndices(split.labels, n, seed)) : firstImages(split, n);
}

/** Apply SubsetOptions to a whole dataset. */
export function subsetDataset<T extends ImageDataset>(ds: T, opts: SubsetOptions = {}): T {
  return {
    ...ds,
    train: subsetSplit(ds.train, opts.trainCount, opts.subset, opts.seed),
    test: subsetSplit(ds.test, opts.testCount, opts.subset, opts.seed),
  };
}

/**
 * Images [start, end) as a 4-D tensor of raw pixel values 0..255 (float32 by default, or int32).
 * tfjs has no uint8 tensors; call `scaleTo01` afterwards to get 0..1 inputs.
 */
export function imagesToTensor(split: ImageSplit, opts: { start?: number; end?: number; dtype?: "float32" | "int32" } = {}): tf.Tensor4D {
  const start = opts.start ?? 0;
  const end = Math.min(opts.end ?? split.count, split.count);
  const size = split.height * split.width * split.channels;
  const pixels = split.images.subarray(start * size, end * size);
  const values = opts.dtype === "int32" ? Int32Array.from(pixels) : Float32Array.from(pixels);
  return tf.tensor4d(values, [end - start, split.height, split.width, split.channels], opts.dtype ?? "float32");
}

/** Labels [start, end) as an int32 tensor of class indices. */
export function labelsToTensor(split: ImageSplit, opts: { start?: number; end?: number } = {}): tf.Tensor1D {
  return tf.tensor1d(split.labels.subarray(opts.start ?? 0, opts.end ?? split.count), "int32");
}

/** Labels as one-hot float32 rows (for categorical cross-entropy). */
export function oneHotLabels(split: ImageSplit, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.oneHot(labelsToTensor(split), numClasses).toFloat() as tf.Tensor2D);
}

/** Pixel values 0..255 -> 0..1 (divide by 255). */
export function scaleTo01<T extends tf.Tensor>(pixels: T): T {
  return tf.tidy(() => tf.div(tf.cast(pixels, "float32"), 255) as T);
}

/**
 * Iterate over a split in batches of tensors scaled to 0..1, so a large dataset (CIFAR-10 train is 50,000 images)
 * never has to sit in memory as float32 all at once. Dispose each batch after use.
 */
export function* batches(split: ImageSplit, batchSize: number): Generator<{ xs: tf.Tensor4D; ys: tf.Tensor1D }> {
  for (let start = 0; start < split.count; start += batchSize) {
    const end = Math.min(start + batchSize, split.count);
    const raw = imagesToTensor(split, { start, end });
    const xs = scaleTo01(raw);
    raw.dispose();
    yield { xs, ys: labelsToTensor(split, { start, end }) };
  }
}

/** Count how many images each class has. */
export function classCounts(split: ImageSplit, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const l of split.labels) counts[l]++;
  return counts;
}
