/**
 * Prepared runs: a long training run done before class (on a teacher's machine, overnight, or on a GPU) that a
 * lesson replays instead of training again.
 *
 *   const history = await trainOrReplay(model, data, { epochs: 10, validationData: val }, { name: "baseline" });
 *
 * trainOrReplay works out a key from everything that decides the outcome of train(model, data, opts): the model's
 * topology (layer classes and settings, not their auto-generated names), its current weights (so the seed it was
 * built with and any earlier training), how it was compiled (optimizer and settings, loss, metrics), the exact
 * training and validation data (a sha256 of the pixels and labels), and the training settings (epochs, batch size,
 * shuffling seed, validation split, callbacks and augmentation with their settings). When a run with that key was
 * stored, it loads its weights into `model`, prints a banner saying so, replays the history and returns it;
 * otherwise it trains. Any change to any of these gives another key, so an old run is never taken for a new one.
 *
 * Runs are stored after training when `save: true` or LESSONS_PREPARE_RUNS=1 (what `npm run prepare-class` sets),
 * under build/prepared-runs/<name>-<key>/ (LESSONS_PREPARED_RUNS=<folder> to use another, e.g. one copied from
 * the teacher's machine). `force: true`, or LESSONS_REPLAY=off for every cell, trains even when a run exists.
 * What is not stored: the optimizer's state (a replayed model trained further starts Adam afresh).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs";
import { ScaledImages } from "./data/scaled-images";
import { buildDir } from "./paths";
import { preparedRunsSetting, prepareRunsOn, replayOff } from "./config";
import { formatMetrics } from "./progress";
import { train, type LabelledData, type TrainHistory, type TrainOptions } from "./train";

const FORMAT = 1;

export interface PreparedRunOptions {
  /** A short name for the run, e.g. "baseline": shown in the banner and used in the folder name. */
  name: string;
  /** Train even when a prepared run exists (the run is then stored again only when saving is on). Default false. */
  force?: boolean;
  /** Store the run after training. Default: true when LESSONS_PREPARE_RUNS=1 (set by `npm run prepare-class`). */
  save?: boolean;
  /** Folder of prepared runs. Default: LESSONS_PREPARED_RUNS, else build/prepared-runs. */
  dir?: string;
  /** Where the banner and replayed epochs go. Default: console.log. */
  print?: (line: string) => void;
}

export interface PreparedRunInfo {
  name: string;
  key: string;
  /** When and on what it was trained. */
  createdAt: string;
  machine: string;
  /** Training seconds of the original run. */
  seconds: number;
}

/** What trainOrReplay returns: train()'s history, plus `prepared` when it was replayed from a stored run. */
export interface ReplayableHistory extends TrainHistory {
  prepared?: PreparedRunInfo;
}

interface StoredRun extends PreparedRunInfo {
  format: number;
  history: TrainHistory;
  weights: { name: string; shape: number[]; dtype: string }[];
  /** A readable summary of what the key covers (not used for matching). */
  described: Record<string, unknown>;
}

/** The folder of prepared runs. */
export function preparedRunsDir(dir?: string): string {
  return path.resolve(dir ?? preparedRunsSetting() ?? path.join(buildDir(), "prepared-runs"));
}

/** One line saying what this machine is, stored with a run. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const gb = Math.round(os.totalmem() / 2 ** 30);
  return `${cpus[0]?.model?.trim() ?? "unknown CPU"}, ${cpus.length} cores, ${gb} GB, ${os.platform()} ${os.arch()}, ` +
    `Node ${process.version}, TensorFlow.js ${tf.version.tfjs} on the ${tf.getBackend()} backend`;
}

// ---- The key ----

function hashBytes(hash: crypto.Hash, data: ArrayBufferView): void {
  hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** sha256 of images (tensor or ScaledImages) and labels, with their shapes. */
function hashData(x: tf.Tensor | ScaledImages, y: tf.Tensor): string {
  const hash = crypto.createHash("sha256");
  if (x instanceof ScaledImages) {
    hash.update(`bytes ${x.shape} * ${x.scale}|`);
    hashBytes(hash, x.pixels);
  } else {
    hash.update(`${x.dtype} ${x.shape}|`);
    hashBytes(hash, x.dataSync());
  }
  hash.update(`|${y.dtype} ${y.shape}|`);
  hashBytes(hash, y.dataSync());
  return hash.digest("hex");
}

function unpackData(data: LabelledData, what: string): { x: tf.Tensor | ScaledImages; y: tf.Tensor } {
  const [x, y] = Array.isArray(data) ? data : [data?.x, data?.y];
  if (!(x instanceof tf.Tensor || x instanceof ScaledImages) || !(y instanceof tf.Tensor)) {
    throw new Error(`${what} must be {x: images, y: labels tensor} or [images, labels].`);
  }
  return { x, y };
}

/**
 * The model's architecture as JSON with layer names replaced by their position: tfjs numbers its layers per
 * session (conv2d_1, conv2d_7, ...), so the same model built twice gets other names but must get the same key.
 */
