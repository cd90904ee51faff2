/**
 * The weight penalties of a model (kernelRegularizer: tf.regularizers.l2(...) and the like), for a training loop.
 *
 * tfjs's model.fit adds them to the loss, but model.calculateLosses() finds none in a tf.sequential model or in a
 * model nested inside another one; this walks every layer, nested models included, and asks each for its own.
 */
import * as tf from "@tensorflow/tfjs";

function collect(layer: tf.layers.Layer, seen: Set<tf.layers.Layer>, out: tf.Scalar[]): void {
  if (seen.has(layer)) return; // a layer used twice has one set of weights: penalise it once
  seen.add(layer);
  const inner = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
  if (Array.isArray(inner)) {
    for (const l of inner) collect(l, seen, out);
    return;
  }
  for (const penalty of layer.calculateLosses()) out.push(penalty as tf.Scalar);
}

/** One scalar per regularized weight; their sum is what training adds to the loss. */
export function regularizationLosses(model: tf.LayersModel): tf.Scalar[] {
  const out: tf.Scalar[] = [];
  const seen = new Set<tf.layers.Layer>();
  for (const layer of model.layers) collect(layer, seen, out);
  return out;
}
