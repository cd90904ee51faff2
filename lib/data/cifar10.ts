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
import * as crypto from "crypto";
import { extractTarGz, readTarGz } from "./archive";
import { DatasetUnavailableError, datasetDir, ensureFile, FetchOptions, FileSpec, mirrorDir, readManifest } from "./cache";
import { sha256File, tempPathFor } from "./download";
import { ImageDataset, ImageSplit, selectImages, stratifiedIndices, SubsetOptions } from "./images";
import { detectProgressMode } from "../progress";
import { writeCellText } from "../cell-output";

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
  /**
   * Hold out this many of the 50,000 training images as `validation`: a seeded, stratified pick made before any
   * training, never part of `train` (trainCount then counts the images left). Default 0 (no validation split).
   */
  validationCount?: number;
  /**
   * JPEG form only: decode all 60,000 images once and keep the pixels in the cache, so later loads take about a
   * second. Default: true when more than 5,000 images are asked for (a smaller pick decodes just those images).
   */
  cacheDecoded?: boolean;
}

export interface Cifar10Dataset extends ImageDataset {
  /** "official-binary": exact pixels; "jpeg-mirror": JPEG-compressed copies of the same images. */
  source: "official-binary" | "jpeg-mirror";
  /** The held-out validation images, when `validationCount` was given. */
  validation?: ImageSplit;
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
  return selectFromFull(concatSplits(TRAIN_BATCHES.map(read)), read("test_batch"), opts, "official-binary");
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

// ---- Which images: subsets and the held-out validation split ----

const SMALL_PICK = 5000; // up to this many images, decoding just them beats decoding (and caching) all 60,000

interface Selection {
  train: number[];
  validation: number[];
  test: number[];
}

function allIndices(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function checkCount(name: string, n: number | undefined, available: number): void {
  if (n === undefined) return;
  if (!Number.isInteger(n) || n < 0 || n > available) {
    throw new RangeError(`${name} must be a whole number from 0 to ${available}, got ${n}.`);
  }
}

/** n indices of `pool` (positions into `labels`): stratified and seeded, or the first n; all when n is undefined. */
function pickFrom(pool: number[], labels: Int32Array, n: number | undefined, opts: SubsetOptions): number[] {
  if (n === undefined || n >= pool.length) return pool;
  if (opts.subset !== "stratified") return pool.slice(0, n);
  const poolLabels = Int32Array.from(pool, (i) => labels[i]);
  return stratifiedIndices(poolLabels, n, opts.seed ?? 42).map((k) => pool[k]);
}

/** The official indices of the requested train, validation and test images (each list in file order). */
export function selectCifar10(trainLabels: Int32Array, testLabels: Int32Array, opts: Cifar10Options = {}): Selection {
  const v = opts.validationCount ?? 0;
  checkCount("validationCount", v, trainLabels.length - 1);
  checkCount("trainCount", opts.trainCount, trainLabels.length - v);
  checkCount("testCount", opts.testCount, testLabels.length);
  let pool = allIndices(trainLabels.length);
  let validation: number[] = [];
  if (v > 0) {
    // Always stratified (and seeded apart from the training pick), so every class is validated in proportion.
    validation = stratifiedIndices(trainLabels, v, (opts.seed ?? 42) + 1);
    const held = new Set(validation);
    pool = pool.filter((i) => !held.has(i));
  }
  return {
    train: pickFrom(pool, trainLabels, opts.trainCount, opts),
    validation,
    test: pickFrom(allIndices(testLabels.length), testLabels, opts.testCount, opts),
  };
}

function take(split: ImageSplit, indices: number[]): ImageSplit {
  const identity = indices.length === split.count && indices.every((v, i) => v === i);
  return identity ? split : selectImages(split, indices);
}

function selectFromFull(train: ImageSplit, test: ImageSplit, opts: Cifar10Options, source: Cifar10Dataset["source"]): Cifar10Dataset {
  const sel = selectCifar10(train.labels, test.labels, opts);
  const ds: Cifar10Dataset = { classNames: [...CIFAR10_CLASS_NAMES], train: take(train, sel.train), test: take(test, sel.test), source };
  if (sel.validation.length > 0) ds.validation = take(train, sel.validation);
  return ds;
}

// ---- The JPEG form: decoding with progress, and the cache of decoded pixels ----

/** Progress of a long decode on one rewritten line (notebook, terminal) or a few plain lines (logs). */
function decodeProgress(total: number, verbose: boolean): { tick(): void; done(): void } {
  if (!verbose) return { tick() {}, done() {} };
  const mode = detectProgressMode();
  const started = Date.now();
  let count = 0;
  let last = 0;
  const text = () => `Decoding the CIFAR-10 JPEGs (first use only; the pixels are cached): ` +
    `${count.toLocaleString("en-US")}/${total.toLocaleString("en-US")} images, ${Math.round((Date.now() - started) / 1000)} s`;
  const live = mode === "tty" || mode === "live";
  return {
    tick() {
      count++;
      if (live && Date.now() - last > 500) {
        last = Date.now();
        writeCellText("\r" + text());
      } else if (!live && mode !== "none" && count % 20000 === 0) {
        writeCellText(text() + "\n");
      }
    },
    done() {
      if (live) writeCellText("\r" + text() + "\n");
      else if (mode !== "none" && count % 20000 !== 0) writeCellText(text() + "\n");
    },
  };
}

/** Decode the wanted images of one JPEG archive, in official order: the k-th image of class c is <c>/<k>.jpg. */
async function decodeJpegSplit(
  archive: string,
  prefix: "train" | "test",
  allLabels: Int32Array,
  indices: number[],
  onImage: () => void = () => undefined,
): Promise<ImageSplit> {
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
      onImage();
    },
    (entry) => wanted.has(entry),
  );
  if (found !== indices.length) {
    throw new Error(`${archive}: found ${found} of the ${indices.length} images the official label order asks for; the archive is incomplete.`);
  }
  const labels = Int32Array.from(indices, (i) => allLabels[i]);
  return { images, labels, count: indices.length, height: 32, width: 32, channels: 3 };
}

