/**
 * Fashion-MNIST (Zalando Research, MIT licence): 70,000 28x28 greyscale images of clothing in 10 classes,
 * as gzipped IDX files. Taken from the Debian package dataset-fashion-mnist when installed
 * (/usr/share/datasets/fashion-mnist), else the mirror, else the official download.
 */
import * as fs from "fs";
import * as zlib from "zlib";
import { ensureFile, FetchOptions, FileSpec } from "./cache";
import { ImageDataset, ImageSplit, SubsetOptions, subsetDataset } from "./images";

export const FASHION_MNIST_CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

const DATASET = "fashion-mnist";
const OFFICIAL_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com";
const DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

/** Parse an (ungzipped) IDX file: returns the dimensions and the uint8 payload. */
export function parseIdx(bytes: Uint8Array, file = "<buffer>"): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0) throw new Error(`${file}: not an IDX file (bad magic).`);
  if (bytes[2] !== 0x08) throw new Error(`${file}: IDX type 0x${bytes[2].toString(16)} is not unsigned byte data.`);
  const nDims = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nDims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * nDims;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== size) {
    throw new Error(`${file}: dimensions ${dims.join("x")} need ${size} bytes of data, found ${bytes.length - start} (truncated or corrupt).`);
  }
  return { dims, data: bytes.subarray(start) };
}

function readIdxGz(file: string): { dims: number[]; data: Uint8Array } {
  let raw: Buffer;
  try {
    raw = zlib.gunzipSync(fs.readFileSync(file));
  } catch (e) {
    throw new Error(`${file}: cannot gunzip (${(e as Error).message}); the file is truncated or not gzip.`);
  }
  return parseIdx(raw, file);
}

function spec(name: string, dims: number[]): FileSpec {
  return {
    name,
    url: `${OFFICIAL_BASE}/${name}`,
    mirrorPath: `fashion-mnist/${name}`,
    systemPaths: [`${DEBIAN_DIR}/${name}`],
    // Checked by structure; the sha256 of what was accepted goes into the cache manifest.
    check: (file) => {
      const idx = readIdxGz(file);
      if (JSON.stringify(idx.dims) !== JSON.stringify(dims)) throw new Error(`dimensions ${idx.dims.join("x")}, expected ${dims.join("x")}.`);
      if (dims.length === 1 && idx.data.some((l) => l > 9)) throw new Error("labels outside 0..9.");
    },
  };
}

export const FASHION_MNIST_FILES = {
  trainImages: spec("train-images-idx3-ubyte.gz", [60000, 28, 28]),
  trainLabels: spec("train-labels-idx1-ubyte.gz", [60000]),
  testImages: spec("t10k-images-idx3-ubyte.gz", [10000, 28, 28]),
  testLabels: spec("t10k-labels-idx1-ubyte.gz", [10000]),
};

export type FashionMnistOptions = SubsetOptions & FetchOptions;

async function loadSplit(images: FileSpec, labels: FileSpec, opts: FetchOptions): Promise<ImageSplit> {
  const x = readIdxGz(await ensureFile(DATASET, images, opts));
  const y = readIdxGz(await ensureFile(DATASET, labels, opts));
  return { images: x.data, labels: Int32Array.from(y.data), count: x.dims[0], height: 28, width: 28, channels: 1 };
}

/** Load Fashion-MNIST: uint8 images [N, 28, 28, 1] (0 = background) and labels 0..9. */
export async function loadFashionMnist(opts: FashionMnistOptions = {}): Promise<ImageDataset> {
  const f = FASHION_MNIST_FILES;
  const ds: ImageDataset = {
    classNames: [...FASHION_MNIST_CLASS_NAMES],
    train: await loadSplit(f.trainImages, f.trainLabels, opts),
    test: await loadSplit(f.testImages, f.testLabels, opts),
  };
  return subsetDataset(ds, opts);
}
