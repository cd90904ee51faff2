/**
 * Transfer learning helpers: cut a pretrained network at a named layer, freeze and unfreeze layers by name or by
 * block, keep frozen batch-normalization layers in inference mode, and compute a base's features once, in batches.
 *
 * The tfjs trap this module exists for: a BatchNormalization layer called with `training: true` normalizes with the
 * batch's own mean and variance AND moves its stored statistics toward them, even when `trainable` is false (Keras
 * since TF 2 runs a non-trainable batch-norm layer in inference mode; tfjs does not). A "frozen" base trained inside
 * a model therefore still changes. `keepFrozenBatchNormInInference` gives tfjs the Keras behaviour, and
 * `extractFeatures` sidesteps the problem by running the base with predict (inference mode) once.
 */
import * as tf from "@tensorflow/tfjs";
import type { ImageSplit } from "./data/images";
import { imagesToTensor } from "./data/images";
import { detectProgressMode, formatBar } from "./progress";
import { writeCellText } from "./cell-output";
import { interruptTicket } from "./interrupt";

/** Which layers: exact names, a RegExp tested on names, a list of either, or a range `{ from, to }` (inclusive). */
export type LayerSelector = string | RegExp | Array<string | RegExp> | { from: string; to?: string };

function describeNames(model: tf.LayersModel, near?: string): string {
  const names = model.layers.map((l) => l.name);
  const hint = near ? names.filter((n) => n.includes(near.replace(/_?\d+$/, ""))).slice(0, 8) : [];
  const shown = (hint.length > 0 ? hint : names.slice(-8)).join(", ");
  return `${model.name} has ${names.length} layers (e.g. ${shown}); see summary(model) for all names.`;
}

function layerIndex(model: tf.LayersModel, name: string): number {
  const i = model.layers.findIndex((l) => l.name === name);
  if (i < 0) throw new Error(`No layer named "${name}". ${describeNames(model, name)}`);
  return i;
}

/** The layers a selector picks, in model order. Throws when a name is unknown or nothing matches. */
export function selectLayers(model: tf.LayersModel, which: LayerSelector): tf.layers.Layer[] {
  const layers = model.layers;
  if (typeof which === "object" && !Array.isArray(which) && !(which instanceof RegExp)) {
    const from = layerIndex(model, which.from);
    const to = which.to === undefined ? layers.length - 1 : layerIndex(model, which.to);
    if (to < from) throw new Error(`Layer "${which.to}" comes before "${which.from}"; give { from, to } in model order.`);
    return layers.slice(from, to + 1);
  }
  const parts = Array.isArray(which) ? which : [which];
  if (parts.length === 0) throw new Error("The layer selector is an empty list; name at least one layer.");
  for (const p of parts) if (typeof p === "string") layerIndex(model, p);
  const picked = layers.filter((l) => parts.some((p) => (typeof p === "string" ? l.name === p : p.test(l.name))));
  if (picked.length === 0) throw new Error(`No layer matches ${parts.map(String).join(", ")}. ${describeNames(model)}`);
  return picked;
}

/** Names of MobileNet v1's depthwise-separable block `n` (1..13): conv_dw_n, conv_pw_n and their _bn/_relu layers. */
export function mobilenetBlock(n: number): RegExp {
  if (!Number.isInteger(n) || n < 1 || n > 13) throw new RangeError(`MobileNet v1 has blocks 1..13, got ${n}.`);
  return new RegExp(`^conv_(dw|pw)_${n}(_bn|_relu)?$`);
}

function setTrainable(model: tf.LayersModel, which: LayerSelector | undefined, value: boolean): string[] {
  const layers = which === undefined ? model.layers : selectLayers(model, which);
  for (const layer of layers) layer.trainable = value;
  return layers.map((l) => l.name);
}

/**
 * Make layers non-trainable (all of them when `which` is left out); returns the names changed.
 * Recompile afterwards, as in Keras: the optimizer's state belongs to the old set of weights.
 */