const DECODED = "decoded-jpeg-pixels.u8";
const DECODED_INFO = "decoded-jpeg-pixels.json";

interface DecodedInfo {
  /** sha256 of the archives and label file the pixels were decoded from: other archives, other pixels. */
  sources: Record<string, string>;
  trainCount: number;
  testCount: number;
  bytes: number;
  sha256: string;
}

function jpegSources(): Record<string, string> {
  const manifest = readManifest(DATASET);
  return Object.fromEntries(CIFAR10_JPEG_FILES.map((f) => [f.name, manifest[f.name]?.sha256 ?? "?"]));
}

/** The cache's description when it holds the pixels of exactly these archives (right size), else undefined. */
function decodedCacheInfo(): DecodedInfo | undefined {
  const dir = datasetDir(DATASET);
  let info: DecodedInfo;
  try {
    info = JSON.parse(fs.readFileSync(path.join(dir, DECODED_INFO), "utf8"));
  } catch {
    return undefined;
  }
  const file = path.join(dir, DECODED);
  if (JSON.stringify(info.sources) !== JSON.stringify(jpegSources())) return undefined;
  if (!fs.existsSync(file) || fs.statSync(file).size !== info.bytes || info.bytes !== (info.trainCount + info.testCount) * 3072) return undefined;
  return info;
}

/**
 * The cached pixels of the images at `indices` (ascending), read straight from the file starting at byte `base`:
 * a class-size pick reads only its own images, and runs of neighbouring images are read in one call.
 */
function readCachedImages(fd: number, base: number, indices: number[]): Uint8Array {
  const out = new Uint8Array(indices.length * 3072);
  for (let k = 0; k < indices.length; ) {
    let end = k + 1;
    while (end < indices.length && indices[end] === indices[end - 1] + 1) end++;
    const bytes = (end - k) * 3072;
    if (fs.readSync(fd, out, k * 3072, bytes, base + indices[k] * 3072) !== bytes) throw new Error("the cached pixel file ended early");
    k = end;
  }
  return out;
}

