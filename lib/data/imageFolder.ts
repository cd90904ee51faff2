/**
 * Image files and folders of them: decode JPEG/PNG to RGB uint8, and load a folder with one subfolder per class
 * (the layout Keras' image_dataset_from_directory reads), with optional resize, seeded shuffle and validation split.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { ImageSplit, seededPermutation } from "./images";

export interface RgbImage {
  /** RGB pixels, row-major, 3 bytes per pixel. */
  data: Uint8Array;
  width: number;
  height: number;
}

const IMAGE_EXT = /\.(jpe?g|png)$/i;

/** Decode a JPEG or PNG (any colour type) to RGB. Alpha is dropped; grey is copied to R, G and B. */
export function decodeImage(bytes: Uint8Array, file = "<buffer>"): RgbImage {
  let rgba: Uint8Array;
  let width: number;
  let height: number;
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    ({ width, height } = png);
    rgba = png.data; // pngjs always expands to 8-bit RGBA
  } else if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 256 });
    ({ width, height } = img);
    rgba = img.data;
  } else {
    throw new Error(`${file}: not a JPEG or PNG image (unknown signature).`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    data[p * 3] = rgba[p * 4];
    data[p * 3 + 1] = rgba[p * 4 + 1];
    data[p * 3 + 2] = rgba[p * 4 + 2];
  }
  return { data, width, height };
}

export function readImageFile(file: string): RgbImage {
  return decodeImage(fs.readFileSync(file), file);
}

/** An RgbImage as an int32 tensor [height, width, 3] of values 0..255. */
export function imageToTensor(img: RgbImage): tf.Tensor3D {
  return tf.tensor3d(Int32Array.from(img.data), [img.height, img.width, 3], "int32");
}

/** Bilinear resize of an RGB image (values rounded back to 0..255). */
export function resizeImage(img: RgbImage, height: number, width: number): RgbImage {
  if (img.height === height && img.width === width) return img;
  const out = tf.tidy(() => {
    const t = tf.tensor3d(Float32Array.from(img.data), [img.height, img.width, 3]);
    return tf.image.resizeBilinear(t, [height, width]).round().clipByValue(0, 255);
  });
  const data = Uint8Array.from(out.dataSync());
  out.dispose();
  return { data, width, height };
}

export interface ImageFolderOptions {
  /** Resize every image to [height, width]. Without it, all images must already share one size. */
  size?: [number, number];
  /** Shuffle with a seed before splitting (default true, like Keras). */
  shuffle?: boolean;
  seed?: number;
  /** Fraction 0..1 held out as validation (default 0: everything in `train`). */
  validationSplit?: number;
}

export interface ImageFolderDataset {
  /** Subfolder names, sorted: label i is classNames[i]. */
  classNames: string[];
  train: ImageSplit;
  /** Present when validationSplit > 0. */
  validation?: ImageSplit;
  /** Source file of each image, in the order of train then validation. */
  files: { train: string[]; validation: string[] };
}

/** Load `dir/<class>/*.{jpg,jpeg,png}` into uint8 NHWC RGB splits. */
export function loadImageFolder(dir: string, opts: ImageFolderOptions = {}): ImageFolderDataset {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`Image folder ${dir} does not exist. Expected one subfolder per class holding .jpg/.png files.`);
  }
  const classNames = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
  if (classNames.length === 0) throw new Error(`Image folder ${dir} has no class subfolders (expected ${dir}/<class>/<image>.jpg).`);
  const items: { file: string; label: number }[] = [];
  classNames.forEach((c, label) => {
    for (const f of fs.readdirSync(path.join(dir, c)).sort()) {
      if (IMAGE_EXT.test(f)) items.push({ file: path.join(dir, c, f), label });
    }
  });
  if (items.length === 0) throw new Error(`Image folder ${dir} has class subfolders but no .jpg/.png images in them.`);
  const split = opts.validationSplit ?? 0;
  if (split < 0 || split >= 1) throw new RangeError(`validationSplit must be in [0, 1), got ${split}`);
  const order = opts.shuffle === false ? items.map((_, i) => i) : seededPermutation(items.length, opts.seed ?? 1337);
  const nVal = Math.floor(items.length * split);
  const trainIdx = order.slice(0, items.length - nVal);
  const valIdx = order.slice(items.length - nVal);

  let size = opts.size;
  const build = (idx: number[]): ImageSplit => {
    const decoded = idx.map((i) => {
      let img = readImageFile(items[i].file);
      if (!size) size = [img.height, img.width];
      if (opts.size) img = resizeImage(img, size[0], size[1]);
      else if (img.height !== size[0] || img.width !== size[1]) {
        throw new Error(`${items[i].file} is ${img.width}x${img.height} but earlier images are ${size[1]}x${size[0]}; pass size: [h, w] to resize.`);
      }
      return img;
    });
    const [h, w] = size ?? [0, 0];
    const images = new Uint8Array(decoded.length * h * w * 3);
    decoded.forEach((img, k) => images.set(img.data, k * h * w * 3));
    return { images, labels: Int32Array.from(idx, (i) => items[i].label), count: idx.length, height: h, width: w, channels: 3 };
  };
  const train = build(trainIdx);
  const result: ImageFolderDataset = {
    classNames,
    train,
    files: { train: trainIdx.map((i) => items[i].file), validation: valIdx.map((i) => items[i].file) },
  };
  if (nVal > 0) result.validation = build(valIdx);
  return result;
}
