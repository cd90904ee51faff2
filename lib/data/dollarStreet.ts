/**
 * Dollar Street 10 (The Carpentries' subset of the MLCommons Dollar Street dataset, Zenodo record 10970014,
 * CC BY 4.0): 64x64 RGB photos of household objects in 10 classes, 878 training images, as four .npy files.
 *
 * When the real files cannot be had (no cache, no mirror, no internet) the loader generates a synthetic stand-in
 * in the same format (see dollarStreetGenerator.ts), says so loudly, and marks the result `source: "generated"`.
 */
import * as fs from "fs";
import * as path from "path";
import { dataDir } from "../paths";
import { DatasetUnavailableError, ensureFile, FetchOptions, FileSpec } from "./cache";
import { STANDIN_VERSION, writeDollarStreetStandIn } from "./dollarStreetGenerator";
import { ImageDataset, ImageSplit, SubsetOptions, subsetDataset } from "./images";
import { npyToInt32, readNpyFile } from "./npy";

export const DOLLAR_STREET_CLASS_NAMES = [
  "day bed",
  "dishrag",
  "plate",
  "running shoe",
  "soap dispenser",
  "street sign",
  "table lamp",
  "tile roof",
  "toilet seat",
  "washing machine",
];

export const DOLLAR_STREET_TRAIN_COUNT = 878;
const DATASET = "dollar-street";
const GENERATED_DATASET = "dollar-street-generated";
const ZENODO = "https://zenodo.org/records/10970014/files";
const STANDIN_SEED = 2024;

export const STANDIN_MESSAGE = "generated stand-in data; get the real dataset with npm run data -- dollar-street";

/** Check an images array: int32 (N, 64, 64, 3) with values 0..255. Returns the images as uint8. */
function checkImages(file: string, expectedCount?: number): { images: Uint8Array; count: number } {
  const arr = readNpyFile(file);
  const [n, h, w, c] = arr.shape;
  if (arr.shape.length !== 4 || h !== 64 || w !== 64 || c !== 3) throw new Error(`${file}: shape (${arr.shape.join(", ")}), expected (N, 64, 64, 3).`);
  if (expectedCount !== undefined && n !== expectedCount) throw new Error(`${file}: ${n} images, expected ${expectedCount}.`);
  if (arr.dtype !== "<i4" && arr.dtype !== "|u1") throw new Error(`${file}: dtype ${arr.dtype}, expected int32 (<i4).`);
  const images = new Uint8Array(arr.data.length);
  const data = arr.data as Int32Array | Uint8Array;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0 || v > 255) throw new Error(`${file}: pixel value ${v} at index ${i} is outside 0..255.`);
    images[i] = v;
  }
  return { images, count: n };
}

/** Check a labels array: 1-D integers 0..9. */
function checkLabels(file: string): Int32Array {
  const arr = readNpyFile(file);
  if (arr.shape.length !== 1) throw new Error(`${file}: shape (${arr.shape.join(", ")}), expected (N,).`);
  const labels = npyToInt32(arr, file);
  const bad = labels.findIndex((l) => l < 0 || l > 9);
  if (bad >= 0) throw new Error(`${file}: label ${labels[bad]} at index ${bad} is outside 0..9.`);
  return labels;
}

function realSpec(name: string, check: (f: string) => void): FileSpec {
  // Zenodo publishes md5 sums on the record page, but they could not be obtained here: the files are checked by
  // structure and the sha256 of what was accepted is kept in the cache manifest.
  return { name, url: `${ZENODO}/${name}`, mirrorPath: `${DATASET}/${name}`, check };
}

export const DOLLAR_STREET_FILES: FileSpec[] = [
  realSpec("train_images.npy", (f) => void checkImages(f, DOLLAR_STREET_TRAIN_COUNT)),
  realSpec("train_labels.npy", (f) => void checkLabels(f)),
  realSpec("test_images.npy", (f) => void checkImages(f)),
  realSpec("test_labels.npy", (f) => void checkLabels(f)),
];

export interface DollarStreetOptions extends SubsetOptions, FetchOptions {
  /** Fall back to the generated stand-in when the real files cannot be had (default true). */
  allowGenerated?: boolean;
  /** Use the generated stand-in even if the real data is available (tests, demos). */
  forceGenerated?: boolean;
}