function loadFromDecodedCache(info: DecodedInfo, order: { train: Int32Array; test: Int32Array }, opts: Cifar10Options): Cifar10Dataset {
  const sel = selectCifar10(order.train, order.test, opts);
  const fd = fs.openSync(path.join(datasetDir(DATASET), DECODED), "r");
  try {
    const split = (indices: number[], labels: Int32Array, base: number): ImageSplit => ({
      images: readCachedImages(fd, base, indices), labels: Int32Array.from(indices, (i) => labels[i]),
      count: indices.length, height: 32, width: 32, channels: 3,
    });
    const ds: Cifar10Dataset = {
      classNames: [...CIFAR10_CLASS_NAMES],
      train: split(sel.train, order.train, 0),
      test: split(sel.test, order.test, info.trainCount * 3072),
      source: "jpeg-mirror",
    };
    if (sel.validation.length > 0) ds.validation = split(sel.validation, order.train, 0);
    return ds;
  } finally {
    fs.closeSync(fd);
  }
}

/** Write the decoded pixels atomically: temporary file, checked against the pixels' sha256, then renamed. */
function writeDecodedCache(train: Uint8Array, test: Uint8Array): void {
  const dir = datasetDir(DATASET);
  const file = path.join(dir, DECODED);
  const temp = tempPathFor(file);
  const expected = crypto.createHash("sha256").update(train).update(test).digest("hex");
  try {
    const fd = fs.openSync(temp, "w");
    try {
      fs.writeSync(fd, train);
      fs.writeSync(fd, test);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    const got = sha256File(temp);
    if (got !== expected) throw new Error(`the written file's sha256 is ${got}, expected ${expected} (disk full or failing?)`);
    fs.renameSync(temp, file);
    const info: DecodedInfo = { sources: jpegSources(), trainCount: train.length / 3072, testCount: test.length / 3072, bytes: train.length + test.length, sha256: expected };
    const infoTemp = tempPathFor(path.join(dir, DECODED_INFO));
    fs.writeFileSync(infoTemp, JSON.stringify(info, null, 2) + "\n");
    fs.renameSync(infoTemp, path.join(dir, DECODED_INFO));
  } catch (e) {
    fs.rmSync(temp, { force: true });
    // The lesson can go on without the cache; it only makes the next load slower.
    console.error(`Could not cache the decoded CIFAR-10 pixels in ${file}: ${(e as Error).message}`);
  }
}

async function loadJpeg(opts: Cifar10Options): Promise<Cifar10Dataset> {
  const [trainArchive, testArchive, orderFile] = await Promise.all(CIFAR10_JPEG_FILES.map((f) => ensureFile(DATASET, f, opts)));
  const order = readOfficialOrder(orderFile);
  const cached = decodedCacheInfo();
  if (cached) return loadFromDecodedCache(cached, order, opts);

  const sel = selectCifar10(order.train, order.test, opts);
  const asked = sel.train.length + sel.validation.length + sel.test.length;
  if (opts.cacheDecoded ?? asked > SMALL_PICK) {
    const progress = decodeProgress(order.train.length + order.test.length, opts.verbose !== false);
    const train = await decodeJpegSplit(trainArchive, "train", order.train, allIndices(order.train.length), progress.tick);
    const test = await decodeJpegSplit(testArchive, "test", order.test, allIndices(order.test.length), progress.tick);
    progress.done();
    writeDecodedCache(train.images, test.images);
    return selectFromFull(train, test, opts, "jpeg-mirror");
  }
  // A small pick: decode only those images (well under a second for a thousand).
  const both = await decodeJpegSplit(trainArchive, "train", order.train, [...sel.train, ...sel.validation]);
  const ds: Cifar10Dataset = {
    classNames: [...CIFAR10_CLASS_NAMES],
    train: take(both, allIndices(sel.train.length)),
    test: await decodeJpegSplit(testArchive, "test", order.test, sel.test),
    source: "jpeg-mirror",
  };
  if (sel.validation.length > 0) ds.validation = take(both, sel.validation.map((_, k) => sel.train.length + k));
  return ds;
}

function jpegCached(): boolean {
  const manifest = readManifest(DATASET);
  return CIFAR10_JPEG_FILES.every((f) => manifest[f.name] && fs.existsSync(path.join(datasetDir(DATASET), f.name)));
}

/** The error when neither form of CIFAR-10 can be had: what was tried, and both ways a mirror can hold it. */
function unavailable(mirror: string | null, cause: Error): DatasetUnavailableError {
  const inMirror = (f: FileSpec) => (mirror ? (fs.existsSync(path.join(mirror, f.mirrorPath!)) ? "found" : "missing") : "no mirror set");
  const lines = [
    `CIFAR-10 is not available: it is not in the cache (${datasetDir(DATASET)}) and could not be fetched.`,
    `What was tried: ${cause.message.split("\n").filter((l) => /^\s+- /.test(l)).map((l) => l.trim().slice(2)).join("; ") || cause.message}`,
    "How to fix it (any one of these):",
    `  * with internet access: npm run data -- cifar10   (downloads ${CIFAR10_BINARY.url}, 170 MB)`,
    `  * an offline mirror, LESSONS_DATA_MIRROR=/path/to/mirror${mirror ? ` (now ${mirror})` : ""}, holding either form (layout: data/README.md):`,
    `      - the official binary archive: <mirror>/${CIFAR10_BINARY.mirrorPath} (${inMirror(CIFAR10_BINARY)})`,
    `      - or the JPEG archives, all three files: ` +
      CIFAR10_JPEG_FILES.map((f) => `<mirror>/${f.mirrorPath} (${inMirror(f)})`).join(", "),
  ];
  return new DatasetUnavailableError(lines.join("\n"));
}

/**
 * Load CIFAR-10 as uint8 NHWC (32x32x3) with labels 0..9 in the official order, fetching it on first use.
 * Options: trainCount / testCount with subset: "stratified" and a seed for a class-sized pick with every class in
 * proportion; validationCount for a held-out validation split. The pixels stay bytes (50,000 images are 154 MB);
 * feed them to training with `scaledImages` (lib/data/byte-images), which scales each batch to 0..1 as it is used.
 */
export async function loadCifar10(opts: Cifar10Options = {}): Promise<Cifar10Dataset> {
  const prefer = opts.prefer ?? "auto";
  if (prefer !== "jpeg" && binaryComplete()) return loadBinary(opts);
  if (prefer !== "binary" && jpegCached()) return loadJpeg(opts);
  const mirror = opts.mirror === undefined ? mirrorDir() : opts.mirror;
  const mirrorHas = (spec: FileSpec) => !!mirror && !!spec.mirrorPath && fs.existsSync(path.join(mirror, spec.mirrorPath));
  try {
    if (prefer !== "binary" && !mirrorHas(CIFAR10_BINARY) && CIFAR10_JPEG_FILES.every(mirrorHas)) return await loadJpeg(opts);
    if (prefer === "jpeg") return await loadJpeg(opts);
    await ensureBinary(opts);
  } catch (e) {
    if (e instanceof DatasetUnavailableError) throw unavailable(mirror, e);
    throw e;
  }
  return loadBinary(opts);
}

/**
 * The official labels of all 50,000 training and 10,000 test images, without their pixels (for counting classes
 * and checking the file order cheaply). Reads whichever form of CIFAR-10 is cached, fetching the label list of
 * the JPEG form when the binary is not there.
 */
export async function loadCifar10Labels(opts: Cifar10Options = {}): Promise<{ train: Int32Array; test: Int32Array }> {
  if (opts.prefer !== "jpeg" && binaryComplete()) {
    const labelsOf = (batches: string[]) => Int32Array.from(batches.flatMap((b) => {
      const bytes = fs.readFileSync(path.join(binaryFolder(), `${b}.bin`));
      return Array.from({ length: bytes.length / RECORD }, (_, n) => bytes[n * RECORD]);
    }));
    return { train: labelsOf(TRAIN_BATCHES), test: labelsOf(["test_batch"]) };
  }
  try {
    return readOfficialOrder(await ensureFile(DATASET, CIFAR10_JPEG_FILES[2], opts));
  } catch (e) {
    if (e instanceof DatasetUnavailableError) throw unavailable(opts.mirror === undefined ? mirrorDir() : opts.mirror, e);
    throw e;
  }
}
