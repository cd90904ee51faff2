/**
 * Batch normalization while training, on the batch's own statistics, as one op with one gradient.
 *
 * tfjs-layers' BatchNormalization computes `tfc.moments(x)` and then `tfc.batchNorm4d(x, mean, variance, ...)`,
 * so the tape holds two ops that read x, and the backward pass runs FusedBatchNorm's gradient (a full-size dx,
 * and the mean's and variance's gradients), the moments' gradient (another full-size dx) and an Add of the two.
 * When the mean and variance are the per-channel moments our fused moments kernel just took of this same x, the
 * op here records only x, scale and offset on the tape (tf.customGrad; the statistics are used, not recorded, so
 * the moments' gradient never runs) and its gradient is one kernel (LessonsBatchNormTrainGrad) that gives the
 * same numbers bit for bit with one full-size tensor written. The forward pass is tfjs's own batchNorm.
 *
 * tfjs-layers calls batchNorm2d/3d/4d through the tfjs-core module object, so installing our versions there
 * (installFusedBatchNormTraining) is what makes the layers use them; every other case goes to tfjs's own.
 */
import * as tf from "@tensorflow/tfjs";
import { nodeRequire } from "../node-require";
import { BATCH_NORM_GRAD_MAX_CHANNELS, BATCH_NORM_TRAIN_GRAD_KERNEL, LessonsBatchNormGradAttrs, LessonsBatchNormTrainGradInputs } from "./batch-norm";
import { perChannelMomentsOf } from "./moments";
import { compiledKernelReady } from "./wasm-util";

type Stats = tf.Tensor | tf.TensorLike;
type BatchNormNd = (x: tf.Tensor | tf.TensorLike, mean: Stats, variance: Stats, offset?: Stats, scale?: Stats, varianceEpsilon?: number) => tf.Tensor;

const VARIANTS = ["batchNorm2d", "batchNorm3d", "batchNorm4d"] as const;
type Variant = (typeof VARIANTS)[number];
type Core = Record<Variant, BatchNormNd>;

const stock: Partial<Record<Variant, BatchNormNd>> = {};
const installed: Partial<Record<Variant, BatchNormNd>> = {};

const isChannelVector = (t: Stats | undefined, channels: number): t is tf.Tensor =>
  t instanceof tf.Tensor && t.dtype === "float32" && t.rank === 1 && t.shape[0] === channels;

/** batchNorm on x's own per-channel moments, recording x, scale and offset only; undefined where it does not apply. */
function onOwnStatistics(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, offset: tf.Tensor, scale: tf.Tensor, eps: number, plain: BatchNormNd): tf.Tensor {
  const train = tf.customGrad((xIn, scaleIn, offsetIn, save) => {
    const [xt, scaleT, offsetT] = [xIn, scaleIn, offsetIn] as tf.Tensor[];
    const y = plain(xt, mean, variance, offsetT, scaleT, eps);
    (save as tf.GradSaveFunc)([xt, mean, variance, scaleT]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sMean, sVariance, sScale] = saved;
        const inputs: Record<keyof LessonsBatchNormTrainGradInputs, tf.Tensor> = { dy: dy as tf.Tensor, x: sx, mean: sMean, variance: sVariance, scale: sScale };
        const attrs: LessonsBatchNormGradAttrs = { varianceEpsilon: eps };
        return tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      },
    };
  });
  return train(x, scale, offset);
}

/** As an op, so profiles list it as the wrapper around the FusedBatchNorm it runs ("batchNormOnOwnStatistics__op"). */
const onOwnStatisticsOp = tf.op({ batchNormOnOwnStatistics_: onOwnStatistics });

function variant(name: Variant): BatchNormNd {
  return (x, mean, variance, offset, scale, varianceEpsilon = 0.001) => {
    const plain = stock[name]!;
    const channels = x instanceof tf.Tensor && x.rank > 0 ? x.shape[x.rank - 1] : 0;
    const fused =
      x instanceof tf.Tensor && x.dtype === "float32" && channels > 0 && channels <= BATCH_NORM_GRAD_MAX_CHANNELS &&
      isChannelVector(mean, channels) && isChannelVector(variance, channels) && isChannelVector(offset, channels) &&
      isChannelVector(scale, channels) && perChannelMomentsOf(mean, variance) === x && compiledKernelReady(BATCH_NORM_TRAIN_GRAD_KERNEL);
    return fused ? onOwnStatisticsOp(x, mean, variance, offset, scale, varianceEpsilon, plain) : plain(x, mean, variance, offset, scale, varianceEpsilon);
  };
}

/**
 * Makes tf.batchNorm2d/3d/4d (as tfjs-layers calls them) take the fused path where it applies; safe to call more
 * than once. Returns false when tfjs-core's module object cannot be changed (then layers keep tfjs's own path).
 */
export function installFusedBatchNormTraining(): boolean {
  const core = nodeRequire()("@tensorflow/tfjs-core") as Core;
  try {
    for (const name of VARIANTS) {
      if (core[name] === installed[name]) continue;
      stock[name] = core[name];
      installed[name] = variant(name);
      core[name] = installed[name]!;
    }
    return VARIANTS.every((name) => core[name] === installed[name]);
  } catch {
    return false;
  }
}

/** Puts tfjs's own batchNorm2d/3d/4d back (tests compare the two paths). */
export function uninstallFusedBatchNormTraining(): void {
  const core = nodeRequire()("@tensorflow/tfjs-core") as Core;
  for (const name of VARIANTS) if (stock[name] && core[name] === installed[name]) core[name] = stock[name]!;
}
