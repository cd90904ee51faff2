/** A tiny learnable problem shared by the training tests: is the top (label 1) or bottom (0) half brighter? */
import * as tf from "@tensorflow/tfjs";
import { configurableModel } from "../../lib/models";

export function toyData(n: number, seed: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const y = tf.cast(tf.greater(tf.randomUniform([n], 0, 1, "float32", seed), 0.5), "int32") as tf.Tensor1D;
    const rowIsTop = tf.less(tf.range(0, 16), 8).reshape([1, 16, 1, 1]);
    const topBright = tf.cast(y, "bool").reshape([n, 1, 1, 1]);
    // Bright half at 0.6, dark half at 0.2, plus noise.
    const bright = tf.cast(tf.equal(rowIsTop, topBright), "float32").mul(0.4).add(0.2);
    const noise = tf.randomUniform([n, 16, 16, 1], -0.2, 0.2, "float32", seed + 1000);
    const x = tf.add(tf.broadcastTo(bright, [n, 16, 16, 1]), noise) as tf.Tensor4D;
    return { x, y };
  });
}

export function toyModel(seed = 1): tf.LayersModel {
  return configurableModel({
    inputShape: [16, 16, 1],
    numClasses: 2,
    convLayers: 1,
    filters: 4,
    denseUnits: 8,
    dropoutRate: 0,
    seed,
  });
}
