/**
 * Saving and loading models in the tfjs "layers" format: a folder holding model.json (architecture + weights
 * manifest) and weights.bin (all weights, float32 little-endian).
 *
 * Pure @tensorflow/tfjs (without tfjs-node) has no file:// handler, so we write the artifacts ourselves through
 * tf.io.withSaveHandler and read them back through tf.io.fromMemory.
 *
 * The loss and optimizer are not saved (tfjs saves no optimizer by default, and a custom loss function cannot be
 * serialized). A loaded model predicts right away; to train or evaluate it again, compile it: either
 * `loadModel(dir, {compile: true})` or `compileForClassification(model)` from lib/train.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import "./seeded-dropout"; // registers SeededDropout, so models with dropout can be loaded
import { compileForClassification } from "./train";

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

export interface LoadOptions {
  /** Compile the loaded model with compileForClassification (Adam + cross-entropy from logits + accuracy). */
  compile?: boolean;
  /** Learning rate when compile is true. Default 0.001. */
  learningRate?: number;
}

function weightBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/**
 * Write `model` to folder `dir` (created if needed; an existing model there is replaced). Files are written into
 * a temporary sibling folder first and renamed into place, so a crash never leaves a half-written model in `dir`.
 */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.saving-`));
  try {
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const weights = weightBuffer(artifacts.weightData);
        const modelJson: tf.io.ModelJSON = {
          modelTopology: artifacts.modelTopology as tf.io.ModelJSON["modelTopology"],
          format: artifacts.format ?? "layers-model",
          generatedBy: artifacts.generatedBy,
          convertedBy: artifacts.convertedBy ?? null,
          weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        };
        if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
        fs.writeFileSync(path.join(tmp, WEIGHTS_BIN), Buffer.from(weights));
        fs.writeFileSync(path.join(tmp, MODEL_JSON), JSON.stringify(modelJson));
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
    );
    // Swap the finished folder into place; the old model (if any) is moved aside first and removed after.
    let old: string | undefined;
    if (fs.existsSync(target)) {
      old = `${tmp}.old`;
      fs.renameSync(target, old);
    }
    fs.renameSync(tmp, target);
    if (old) fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Read a model written by saveModel (or any tfjs layers-format folder whose weight files lie inside it). */
export async function loadModel(dir: string, opts: LoadOptions = {}): Promise<tf.LayersModel> {
  const root = path.resolve(dir);
  const jsonPath = path.join(root, MODEL_JSON);
  if (!fs.existsSync(jsonPath)) {
    throw new Error(`No ${MODEL_JSON} in ${root}. Save a model there first with saveModel(model, dir).`);
  }
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
  } catch (err) {
    throw new Error(`${jsonPath} is not valid JSON (${(err as Error).message}); save the model again.`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${jsonPath} is not a tfjs layers model (no modelTopology or weightsManifest).`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const rel of group.paths) {
      const file = path.resolve(root, rel);
      const inside = path.relative(root, file);
      if (inside === "" || inside.startsWith("..") || path.isAbsolute(inside)) {
        throw new Error(`Refusing weight file "${rel}" in ${jsonPath}: weight files must lie inside ${root}.`);
      }
      const bytes = fs.readFileSync(file);
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: specs,
      weightData: tf.io.CompositeArrayBuffer.join(buffers),
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
    }),
  );
  if (opts.compile) compileForClassification(model, { learningRate: opts.learningRate });
  return model;
}
