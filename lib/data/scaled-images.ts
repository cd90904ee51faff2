/**
 * Training images kept as bytes and scaled to 0..1 one batch at a time.
 *
 * All 50,000 CIFAR-10 training images take 154 MB as bytes but 614 MB as a float32 tensor, and on the wasm backend
 * a tensor that size also claims the same again of WebAssembly memory that is never given back. `scaledImages`
 * keeps the bytes and makes a small float32 tensor (pixel * scale) for each batch that train() and evaluate() ask
 * for, so memory stays flat whatever the number of images. It is an input for lib/train's train() and evaluate()
 * in place of an images tensor: `train(model, { x: scaledImages(ds.train), y: labelsToTensor(ds.train) }, ...)`.
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageSplit } from "./images";

export class ScaledImages {
  /** [images, height, width, channels], like a tensor's shape and rank. */
  readonly rank = 4;
  readonly shape: [number, number, number, number];
  private readonly size: number;

  constructor(
    readonly pixels: Uint8Array,
    shape: [number, number, number, number],
    /** Each byte is multiplied by this (1/255: 0..255 becomes 0..1). */
    readonly scale = 1 / 255,
  ) {
    this.shape = [...shape];
    this.size = shape[1] * shape[2] * shape[3];
    if (shape.some((d) => !Number.isInteger(d) || d < 1) || pixels.length !== shape[0] * this.size) {
      throw new Error(`ScaledImages: ${pixels.length} bytes do not make images of shape [${shape.join(", ")}].`);
    }
  }

  get count(): number {
    return this.shape[0];
  }

  /** The images at `indices` (any order, repeats allowed) as a float32 tensor of pixel * scale. */
  gather(indices: ArrayLike<number>): tf.Tensor4D {
    const out = new Float32Array(indices.length * this.size);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      if (!(i >= 0 && i < this.count)) throw new RangeError(`image index ${i} is outside 0..${this.count - 1}`);
      const from = i * this.size;
      const to = k * this.size;
      for (let p = 0; p < this.size; p++) out[to + p] = this.pixels[from + p] * this.scale;
    }
    return tf.tensor4d(out, [indices.length, this.shape[1], this.shape[2], this.shape[3]]);
  }

  /** Images [start, start + size) as a float32 tensor. */
  slice(start: number, size: number): tf.Tensor4D {
    return this.gather(Array.from({ length: Math.min(size, this.count - start) }, (_, k) => start + k));
  }

  /** Images [start, end) as another ScaledImages sharing the same bytes (no copy). */
  rows(start: number, end = this.count): ScaledImages {
    if (!(start >= 0 && end <= this.count && start < end)) throw new RangeError(`rows(${start}, ${end}) is outside 0..${this.count}`);
    return new ScaledImages(this.pixels.subarray(start * this.size, end * this.size), [end - start, this.shape[1], this.shape[2], this.shape[3]], this.scale);
  }

  /** All images as one float32 tensor (for small sets, e.g. to call model.predict). */
  toTensor(): tf.Tensor4D {
    return this.slice(0, this.count);
  }
}

/** A split's images as bytes that train() and evaluate() scale to 0..1 batch by batch. */
export function scaledImages(split: ImageSplit, scale = 1 / 255): ScaledImages {
  return new ScaledImages(split.images, [split.count, split.height, split.width, split.channels], scale);
}

/** Either kind of image input that train() and evaluate() accept. */
export type ImageInput = tf.Tensor | ScaledImages;

/** Rows at `indices` of a tensor or of ScaledImages, as a tensor (the caller disposes it, e.g. inside tf.tidy). */
export function gatherRows(x: ImageInput, indices: number[]): tf.Tensor {
  return x instanceof ScaledImages ? x.gather(indices) : tf.gather(x, tf.tensor1d(indices, "int32"));
}

/** Rows [start, start + size) as a tensor. */
export function sliceRows(x: ImageInput, start: number, size: number): tf.Tensor {
  return x instanceof ScaledImages ? x.slice(start, size) : tf.slice(x, start, size);
}
