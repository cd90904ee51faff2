/**
 * Random image augmentation on the fly, shaped like Keras' ImageDataGenerator:
 *
 *   const augment = imageAugmenter({ widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true, seed: 1 });
 *   await train(model, data, { epochs, augment });          // every training batch is transformed afresh
 *
 * Each image gets one random affine transform (flip, zoom, shear, rotation, shift, composed into one matrix) and is
 * resampled once. train() applies it to training batches only; validation and test data are never touched.
 */
import * as tf from "@tensorflow/tfjs";
import { mulberry32, Rng } from "../random";
import { FillMode, Interpolation, resampleBatch, sourceMatrix, TransformParams } from "./affine";

export interface AugmentOptions {
  /** Largest horizontal shift, as a fraction of the width (Keras' width_shift_range). Default 0. */
  widthShiftRange?: number;
  /** Largest vertical shift, as a fraction of the height. Default 0. */
  heightShiftRange?: number;
  /** Mirror left-right with probability 1/2. */
  horizontalFlip?: boolean;
  /** Mirror top-bottom with probability 1/2 (rarely right for photos: skies do not end up below). */
  verticalFlip?: boolean;
  /** Largest rotation either way, in degrees (0-180). Default 0. */
  rotationRange?: number;
  /**
   * Magnification drawn per axis from [1 - z, 1 + z] for a number z, or from [low, high]. Default 0 (none).
   * (Keras draws the same range but applies the inverse factor, so its zoom 1.2 shrinks the content.)
   */
  zoomRange?: number | [number, number];
  /** Largest shear angle either way, in degrees. Default 0. */
  shearRange?: number;
  /** What to show where the transformed image leaves the frame. Default "nearest" (as Keras). */
  fillMode?: FillMode;
  /** The value used with fillMode "constant". Default 0. */
  fillValue?: number;
  /** Default "bilinear" (as Keras). */
  interpolation?: Interpolation;
  /** Seed of the random transforms: the same seed gives the same sequence of augmented batches. Default 42. */
  seed?: number;
}

type Resolved = Required<Omit<AugmentOptions, "zoomRange">> & { zoomRange: [number, number] };

const FILL_MODES: FillMode[] = ["nearest", "reflect", "constant"];
const INTERPOLATIONS: Interpolation[] = ["bilinear", "nearest"];

function checkRange(name: string, value: number, max: number, unit: string): void {
  if (!(Number.isFinite(value) && value >= 0 && value <= max)) {
    throw new Error(`${name} must be a number from 0 to ${max} (${unit}); got ${value}.`);
  }
}

function resolve(opts: AugmentOptions): Resolved {
  const known = new Set(["widthShiftRange", "heightShiftRange", "horizontalFlip", "verticalFlip", "rotationRange",
    "zoomRange", "shearRange", "fillMode", "fillValue", "interpolation", "seed"]);
  const unknown = Object.keys(opts).filter((k) => !known.has(k));
  if (unknown.length) {
    throw new Error(`Unknown augmentation option(s) ${unknown.join(", ")}; the options are ${[...known].join(", ")}.`);
  }
  // A plain function rather than an inline ternary: tslab's older TypeScript does not narrow the union here.
  const zoomBounds = (z: number | [number, number]): [number, number] => (typeof z === "number" ? [1 - z, 1 + z] : z);
  const r: Resolved = {
    widthShiftRange: opts.widthShiftRange ?? 0,
    heightShiftRange: opts.heightShiftRange ?? 0,
    horizontalFlip: opts.horizontalFlip ?? false,
    verticalFlip: opts.verticalFlip ?? false,
    rotationRange: opts.rotationRange ?? 0,
    zoomRange: zoomBounds(opts.zoomRange ?? 0),
    shearRange: opts.shearRange ?? 0,
    fillMode: opts.fillMode ?? "nearest",
    fillValue: opts.fillValue ?? 0,
    interpolation: opts.interpolation ?? "bilinear",
    seed: opts.seed ?? 42,
  };
  checkRange("widthShiftRange", r.widthShiftRange, 1, "a fraction of the width, e.g. 0.1");
  checkRange("heightShiftRange", r.heightShiftRange, 1, "a fraction of the height, e.g. 0.1");
  checkRange("rotationRange", r.rotationRange, 180, "degrees");
  checkRange("shearRange", r.shearRange, 60, "degrees");
  const [lo, hi] = r.zoomRange;
  if (!(Array.isArray(r.zoomRange) && r.zoomRange.length === 2 && lo > 0 && hi >= lo && Number.isFinite(hi))) {
    throw new Error(`zoomRange must be a number z in [0, 1) (magnification from 1-z to 1+z) or [low, high] with 0 < low <= high; got ${JSON.stringify(opts.zoomRange)}.`);
  }
  if (!FILL_MODES.includes(r.fillMode)) throw new Error(`fillMode must be one of ${FILL_MODES.join(", ")}; got "${r.fillMode}".`);
  if (!INTERPOLATIONS.includes(r.interpolation)) {
    throw new Error(`interpolation must be one of ${INTERPOLATIONS.join(", ")}; got "${r.interpolation}".`);
  }
  if (!Number.isFinite(r.fillValue)) throw new Error(`fillValue must be a finite number; got ${r.fillValue}.`);
  if (!Number.isFinite(r.seed)) throw new Error(`seed must be a finite number; got ${r.seed}.`);
  return r;
}

