/**
 * Pretrained MobileNet v1 (alpha 0.25, 224x224, ImageNet, Apache 2.0) in TensorFlow.js layers format.
 *
 * Pure tfjs cannot read file:// URLs, so the cached model.json and weight shards are read here and handed to
 * tf.io.fromMemory. The weights do not depend on the input size, so the input shape can be changed (e.g. to
 * 96x96 for transfer learning on small images) before the model is built.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { dataCommand, datasetDir, ensureFile, FetchOptions, FileSpec, mirrorDir } from "./cache";
import { MOBILENET_MIRROR_FILES } from "./mobilenetChecksums";
import { RgbImage } from "./imageFolder";

const DATASET = "mobilenet_v1_0.25_224";
const BASE_URL = "https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224";
const CLASSES_URL = "https://unpkg.com/@tensorflow-models/mobilenet@2.1.1/dist/imagenet_classes.js";

/** Layer whose output is the 256-number feature vector used for transfer learning. */
export const MOBILENET_FEATURE_LAYER = "global_average_pooling2d_1";

interface WeightGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

interface ModelJson {
  modelTopology: { model_config?: { config?: { layers?: { class_name: string; config: { batch_input_shape?: (number | null)[] } }[] } } };
  weightsManifest: WeightGroup[];
}

export interface MobileNetOptions extends FetchOptions {
  /** Input height and width (default 224). Anything from 32 up works; 96 is a good size for small images. */
  inputSize?: number | [number, number];
}

export interface Prediction {
  className: string;
  index: number;
  probability: number;
}

export interface MobileNet {
  model: tf.LayersModel;
  /** The 1000 ImageNet class names, index = output unit. */
  classNames: string[];
  inputSize: [number, number];
  /** Resize (after a centre crop) and scale 0..255 pixels to [-1, 1], the range this network was trained on. */
  preprocess(images: tf.Tensor3D | tf.Tensor4D, opts?: { centerCrop?: boolean }): tf.Tensor4D;
  /** Top-k ImageNet classes for one image (RgbImage or [h, w, 3] tensor of 0..255 values). */
  classify(image: RgbImage | tf.Tensor3D, topK?: number): Promise<Prediction[]>;
  /** A model from the same input to the 256 features at `global_average_pooling2d_1` (shares the weights). */
  featureExtractor(): tf.LayersModel;
}

/** A weight path from model.json must stay inside the model's folder: no URL, absolute path or "..". */
export function checkWeightPath(p: string, modelJson = "model.json"): void {
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || path.isAbsolute(p) || p.startsWith("\\") || p.split(/[\\/]+/).includes("..") || p.length === 0) {
    throw new Error(`${modelJson} points a weight file outside its folder ("${p}"); refusing to load it. Weight paths must be plain file names.`);
  }
}

/** Read and check model.json: topology present, weightsManifest well formed, weight paths safe. */
export function readModelJson(file: string): ModelJson {
  let json: ModelJson;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message}); delete it and fetch it again: ${dataCommand(DATASET)}`);
  }
  if (!json || typeof json.modelTopology !== "object" || json.modelTopology === null) throw new Error(`${file} has no modelTopology.`);
  if (!Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) throw new Error(`${file} has no weightsManifest.`);
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group.paths) || !Array.isArray(group.weights)) throw new Error(`${file}: malformed weightsManifest entry.`);
    group.paths.forEach((p) => checkWeightPath(p, file));
  }
  return json;
}

function groupBytes(group: WeightGroup): number {
  return group.weights.reduce((sum, w) => {
    if (w.dtype !== "float32" || w.quantization) throw new Error(`unsupported weight ${w.name} (${w.dtype}${w.quantization ? ", quantized" : ""})`);
    return sum + 4 * w.shape.reduce((a, b) => a * b, 1);
  }, 0);
}

/** The 1000 names: a JSON array, or the tfjs-models `imagenet_classes.js` object literal. */
export function readClassNames(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  let names: string[];
  if (text.trimStart().startsWith("[")) {
    names = JSON.parse(text);
  } else {
    names = [];
    for (const m of text.matchAll(/(\d+)\s*:\s*(['"])((?:\\.|(?!\2).)*)\2/g)) names[Number(m[1])] = m[3].replace(/\\(.)/g, "$1");
  }
  if (names.length !== 1000 || names.some((n) => typeof n !== "string")) {
    throw new Error(`${file} should hold 1000 ImageNet class names, found ${names.filter((n) => typeof n === "string").length}.`);
  }
  return names;
}

function fileSpec(name: string, fromMirror: boolean, url: string | undefined, check?: (f: string) => void): FileSpec {
  const known = MOBILENET_MIRROR_FILES[name];
  return {
    name,
    url,
    mirrorPath: `${DATASET}/${name}`,
    // The published sha256 values describe the mirror's copies; other sources are checked by structure/size.
    ...(fromMirror && known ? { bytes: known[0], sha256: known[1] } : {}),
    check,
  };
}

/** Fetch (or find in the cache) every file of the model; returns their paths. */
export async function ensureMobileNetFiles(opts: FetchOptions = {}): Promise<{ modelJson: string; shards: string[]; classes: string }> {
  const mirror = opts.mirror === undefined ? mirrorDir() : opts.mirror;
  const inMirror = (name: string) => !!mirror && fs.existsSync(path.join(mirror, DATASET, name));
  const modelJson = await ensureFile(DATASET, fileSpec("model.json", inMirror("model.json"), `${BASE_URL}/model.json`, (f) => void readModelJson(f)), opts);
  const json = readModelJson(modelJson);
  const shards: string[] = [];
  for (const group of json.weightsManifest) {
    const expected = groupBytes(group);
    for (const p of group.paths) {
      const spec = fileSpec(p, inMirror(p), `${BASE_URL}/${p}`, (f) => {
        if (group.paths.length === 1 && fs.statSync(f).size !== expected) {
          throw new Error(`size ${fs.statSync(f).size} bytes, but model.json's weights need ${expected}.`);
        }
      });
      shards.push(await ensureFile(DATASET, spec, opts));
    }
  }
  const classes = await ensureFile(DATASET, fileSpec("imagenet_classes.json", inMirror("imagenet_classes.json"), CLASSES_URL, (f) => void readClassNames(f)), opts);
  return { modelJson, shards, classes };
}

