/**
 * CIFAR-10: 60,000 32x32 colour images in 10 classes (50,000 train, 10,000 test).
 *
 * Two sources, same result (NHWC uint8, official batch order):
 *  - the official binary archive from the University of Toronto (exact pixels);
 *  - the offline mirror's JPEG archives (data/README.md): the same images in the same order, but JPEG-compressed,
 *    so pixels differ from the official values by about 6/255 on average.
 */
import * as fs from "fs";
import * as path from "path";
import * as jpeg from "jpeg-js";
import { extractTarGz, readTarGz } from "./archive";
import { datasetDir, ensureFile, FetchOptions, FileSpec, mirrorDir, readManifest } from "./cache";
import { ImageDataset, ImageSplit, stratifiedIndices, SubsetOptions, subsetSplit } from "./images";

export const CIFAR10_CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

const DATASET = "cifar10";
const RECORD = 1 + 32 * 32 * 3;
const PER_BATCH = 10000;
const TRAIN_BATCHES = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5"];

export const CIFAR10_BINARY: FileSpec = {
  name: "cifar-10-binary.tar.gz",
  url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
  mirrorPath: "cifar10/cifar-10-binary.tar.gz",
  bytes: 170052171,
  md5: "c32a1d4ab5d03f1284b67883e8d87530",
};

/** The mirror's JPEG form (checksums from shared/data/PROVENANCE.md). */
export const CIFAR10_JPEG_FILES: FileSpec[] = [
  {
    name: "cifar10-train-jpg.tar.gz",
    mirrorPath: "cifar10/cifar10-train-jpg.tar.gz",
    bytes: 16193174,
    sha256: "0ba96c9e2a2dacec1f70128e40d029afacc0ebeaeb0406a1acd159920de86d2a",
  },
  {
    name: "cifar10-test-jpg.tar.gz",
    mirrorPath: "cifar10/cifar10-test-jpg.tar.gz",
    bytes: 3241185,
    sha256: "216f73c2eafc61f30153c966b7291a90f3371dea6b38360d1e0f2063d8b77e8d",
  },
  {
    name: "cifar10-labels-official-order.json",
    mirrorPath: "cifar10/cifar10-labels-official-order.json",
    bytes: 120425,
    sha256: "3941dcb3a50c14e04d3d8b1271ee2566a05c3c26f84b30a73af3ffa7056cbf3a",
  },
];

export interface Cifar10Options extends SubsetOptions, FetchOptions {
  /** "auto" (default): cached binary, else cached/mirrored JPEGs, else mirrored/downloaded binary. */
  prefer?: "auto" | "binary" | "jpeg";
}

export interface Cifar10Dataset extends ImageDataset {
  /** "official-binary": exact pixels; "jpeg-mirror": JPEG-compressed copies of the same images. */
  source: "official-binary" | "jpeg-mirror";
}

/** Parse CIFAR-10 binary records (1 label byte + 1024 R + 1024 G + 1024 B) into NHWC uint8. */
export function parseCifarBinary(bytes: Uint8Array, file = "<buffer>"): ImageSplit {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new Error(`${file}: ${bytes.length} bytes is not a whole number of ${RECORD}-byte CIFAR-10 records (truncated or not a CIFAR-10 batch).`);
  }
  const count = bytes.length / RECORD;
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const rec = n * RECORD;
    const label = bytes[rec];
    if (label > 9) throw new Error(`${file}: record ${n} has label ${label}; CIFAR-10 labels are 0..9.`);
    labels[n] = label;
    const out = n * 3072;
    for (let p = 0; p < 1024; p++) {
      images[out + p * 3] = bytes[rec + 1 + p];
      images[out + p * 3 + 1] = bytes[rec + 1 + 1024 + p];
      images[out + p * 3 + 2] = bytes[rec + 1 + 2048 + p];
    }
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

function concatSplits(parts: ImageSplit[]): ImageSplit {
  const count = parts.reduce((a, p) => a + p.count, 0);
  const images = new Uint8Array(count * 3072);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * 3072);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count, height: 32, width: 32, channels: 3 };
}

function binaryFolder(): string {
  return path.join(datasetDir(DATASET), "cifar-10-batches-bin");
}

function binaryComplete(): boolean {
  const dir = binaryFolder();
  return [...TRAIN_BATCHES, "test_batch"].every((b) => {
    const f = path.join(dir, `${b}.bin`);
    return fs.existsSync(f) && fs.statSync(f).size === PER_BATCH * RECORD;
  });
}

async function ensureBinary(opts: FetchOptions): Promise<void> {
  if (binaryComplete()) return;
  const archive = await ensureFile(DATASET, CIFAR10_BINARY, opts);
  const extracted = path.join(datasetDir(DATASET), ".extract");
  await extractTarGz(archive, extracted);
  fs.rmSync(binaryFolder(), { recursive: true, force: true });
  fs.renameSync(path.join(extracted, "cifar-10-batches-bin"), binaryFolder());
  fs.rmSync(extracted, { recursive: true, force: true });
  if (!binaryComplete()) throw new Error(`${archive} did not hold the expected cifar-10-batches-bin/*.bin files.`);
}