/** A uniform draw from [-range, range]; no draw at all when the range is 0, so unused options cost nothing. */
function symmetric(rng: Rng, range: number): number {
  return range === 0 ? 0 : (2 * rng() - 1) * range;
}

export class ImageAugmenter {
  readonly options: Readonly<Resolved>;

  constructor(opts: AugmentOptions = {}) {
    this.options = Object.freeze(resolve(opts));
  }

  /** The random choices for one image of the given size. */
  randomParams(rng: Rng, height: number, width: number): TransformParams {
    const o = this.options;
    const [zLo, zHi] = o.zoomRange;
    const zoom = () => (zLo === zHi ? zLo : zLo + rng() * (zHi - zLo));
    return {
      rotation: symmetric(rng, o.rotationRange),
      shiftX: symmetric(rng, o.widthShiftRange) * width,
      shiftY: symmetric(rng, o.heightShiftRange) * height,
      shear: symmetric(rng, o.shearRange),
      zoomX: zoom(),
      zoomY: zoom(),
      flipHorizontal: o.horizontalFlip && rng() < 0.5,
      flipVertical: o.verticalFlip && rng() < 0.5,
    };
  }

  /** Applies the given transforms (one per image) to a batch [n, height, width, channels] of float images. */
  transformBatch(images: tf.Tensor, params: readonly TransformParams[]): tf.Tensor4D {
    if (images.rank !== 4) {
      throw new Error(`Augmentation needs a batch of images [n, height, width, channels]; got shape [${images.shape.join(", ")}].`);
    }
    const [n, h, w, c] = images.shape as [number, number, number, number];
    const input = images.dtype === "float32" ? (images.dataSync() as Float32Array) : Float32Array.from(images.dataSync());
    const out = new Float32Array(input.length);
    const o = this.options;
    resampleBatch(input, out, [n, h, w, c], params.map((p) => sourceMatrix(p, h, w)),
      { interpolation: o.interpolation, fillMode: o.fillMode, fillValue: o.fillValue });
    return tf.tensor4d(out, [n, h, w, c], "float32");
  }

  /** One random transform per image, drawn from `rng`. */
  augmentBatch(images: tf.Tensor, rng: Rng): tf.Tensor4D {
    const [n, h, w] = images.shape;
    const params = Array.from({ length: n }, () => this.randomParams(rng, h, w));
    return this.transformBatch(images, params);
  }

  /**
   * A fresh stream of augmented batches: a function that transforms each batch it is given, with random
   * transforms drawn from this augmenter's seed. Two streams see the same transforms in the same order, so a rerun
   * of train() with the same augmenter gives the same batches.
   */
  stream(): (images: tf.Tensor) => tf.Tensor4D {
    const rng = mulberry32(this.options.seed);
    return (images) => this.augmentBatch(images, rng);
  }
}

/** An augmenter like Keras' ImageDataGenerator(...); pass it to train(model, data, { augment }). */
export function imageAugmenter(opts: AugmentOptions = {}): ImageAugmenter {
  return new ImageAugmenter(opts);
}