function setInputSize(json: ModelJson, size: [number, number]): void {
  const layers = json.modelTopology.model_config?.config?.layers ?? [];
  const input = layers.find((l) => l.class_name === "InputLayer");
  if (!input || !input.config.batch_input_shape) throw new Error("model.json has no InputLayer with a batch_input_shape to change.");
  const channels = input.config.batch_input_shape[3] ?? 3;
  input.config.batch_input_shape = [null, size[0], size[1], channels];
}

/**
 * Load the pretrained MobileNet v1 0.25 from the cache (fetching it from the mirror or the internet on first use).
 * `inputSize` changes the input resolution before the model is built.
 */
export async function loadMobileNet(opts: MobileNetOptions = {}): Promise<MobileNet> {
  const files = await ensureMobileNetFiles(opts);
  const json = readModelJson(files.modelJson);
  const size: [number, number] = Array.isArray(opts.inputSize) ? opts.inputSize : [opts.inputSize ?? 224, opts.inputSize ?? 224];
  if (size.some((s) => !Number.isInteger(s) || s < 32)) throw new RangeError(`inputSize must be whole numbers >= 32, got ${size.join("x")}`);
  setInputSize(json, size);

  const dir = datasetDir(DATASET);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
  }
  const all = Buffer.concat(buffers);
  const expected = json.weightsManifest.reduce((s, g) => s + groupBytes(g), 0);
  if (all.length !== expected) throw new Error(`MobileNet weight shards hold ${all.length} bytes but model.json needs ${expected}; delete ${dir} and fetch it again: ${dataCommand(DATASET)}`);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelJSON["modelTopology"], weightSpecs, weightData }));
  const classNames = readClassNames(files.classes);
  return makeMobileNet(model, classNames, size);
}

function makeMobileNet(model: tf.LayersModel, classNames: string[], inputSize: [number, number]): MobileNet {
  const preprocess = (images: tf.Tensor3D | tf.Tensor4D, opts: { centerCrop?: boolean } = {}): tf.Tensor4D =>
    tf.tidy(() => {
      let x = (images.rank === 3 ? tf.expandDims(images, 0) : images).toFloat() as tf.Tensor4D;
      if (opts.centerCrop !== false) {
        const [h, w] = [x.shape[1], x.shape[2]];
        const side = Math.min(h, w);
        x = tf.slice(x, [0, Math.floor((h - side) / 2), Math.floor((w - side) / 2), 0], [-1, side, side, -1]);
      }
      x = tf.image.resizeBilinear(x, inputSize);
      return tf.sub(tf.div(x, 127.5), 1) as tf.Tensor4D;
    });
  return {
    model,
    classNames,
    inputSize,
    preprocess,
    async classify(image, topK = 5) {
      const t = image instanceof tf.Tensor ? image : tf.tensor3d(Float32Array.from(image.data), [image.height, image.width, 3]);
      const probs = tf.tidy(() => (model.predict(preprocess(t)) as tf.Tensor).reshape([-1]));
      if (t !== image) t.dispose();
      const values = await probs.data();
      probs.dispose();
      return Array.from(values, (p, i) => ({ p, i }))
        .sort((a, b) => b.p - a.p)
        .slice(0, topK)
        .map(({ p, i }) => ({ className: classNames[i], index: i, probability: p }));
    },
    featureExtractor() {
      return mobilenetFeatureExtractor(model);
    },
  };
}

/** Cut a MobileNet at `layerName` (default global_average_pooling2d_1: 256 features per image). */
export function mobilenetFeatureExtractor(model: tf.LayersModel, layerName = MOBILENET_FEATURE_LAYER): tf.LayersModel {
  const layer = model.getLayer(layerName);
  return tf.model({ inputs: model.inputs, outputs: layer.output as tf.SymbolicTensor, name: `mobilenet_features_${layerName}` });
}