export function freeze(model: tf.LayersModel, which?: LayerSelector): string[] {
  return setTrainable(model, which, false);
}

/** Make layers trainable again (all when `which` is left out); returns the names changed. Recompile afterwards. */
export function unfreeze(model: tf.LayersModel, which?: LayerSelector): string[] {
  return setTrainable(model, which, true);
}

/** Trainable and non-trainable parameter counts (batch-norm moving statistics count as non-trainable). */
export function parameterCounts(model: tf.LayersModel): { trainable: number; nonTrainable: number } {
  const count = (ws: tf.LayerVariable[]) => ws.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  return { trainable: count(model.trainableWeights), nonTrainable: count(model.nonTrainableWeights) };
}

/**
 * A model from `model`'s input to the output of `layerName`, sharing its layers and weights (nothing is copied):
 * freezing or training one changes the other.
 */
export function cutAt(model: tf.LayersModel, layerName: string, name = `${model.name}_to_${layerName}`): tf.LayersModel {
  const layer = model.layers[layerIndex(model, layerName)];
  if (Array.isArray(layer.output)) throw new Error(`Layer "${layerName}" has several outputs; cut at a layer with one.`);
  return tf.model({ inputs: model.inputs, outputs: layer.output, name });
}

const PATCHED = Symbol("frozenBatchNormPatched");

/**
 * Give every BatchNormalization layer in `model` Keras' rule: while its `trainable` is false it runs in inference
 * mode (stored statistics, no updates) even inside a training step. The rule is checked at each call, so later
 * freeze/unfreeze calls are honoured. Returns how many batch-norm layers the model has. Calling it twice is harmless.
 */
export function keepFrozenBatchNormInInference(model: tf.LayersModel): number {
  let count = 0;
  for (const layer of allLayers(model)) {
    if (layer.getClassName() !== "BatchNormalization") continue;
    count++;
    const tagged = layer as unknown as Record<symbol, boolean>;
    if (tagged[PATCHED]) continue;
    const original = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => original(inputs, { ...kwargs, training: layer.trainable && !!kwargs?.training });
    tagged[PATCHED] = true;
  }
  return count;
}

/**
 * Make every `relu6` activation layer in `model` call tf.relu6 (one kernel) instead of tfjs-layers' minimum(6, relu(x))
 * (two kernels, and the wasm backend's Minimum against a scalar is slow: in MobileNet v1 these two took about half of
 * an inference step). Same numbers, same gradient. Returns how many layers were changed.
 */
export function useFastRelu6(model: tf.LayersModel): number {
  let count = 0;
  for (const layer of allLayers(model)) {
    const holder = layer as unknown as { activation?: { getClassName(): string; apply(x: tf.Tensor): tf.Tensor } };
    if (layer.getClassName() !== "Activation" || holder.activation?.getClassName() !== "relu6") continue;
    const original = holder.activation;
    holder.activation = Object.assign(Object.create(original), { apply: (x: tf.Tensor) => tf.relu6(x) });
    count++;
  }
  return count;
}

/** Layers of a model and of the models nested in it (a base used as one layer of a bigger model). */
function allLayers(model: tf.LayersModel): tf.layers.Layer[] {
  return model.layers.flatMap((l) => (l instanceof tf.LayersModel ? [l, ...allLayers(l)] : [l]));
}

export interface ResizeImagesArgs {
  height: number;
  width: number;
  name?: string;
}

/**
 * A layer that resizes [n, h, w, c] images bilinearly to height x width, as tf.image.resizeBilinear does (and as
 * lib/data's MobileNet `preprocess`). tfjs 4.22's own tf.layers.resizing cannot stand in: it samples with aligned
 * corners and fails on the list of inputs a model hands to its layers.
 */
export class ResizeImages extends tf.layers.Layer {
  static className = "ResizeImages";
  private readonly height: number;
  private readonly width: number;

