/** A preview of what an augmenter does: one image next to several random versions of it. */
import * as tf from "@tensorflow/tfjs";
import type { Figure } from "../plots/figure";
import { imageGrid, ImageGridOptions } from "../plots/images";
import { mulberry32 } from "../random";
import type { ImageAugmenter } from "./augmenter";

export interface PreviewOptions extends ImageGridOptions {
  /** How many augmented versions to draw. Default 6. */
  count?: number;
  /** Put the untouched image first. Default true. */
  showOriginal?: boolean;
  /** Seed of the preview's draws (the augmenter's own seed when omitted). */
  seed?: number;
}

/**
 * Shows `image` ([height, width, channels] or [1, height, width, channels], 0..1 or 0..255) transformed `count`
 * ways by the augmenter, in a grid. Returns the figure; the image tensor is left as it was.
 */
export function previewAugmentation(augmenter: ImageAugmenter, image: tf.Tensor, opts: PreviewOptions = {}): Figure {
  const count = opts.count ?? 6;
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive whole number; got ${count}.`);
  const shape = image.rank === 4 && image.shape[0] === 1 ? image.shape.slice(1) : image.shape;
  if (shape.length !== 3) {
    throw new Error(`previewAugmentation takes one image [height, width, channels]; got shape [${image.shape.join(", ")}]. ` +
      `Pick one from a batch with images.slice([i], [1]).`);
  }
  const showOriginal = opts.showOriginal ?? true;
  const { panels, original } = tf.tidy(() => {
    const one = tf.cast(tf.reshape(image, [1, ...shape]), "float32");
    const rng = mulberry32(opts.seed ?? augmenter.options.seed);
    return { panels: augmenter.augmentBatch(tf.tile(one, [count, 1, 1, 1]), rng), original: one };
  });
  try {
    const list: tf.Tensor[] = [...(showOriginal ? [original] : []), ...tf.unstack(panels)];
    const titles = [...(showOriginal ? ["original"] : []), ...Array.from({ length: count }, (_, i) => `augmented ${i + 1}`)];
    const fig = imageGrid(list, titles, { ...opts, cols: opts.cols ?? Math.min(list.length, 4) });
    tf.dispose(list);
    return fig;
  } finally {
    tf.dispose([panels, original]);
  }
}
