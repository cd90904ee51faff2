/**
 * Sparse categorical cross-entropy from logits: the loss of the lessons (Keras'
 * SparseCategoricalCrossentropy(from_logits=True)), which tfjs-layers does not offer.
 *
 * For one sample with logits z and integer label k: loss = -log(softmax(z)[k]) = logsumexp(z) - z[k].
 */
import * as tf from "@tensorflow/tfjs";

/**
 * Turn labels into int32 class indices of shape [batch]. Accepts integer labels of shape [batch] or [batch, 1]
 * (sparse), and also one-hot rows of shape [batch, numClasses]: tfjs's own model.fit/evaluate insist that targets
 * have the model's output shape, so one-hot is the only way to use this loss through them.
 */
export function labelIndices(yTrue: tf.Tensor, numClasses: number): tf.Tensor1D {
  return tf.tidy(() => {
    if (yTrue.rank === 2 && yTrue.shape[1] === numClasses && numClasses > 1) {
      return tf.argMax(yTrue, -1) as tf.Tensor1D;
    }
    if (yTrue.rank === 1 || (yTrue.rank === 2 && yTrue.shape[1] === 1)) {
      return tf.cast(tf.reshape(yTrue, [-1]), "int32") as tf.Tensor1D;
    }
    throw new Error(
      `Labels must be class numbers of shape [batch] (or [batch, 1]), or one-hot of shape [batch, ${numClasses}]; ` +
        `got shape [${yTrue.shape}].`,
    );
  });
}

/**
 * Per-sample cross-entropy (shape [batch]) between integer labels and logits of shape [batch, numClasses].
 * Named so that tfjs reports it as "loss"; usable as `model.compile({loss: sparseCategoricalCrossentropyFromLogits})`.
 */
export function sparseCategoricalCrossentropyFromLogits(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    if (yPred.rank !== 2) {
      throw new Error(
        `Expected logits of shape [batch, numClasses], got shape [${yPred.shape}]. ` +
          `Does the model end with a Dense(numClasses) layer?`,
      );
    }
    const numClasses = yPred.shape[1] as number;
    const labels = labelIndices(yTrue, numClasses);
    if (labels.shape[0] !== yPred.shape[0]) {
      throw new Error(`Got ${labels.shape[0]} labels for ${yPred.shape[0]} predictions; they must match.`);
    }
    const logProbs = tf.logSoftmax(yPred);
    const picked = tf.sum(tf.mul(logProbs, tf.oneHot(labels, numClasses)), -1);
    return tf.neg(picked);
  });
}

/** Mean cross-entropy over the batch, as a plain number (handy in notebooks and tests). */
export function meanCrossentropy(labels: tf.Tensor, logits: tf.Tensor): number {
  return tf.tidy(() => tf.mean(sparseCategoricalCrossentropyFromLogits(labels, logits)).arraySync() as number);
}