export interface DollarStreetDataset extends ImageDataset {
  /** "real": the Zenodo files; "generated": the synthetic stand-in (see `note`). */
  source: "real" | "generated";
  /** Folder the .npy files were read from. */
  folder: string;
  note: string;
}

function readSplit(folder: string, split: "train" | "test"): ImageSplit {
  const imagesFile = path.join(folder, `${split}_images.npy`);
  const { images, count } = checkImages(imagesFile);
  const labels = checkLabels(path.join(folder, `${split}_labels.npy`));
  if (labels.length !== count) throw new Error(`${folder}: ${count} ${split} images but ${labels.length} labels.`);
  return { images, labels, count, height: 64, width: 64, channels: 3 };
}

/** The folder holding the stand-in files (created on demand): `<dataDir()>/dollar-street-generated`. */
export function ensureDollarStreetStandIn(): string {
  const folder = path.join(dataDir(), GENERATED_DATASET);
  const stampFile = path.join(folder, "STAND-IN.json");
  let ok = false;
  try {
    const stamp = JSON.parse(fs.readFileSync(stampFile, "utf8"));
    ok = stamp.version === STANDIN_VERSION && stamp.seed === STANDIN_SEED && ["train", "test"].every((s) => fs.existsSync(path.join(folder, `${s}_images.npy`)));
  } catch {
    ok = false;
  }
  if (!ok) writeDollarStreetStandIn(folder, { seed: STANDIN_SEED });
  return folder;
}

/** A banner that stands out in a notebook; no right-hand border, so long lines (URLs) wrap cleanly. */
function shout(lines: string[]): void {
  const bar = "!".repeat(80);
  console.warn([bar, ...lines.map((l) => `!! ${l}`), bar].join("\n"));
}

/**
 * Load Dollar Street 10: uint8 images [N, 64, 64, 3] (0..255) and labels 0..9, with the class names.
 * Real data if cached, mirrored or downloadable; otherwise the generated stand-in (loudly announced).
 */
export async function loadDollarStreet(opts: DollarStreetOptions = {}): Promise<DollarStreetDataset> {
  let reasons = ["forceGenerated was set"];
  if (!opts.forceGenerated) {
    try {
      const files = [];
      for (const spec of DOLLAR_STREET_FILES) files.push(await ensureFile(DATASET, spec, opts));
      return readDataset(path.dirname(files[0]), "real", "Dollar Street 10 (Zenodo 10970014, CC BY 4.0)", opts);
    } catch (e) {
      if (!(e instanceof DatasetUnavailableError) || opts.allowGenerated === false) throw e;
      // The bullet lines of the error say what was tried ("not in the mirror ...", "no internet ...").
      reasons = e.message
        .split("\n")
        .filter((l) => l.startsWith("  - "))
        .map((l) => l.slice(4, 110));
    }
  }
  const folder = ensureDollarStreetStandIn();
  shout([
    `DOLLAR STREET: ${STANDIN_MESSAGE}`,
    "These are synthetic shapes, not photos: accuracies will differ from the lesson text.",
    ...reasons.map((r) => `why: ${r}`),
  ]);
  return readDataset(folder, "generated", STANDIN_MESSAGE, opts);
}

/** Both splits from a folder of the four .npy files, cut to the subset the options ask for. */
function readDataset(folder: string, source: DollarStreetDataset["source"], note: string, opts: DollarStreetOptions): DollarStreetDataset {
  const ds: DollarStreetDataset = {
    classNames: [...DOLLAR_STREET_CLASS_NAMES],
    train: readSplit(folder, "train"),
    test: readSplit(folder, "test"),
    source,
    folder,
    note,
  };
  const subset = subsetDataset(ds, opts);
  const what = source === "real" ? "REAL Dollar Street 10 photos" : "the GENERATED STAND-IN (synthetic shapes, not photos)";
  console.log(
    `Data: ${what}: ${subset.train.count} training and ${subset.test.count} test images` +
      (subset.train.count < ds.train.count ? ` (a subset of ${ds.train.count} / ${ds.test.count})` : "") +
      `, from ${folder}`,
  );
  return subset;
}
