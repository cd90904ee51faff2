/**
 * Accuracy for models that output logits and are trained with integer labels.
 *
 * The exported function is named `accuracy` because tfjs names a metric after its function: with
 * `model.compile({metrics: [accuracy]})`, model.fit's history keys are `accuracy` and `val_accuracy`, the same
 * keys lib/train.ts uses.
 */
import * as tf from "@tensorflow/tfjs";
import { labelIndices } from "./losses";

/** Per-sample correctness (1 or 0, shape [batch]): is the largest logit the labelled class? */
export function accuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (yPred.rank !== 2) {
      throw new Error(`Expected predictions of shape [batch, numClasses], got shape [${yPred.shape}].`);
    }
    const labels = labelIndices(yTrue, yPred.shape[1] as number);
    return tf.cast(tf.equal(tf.argMax(yPred, -1), labels), "float32");
  });
}

/** Fraction of correct predictions, as a plain number. */
export function accuracyValue(labels: tf.Tensor, logits: tf.Tensor): number {
  return tf.tidy(() => tf.mean(accuracy(labels, logits)).arraySync() as number);
}