export function canonicalTopology(model: tf.LayersModel): unknown {
  const names = new Map(model.layers.map((l, i) => [l.name, `#${i}`]));
  const json = model.toJSON(null, false) as { config?: { name?: string } };
  if (json.config) delete json.config.name;
  const rename = (v: unknown): unknown => {
    if (typeof v === "string") return names.get(v) ?? v;
    if (Array.isArray(v)) return v.map(rename);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, w]) => [k, rename(w)]));
    return v;
  };
  return rename(json);
}

function hashWeights(model: tf.LayersModel): string {
  const hash = crypto.createHash("sha256");
  for (const w of model.weights) {
    const t = w.read();
    hash.update(`${w.shape}|${w.dtype}|`);
    hashBytes(hash, t.dataSync());
  }
  return hash.digest("hex");
}

const SKIP_KEYS = new Set(["model", "params", "validationData"]);

/**
 * The settings of a callback or augmenter: its class and the numbers, strings and flags it holds (nested objects
 * followed a few levels; models, tensors and functions skipped). Two callbacks of the same class and settings
 * describe alike.
 */
export function describeObject(value: unknown, depth = 0): unknown {
  if (value === null || ["number", "string", "boolean"].includes(typeof value)) {
    return typeof value === "number" && !Number.isFinite(value) ? String(value) : value;
  }
  if (typeof value !== "object" || depth > 3) return undefined;
  if (value instanceof tf.Tensor || value instanceof tf.LayersModel || value instanceof tf.Optimizer) return undefined;
  if (Array.isArray(value)) return value.length > 64 ? `[${value.length} items]` : value.map((v) => describeObject(v, depth + 1));
  const out: Record<string, unknown> = { class: value.constructor?.name ?? "Object" };
  for (const key of Object.keys(value).sort()) {
    if (SKIP_KEYS.has(key)) continue;
    const d = describeObject((value as Record<string, unknown>)[key], depth + 1);
    if (d !== undefined) out[key] = d;
  }
  return out;
}

function describeCompile(model: tf.LayersModel): unknown {
  const opt = model.optimizer;
  if (!opt) throw new Error(`The model is not compiled. Call compileForClassification(model) (lib/train) first.`);
  const loss = (model as unknown as { loss?: unknown }).loss;
  const metrics = (model as unknown as { metrics?: unknown }).metrics;
  const name = (f: unknown) => (typeof f === "function" ? f.name : String(f));
  return {
    optimizer: opt.getClassName(),
    optimizerConfig: opt.getConfig(),
    loss: Array.isArray(loss) ? loss.map(name) : name(loss),
    metrics: Array.isArray(metrics) ? metrics.map(name) : name(metrics),
  };
}

/** Everything the key is made from, in readable form (data and weights as sha256). */
export function describeRun(model: tf.LayersModel, data: LabelledData, opts: TrainOptions): Record<string, unknown> {
  const train = unpackData(data, "Training data");
  const val = opts.validationData ? unpackData(opts.validationData, "validationData") : undefined;
  return {
    format: FORMAT,
    topology: canonicalTopology(model),
    weights: hashWeights(model),
    compile: describeCompile(model),
    data: { images: train.x.shape, sha256: hashData(train.x, train.y) },
    validationData: val ? { images: val.x.shape, sha256: hashData(val.x, val.y) } : null,
    settings: {
      epochs: opts.epochs,
      batchSize: opts.batchSize ?? 32,
      seed: opts.seed ?? 42,
      validationSplit: opts.validationSplit ?? 0,
      callbacks: (opts.callbacks ?? []).map((c) => describeObject(c)),
      augment: opts.augment ? describeObject(opts.augment) : null,
    },
  };
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The key of a run: sha256 of describeRun's result, in a stable key order. */
export function preparedRunKey(model: tf.LayersModel, data: LabelledData, opts: TrainOptions): string {
  return crypto.createHash("sha256").update(stableJson(describeRun(model, data, opts))).digest("hex");
}

// ---- Storing and loading ----

function safeName(name: string): string {
  if (typeof name !== "string" || !/^[A-Za-z0-9][\w.-]{0,63}$/.test(name)) {
    throw new Error(`A prepared run needs a short name of letters, digits, "-", "_" or "." (like "baseline"); got ${JSON.stringify(name)}.`);
  }
  return name;
}

function runFolder(dir: string, name: string, key: string): string {
  return path.join(dir, `${safeName(name)}-${key.slice(0, 20)}`);
}

/** The stored run for this key, or undefined. A damaged run is reported and ignored. */
export function findPreparedRun(dir: string, name: string, key: string): (StoredRun & { folder: string }) | undefined {
  const folder = runFolder(dir, name, key);
  const file = path.join(folder, "run.json");
  if (!fs.existsSync(file)) return undefined;
  try {
    const run = JSON.parse(fs.readFileSync(file, "utf8")) as StoredRun;
    if (run.format !== FORMAT || run.key !== key) return undefined;
    const bytes = run.weights.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1) * 4, 0);
    if (fs.statSync(path.join(folder, "weights.bin")).size !== bytes) throw new Error("weights.bin has the wrong size");
    return { ...run, folder };
  } catch (e) {
    console.error(`Ignoring the prepared run in ${folder}: ${(e as Error).message}. Delete the folder, or prepare it again.`);
    return undefined;
  }
}