function loadBinary(opts: Cifar10Options): Cifar10Dataset {
  const read = (b: string) => {
    const f = path.join(binaryFolder(), `${b}.bin`);
    return parseCifarBinary(fs.readFileSync(f), f);
  };
  return {
    classNames: [...CIFAR10_CLASS_NAMES],
    train: subsetSplit(concatSplits(TRAIN_BATCHES.map(read)), opts.trainCount, opts.subset, opts.seed),
    test: subsetSplit(read("test_batch"), opts.testCount, opts.subset, opts.seed),
    source: "official-binary",
  };
}

interface OfficialOrder {
  label_names: string[];
  [batch: string]: number[] | string[] | string;
}

/** The mirror's label list, checked: 10 names and 10,000 labels 0..9 per batch. */
function readOfficialOrder(file: string): { train: Int32Array; test: Int32Array } {
  const json = JSON.parse(fs.readFileSync(file, "utf8")) as OfficialOrder;
  if (JSON.stringify(json.label_names) !== JSON.stringify(CIFAR10_CLASS_NAMES)) throw new Error(`${file}: unexpected label_names.`);
  const batch = (name: string) => {
    const list = json[name];
    if (!Array.isArray(list) || list.length !== PER_BATCH || list.some((l) => typeof l !== "number" || l < 0 || l > 9)) {
      throw new Error(`${file}: ${name} must be ${PER_BATCH} labels 0..9.`);
    }
    return list as number[];
  };
  return { train: Int32Array.from(TRAIN_BATCHES.flatMap(batch)), test: Int32Array.from(batch("test_batch")) };
}

/** Decode the wanted images of one JPEG archive, in official order: the k-th image of class c is <c>/<k>.jpg. */
async function decodeJpegSplit(archive: string, prefix: "train" | "test", allLabels: Int32Array, indices: number[]): Promise<ImageSplit> {
  const seen = new Array<number>(10).fill(0);
  const pathOf = allLabels.map((c) => seen[c]++); // k for each official index
  const wanted = new Map<string, number>(); // entry path -> position in the result
  indices.forEach((i, pos) => {
    const c = allLabels[i];
    wanted.set(`${prefix}/${CIFAR10_CLASS_NAMES[c]}/${String(pathOf[i]).padStart(4, "0")}.jpg`, pos);
  });
  const images = new Uint8Array(indices.length * 3072);
  let found = 0;
  await readTarGz(
    archive,
    (entry, data) => {
      const pos = wanted.get(entry)!;
      const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: false });
      if (img.width !== 32 || img.height !== 32 || img.data.length !== 3072) {
        throw new Error(`${archive}: ${entry} is ${img.width}x${img.height}, not a 32x32 RGB image.`);
      }
      images.set(img.data, pos * 3072);
      found++;
    },
    (entry) => wanted.has(entry),
  );
  if (found !== indices.length) {
    throw new Error(`${archive}: found ${found} of the ${indices.length} images the official label order asks for; the archive is incomplete.`);
  }
  const labels = Int32Array.from(indices, (i) => allLabels[i]);
  return { images, labels, count: indices.length, height: 32, width: 32, channels: 3 };
}

function pickIndices(labels: Int32Array, n: number | undefined, opts: SubsetOptions): number[] {
  if (n === undefined || n >= labels.length) return Array.from({ length: labels.length }, (_, i) => i);
  if (opts.subset === "stratified") return stratifiedIndices(labels, n, opts.seed ?? 42);
  return Array.from({ length: n }, (_, i) => i);
}

async function loadJpeg(opts: Cifar10Options): Promise<Cifar10Dataset> {
  const [trainArchive, testArchive, orderFile] = await Promise.all(CIFAR10_JPEG_FILES.map((f) => ensureFile(DATASET, f, opts)));
  const order = readOfficialOrder(orderFile);
  // Only the wanted images are decoded, so a small subset loads in well under a second.
  const train = await decodeJpegSplit(trainArchive, "train", order.train, pickIndices(order.train, opts.trainCount, opts));
  const test = await decodeJpegSplit(testArchive, "test", order.test, pickIndices(order.test, opts.testCount, opts));
  return { classNames: [...CIFAR10_CLASS_NAMES], train, test, source: "jpeg-mirror" };
}

function jpegCached(): boolean {
  const manifest = readManifest(DATASET);
  return CIFAR10_JPEG_FILES.every((f) => manifest[f.name] && fs.existsSync(path.join(datasetDir(DATASET), f.name)));
}

/**
 * Load CIFAR-10 as uint8 NHWC (32x32x3) with labels 0..9 in the official order, fetching it on first use.
 * Pass trainCount/testCount (and subset: "stratified") to keep lessons fast and small.
 */
export async function loadCifar10(opts: Cifar10Options = {}): Promise<Cifar10Dataset> {
  const prefer = opts.prefer ?? "auto";
  if (prefer !== "jpeg" && binaryComplete()) return loadBinary(opts);
  if (prefer !== "binary" && jpegCached()) return loadJpeg(opts);
  const mirror = opts.mirror === undefined ? mirrorDir() : opts.mirror;
  const mirrorHas = (spec: FileSpec) => !!mirror && !!spec.mirrorPath && fs.existsSync(path.join(mirror, spec.mirrorPath));
  if (prefer !== "binary" && !mirrorHas(CIFAR10_BINARY) && CIFAR10_JPEG_FILES.every(mirrorHas)) return loadJpeg(opts);
  if (prefer === "jpeg") return loadJpeg(opts);
  await ensureBinary(opts);
  return loadBinary(opts);
}