  constructor(args: ResizeImagesArgs) {
    super({ name: args.name });
    if (![args?.height, args?.width].every((v) => Number.isInteger(v) && v > 0)) {
      throw new Error(`resizeImages needs whole-number {height, width} above 0, got ${JSON.stringify(args)}.`);
    }
    this.height = args.height;
    this.width = args.width;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], this.height, this.width, shape[3]];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const images = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return tf.image.resizeBilinear(images, [this.height, this.width]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), height: this.height, width: this.width };
  }
}
tf.serialization.registerClass(ResizeImages);

/** `resizeImages({ height: 96, width: 96 })`: a layer that upscales (or shrinks) images inside a model. */
export function resizeImages(args: ResizeImagesArgs): ResizeImages {
  return new ResizeImages(args);
}

export interface ExtractOptions {
  /** Images per predict call (default 64); memory use grows with it, not with the number of images. */
  batchSize?: number;
  /** Turns a batch of 0..255 pixels into the base's input (for MobileNet: its `preprocess`, which resizes and
   * scales to -1..1). Default: the pixels unchanged. The batch is disposed for you. */
  preprocess?: (pixels: tf.Tensor4D) => tf.Tensor;
  /** Called after each batch with images done and total. */
  onBatch?: (done: number, total: number) => void;
  /** "auto" (default): a live progress line, then a summary line; "none": silent. */
  progress?: "auto" | "none";
  /** Label for the progress line. Default "features". */
  label?: string;
}

/** Run the base in inference mode over every image, a batch at a time; returns [n, ...featureShape] float32. */
export async function extractFeatures(base: tf.LayersModel, images: ImageSplit | tf.Tensor4D, opts: ExtractOptions = {}): Promise<tf.Tensor> {
  const batchSize = opts.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${batchSize}.`);
  const n = images instanceof tf.Tensor ? images.shape[0] : images.count;
  if (!(n > 0)) throw new Error("extractFeatures got no images.");
  const outShape = base.outputs[0].shape.slice(1);
  if (outShape.some((d) => d == null)) throw new Error(`The base's output shape ${JSON.stringify(outShape)} is not fixed; give the model a fixed input size.`);
  const perImage = (outShape as number[]).reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * perImage); // plain memory: only one batch of tensors is alive at a time
  const progress = opts.progress === "none" ? "none" : detectProgressMode();
  const label = opts.label ?? "features";
  const started = Date.now();
  let lastDraw = 0;
  const interrupt = interruptTicket("Feature extraction");
  for (let start = 0; start < n; start += batchSize) {
    interrupt.check();
    const end = Math.min(n, start + batchSize);
    const features = tf.tidy(() => {
      const pixels = images instanceof tf.Tensor ? tf.slice(images, start, end - start) : imagesToTensor(images, { start, end });
      // One predict call per batch (predict's own default would split it again into slices of 32).
      return base.predict(opts.preprocess ? opts.preprocess(pixels as tf.Tensor4D) : pixels, { batchSize }) as tf.Tensor;
    });
    out.set(await features.data(), start * perImage);
    features.dispose();
    opts.onBatch?.(end, n);
    if ((progress === "live" || progress === "tty") && (Date.now() - lastDraw > 250 || end === n)) {
      lastDraw = Date.now();
      writeCellText(`\r${label} ${formatBar(end, n, 30)} ${end}/${n} images`);
      await new Promise((r) => setImmediate(r)); // let the notebook show the line
    }
  }
  const seconds = (Date.now() - started) / 1000;
  if (progress !== "none") {
    const rate = n / Math.max(seconds, 1e-3);
    writeCellText(`${progress === "epoch" ? "" : "\r"}${label}: ${n} images -> [${n}, ${outShape.join(", ")}] in ${seconds.toFixed(1)} s (${rate.toFixed(0)} images/s)\n`);
  }
  return tf.tensor(out, [n, ...(outShape as number[])], "float32");
}