/** Write weights + history + seconds + machine into the run's folder: a temporary folder, renamed into place. */
export function storePreparedRun(dir: string, name: string, key: string, model: tf.LayersModel, history: TrainHistory, described: Record<string, unknown>): string {
  const folder = runFolder(dir, name, key);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(dir, `.${path.basename(folder)}.saving-`));
  try {
    const weights = model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], dtype: w.dtype as string }));
    if (weights.some((w) => w.dtype !== "float32")) throw new Error("only float32 weights can be stored");
    const values = model.weights.map((w) => w.read().dataSync() as Float32Array);
    fs.writeFileSync(path.join(tmp, "weights.bin"), Buffer.concat(values.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength))));
    const run: StoredRun = {
      format: FORMAT, name, key, createdAt: new Date().toISOString(), machine: describeMachine(),
      seconds: history.seconds, history, weights, described: { ...described, topology: "(in the key)" },
    };
    fs.writeFileSync(path.join(tmp, "run.json"), JSON.stringify(run, null, 1) + "\n");
    fs.rmSync(folder, { recursive: true, force: true });
    fs.renameSync(tmp, folder);
    return folder;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

function loadWeightsInto(model: tf.LayersModel, run: StoredRun & { folder: string }): void {
  const buf = fs.readFileSync(path.join(run.folder, "weights.bin"));
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  if (run.weights.length !== model.weights.length) throw new Error(`${run.folder}: ${run.weights.length} weights stored, the model has ${model.weights.length}.`);
  let at = 0;
  const tensors = run.weights.map((w) => {
    const n = w.shape.reduce((p, d) => p * d, 1);
    const t = tf.tensor(all.subarray(at, at + n), w.shape, "float32");
    at += n;
    return t;
  });
  // setWeights assigns every weight, non-trainable ones (batch norm's moving statistics) included.
  model.setWeights(tensors);
  tf.dispose(tensors);
}

// ---- The banner ----

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The lines printed when a prepared run is replayed. */
export function replayBanner(run: PreparedRunInfo & { history: TrainHistory }, images: number): string[] {
  const epochs = run.history.epochs.length;
  const rule = "=".repeat(78);
  return [
    rule,
    `PREPARED RUN "${run.name}": replayed, not trained now. The weights and history below come from a run`,
    `made on ${run.createdAt.slice(0, 16).replace("T", " ")} UTC on ${run.machine}:`,
    `${epochs} epoch${epochs === 1 ? "" : "s"} on ${images.toLocaleString("en-US")} images in ${formatDuration(run.seconds)}.`,
    `To train here instead: pass { force: true } (the notebook's TRAIN_FRESH = true), or set LESSONS_REPLAY=off.`,
    rule,
  ];
}

// ---- The one call a lesson makes ----

/**
 * train(model, data, opts), or the replay of a run prepared earlier for exactly this model, data and settings.
 * See the module comment for what the key covers, where runs live and how to force training.
 */
export async function trainOrReplay(
  model: tf.LayersModel,
  data: LabelledData,
  opts: TrainOptions,
  run: PreparedRunOptions,
): Promise<ReplayableHistory> {
  const name = safeName(run?.name);
  const print = run.print ?? ((line: string) => console.log(line));
  const dir = preparedRunsDir(run.dir);
  const force = run.force === true || replayOff();
  const save = run.save ?? prepareRunsOn();
  if (force && !save) return train(model, data, opts);

  const described = describeRun(model, data, opts);
  const key = crypto.createHash("sha256").update(stableJson(described)).digest("hex");
  const stored = force ? undefined : findPreparedRun(dir, name, key);
  if (stored) {
    loadWeightsInto(model, stored);
    for (const line of replayBanner(stored, unpackData(data, "Training data").x.shape[0])) print(line);
    const h = stored.history.history;
    const epochs = stored.history.epochs.length;
    stored.history.epochs.forEach((e, i) => {
      const logs = { loss: h.loss[i], accuracy: h.accuracy[i], val_loss: h.val_loss?.[i], val_accuracy: h.val_accuracy?.[i] };
      print(`Epoch ${String(e + 1).padStart(String(epochs).length)}/${epochs} (replayed)${formatMetrics(logs)}`);
    });
    const { folder: _folder, format: _format, weights: _weights, described: _described, history, ...info } = stored;
    return { ...history, prepared: info };
  }
  const history = await train(model, data, opts);
  if (save) {
    const folder = storePreparedRun(dir, name, key, model, history, described);
    print(`Stored this run as prepared run "${name}" in ${folder}.`);
  }
  return history;
}
