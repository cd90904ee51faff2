/**
 * A convolution layer's training step as one kernel with its own gradient, on the wasm backend with our kernels.
 *
 * tfjs-layers runs every conv2d layer through tf.fused.conv2d. While a gradient is being taken, tfjs does not
 * fuse: a layer with bias and ReLU becomes Conv2D, Add and Relu, three full-size results of which the backward
 * pass keeps two; and a layer with neither (a convolution before batch norm) goes through a custom gradient that
 * computes the input's gradient even for the network's first layer, where nothing needs it.
 *
 * LessonsConv2DBiasAct is our Conv2D with the bias and ReLU applied to each sum before it is stored (epilogue() in the C source), and
 * its registered gradient computes each input's gradient only when asked. Every number is the same as tfjs's
 * (the same kernels, in the same order). installFusedConvTraining puts it on tfjs-core's `fused` object, where
 * tfjs-layers looks it up at every call; anything else (inference, other activations, other backends, dilations)
 * goes to tfjs's own fused conv2d.
 */
import * as tf from "@tensorflow/tfjs";
import { nodeRequire } from "../node-require";
import { EPI_BIAS, EPI_RELU, compiledConv2D, conv2D } from "./conv-forward";
import { reluGradFromOutput } from "./gradients";
import { SUM_COLS } from "./native-kernels";
import { RELU_GRAD_SUM_KERNEL, isSteppedBy, markReluOutput } from "./relu-grad";
import { runInHalves } from "./split-work";
import { KernelArgs, compiledKernelReady, compiledKernels, ptr, wasmKernel } from "./wasm-util";

export const CONV_BIAS_ACT_KERNEL = "LessonsConv2DBiasAct";

export type LessonsConv2DBiasActInputs = { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo };
export type LessonsConv2DBiasActAttrs = {
  strides: [number, number] | number;
  pad: tf.Conv2DAttrs["pad"];
  dimRoundingMode?: tf.Conv2DAttrs["dimRoundingMode"];
  activation: "linear" | "relu";
};

function convBiasAct(args: KernelArgs<LessonsConv2DBiasActInputs, LessonsConv2DBiasActAttrs>): tf.TensorInfo {
  const { inputs: { x, filter, bias }, backend, attrs } = args;
  const native = compiledKernels(backend);
  if (!native) throw new Error(`${CONV_BIAS_ACT_KERNEL} needs the compiled training kernels (wasm/training_kernels.wasm).`);
  const conv: tf.Conv2DAttrs = { strides: attrs.strides, pad: attrs.pad, dimRoundingMode: attrs.dimRoundingMode, dataFormat: "NHWC", dilations: 1 };
  const convArgs = { inputs: { x, filter }, backend, attrs: conv };
  const relu = attrs.activation === "relu";
  if (!bias && !relu) return conv2D(convArgs);
  // The bias and activation go into the convolution's stores, which saves a pass over the output.
  const fused = compiledConv2D(convArgs, { bias: bias ? ptr(backend, bias) : 0, act: (bias ? EPI_BIAS : 0) | (relu ? EPI_RELU : 0) });
  if (fused) return fused;
  // Where the compiled convolution does not take the tensors: tfjs's Conv2D, then the bias and activation in
  // place on its fresh result, which nobody else holds yet.
  const y = conv2D(convArgs);
  const cols = y.shape[3];
  const size = tf.util.sizeFromShape(y.shape);
  const [yp, bp] = [ptr(backend, y), bias ? ptr(backend, bias) : 0];
  runInHalves(native, backend, "bias_act_rows", size / cols, size,
    (r0, n) => [yp + r0 * cols * 4, bp, n, cols, bias ? 1 : 0, relu ? 1 : 0]);
  return y;
}

export const convBiasActConfig = wasmKernel(CONV_BIAS_ACT_KERNEL, convBiasAct);

/**
 * The gradient, with tfjs's own numbers: ReLU's as in gradients.ts (from the output: step(relu(v)) = step(v)),
 * the bias's as Add's (dy summed over batch, rows and columns; with ReLU in the same pass, relu-grad.ts), the
 * input's and filter's as Conv2D's.
 */
export const CONV_BIAS_ACT_GRADIENT: tf.GradConfig = {
  kernelName: CONV_BIAS_ACT_KERNEL,
  inputsToSave: ["x", "filter"],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as tf.Tensor4D[];
    const { strides, pad, dimRoundingMode, activation } = attrs as unknown as LessonsConv2DBiasActAttrs;
    // A gradient that already went through ReLU's step (max pooling's, gradients.ts) is ReLU's gradient as it is;
    // the bias's is then its sum (the Sum kernel, the same numbers as relu_grad_sum's).
    if (activation === "relu" && isSteppedBy(dy as tf.Tensor, y)) {
      const g = dy as tf.Tensor4D;
      return {
        x: () => backpropInput(x.shape, g, filter, strides, pad, dimRoundingMode),
        filter: () => backpropFilter(x, g, filter.shape, strides, pad, dimRoundingMode),
        bias: () => tf.sum(g, [0, 1, 2]),
      };
    }
    // With ReLU, one pass gives ReLU's gradient and its sum, the bias's gradient (if there is a bias).
    const withSum = activation === "relu" && y.shape[3] <= SUM_COLS && compiledKernelReady(RELU_GRAD_SUM_KERNEL);
    const [g, biasGrad] = withSum
      ? (tf.engine().runKernel(RELU_GRAD_SUM_KERNEL, { dy: dy as tf.Tensor, x: y }) as unknown as [tf.Tensor4D, tf.Tensor1D])
      : [activation === "relu" ? (reluGradFromOutput(dy as tf.Tensor, y) as tf.Tensor4D) : (dy as tf.Tensor4D), undefined];
    return {
      x: () => backpropInput(x.shape, g, filter, strides, pad, dimRoundingMode),
      filter: () => backpropFilter(x, g, filter.shape, strides, pad, dimRoundingMode),
      bias: () => biasGrad ?? tf.sum(g, [0, 1, 2]),
    };
  },
};

function backpropInput(xShape: number[], dy: tf.Tensor4D, filter: tf.Tensor4D, strides: LessonsConv2DBiasActAttrs["strides"], pad: LessonsConv2DBiasActAttrs["pad"], dimRoundingMode: LessonsConv2DBiasActAttrs["dimRoundingMode"]): tf.Tensor {
  const inputs: tf.Conv2DBackpropInputInputs = { dy, filter };
  const a: tf.Conv2DBackpropInputAttrs = { strides, pad, dataFormat: "NHWC", dimRoundingMode, inputShape: xShape as [number, number, number, number] };
  return tf.engine().runKernel(tf.Conv2DBackpropInput, inputs as unknown as tf.NamedTensorMap, a as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function backpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], strides: LessonsConv2DBiasActAttrs["strides"], pad: LessonsConv2DBiasActAttrs["pad"], dimRoundingMode: LessonsConv2DBiasActAttrs["dimRoundingMode"]): tf.Tensor {
  const inputs: tf.Conv2DBackpropFilterInputs = { x, dy };
  const a: tf.Conv2DBackpropFilterAttrs = { strides, pad, dataFormat: "NHWC", dimRoundingMode, filterShape: filterShape as [number, number, number, number] };
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, inputs as unknown as tf.NamedTensorMap, a as unknown as tf.NamedAttrMap) as tf.Tensor;
}

type FusedConv2d = typeof tf.fused.conv2d;
type FusedConv2dArgs = Parameters<FusedConv2d>[0];

let stockFusedConv2d: FusedConv2d | undefined;

/** True when a tf.fused.conv2d call is a training step our kernel takes (see the file comment). */
function takesTrainingCase(a: FusedConv2dArgs): boolean {
  const { x, filter, bias } = a;
  const activation = a.activation ?? "linear";
  if ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth === 0) return false;
  if (!(x instanceof tf.Tensor) || !(filter instanceof tf.Tensor) || x.rank !== 4 || filter.rank !== 4) return false;
  if (x.dtype !== "float32" || filter.dtype !== "float32" || filter.shape[2] !== x.shape[3]) return false;
  // With a bias and no activation tfjs trains through its own fused kernel (XNNPACK's sums, not ours): left to it.
  if (!(activation === "relu" || (activation === "linear" && bias == null)) || a.preluActivationWeights != null) return false;
  if ((a.dataFormat ?? "NHWC") !== "NHWC" || (a.dilations != null && !tf.backend_util.tupleValuesAreOne(a.dilations))) return false;
  const perChannelBias = bias instanceof tf.Tensor && bias.dtype === "float32" && bias.rank === 1 && bias.shape[0] === filter.shape[3];
  if (bias != null && !perChannelBias) return false;
  return compiledKernelReady(CONV_BIAS_ACT_KERNEL);
}

/** tf.fused.conv2d with a layer's training step as one kernel where it can (see the file comment), else tfjs's own. */
export const fusedConv2dForTraining = ((args: FusedConv2dArgs): tf.Tensor4D | tf.Tensor3D => {
  const stock = stockFusedConv2d ?? tf.fused.conv2d;
  if (!takesTrainingCase(args)) return stock(args);
  const inputs = { x: args.x as tf.Tensor, filter: args.filter as tf.Tensor, ...(args.bias != null ? { bias: args.bias as tf.Tensor } : {}) };
  const attrs: LessonsConv2DBiasActAttrs = { strides: args.strides, pad: args.pad as LessonsConv2DBiasActAttrs["pad"], dimRoundingMode: args.dimRoundingMode,
    activation: (args.activation ?? "linear") as LessonsConv2DBiasActAttrs["activation"] };
  const y = tf.engine().runKernel(CONV_BIAS_ACT_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  if (attrs.activation === "relu") markReluOutput(y);
  return y;
}) as FusedConv2d;

/**
 * Makes tf.fused.conv2d (as tfjs-layers calls it) the version above; safe to call more than once. Returns false
 * when tfjs-core's `fused` object cannot be changed (then layers keep tfjs's own, which is only slower).
 */
export function installFusedConvTraining(): boolean {
  tf.registerGradient(CONV_BIAS_ACT_GRADIENT);
  const core = nodeRequire()("@tensorflow/tfjs-core") as { fused: { conv2d: FusedConv2d } };
  if (core.fused.conv2d === fusedConv2dForTraining) return true;
  try {
    stockFusedConv2d = core.fused.conv2d;
    core.fused.conv2d = fusedConv2dForTraining;
    return core.fused.conv2d === fusedConv2dForTraining;
  } catch {
    return false;
  }
}

/** Puts tfjs's own fused conv2d back (tests compare the two). */
export function uninstallFusedConvTraining(): void {
  const core = nodeRequire()("@tensorflow/tfjs-core") as { fused: { conv2d: FusedConv2d } };
  if (stockFusedConv2d && core.fused.conv2d === fusedConv2dForTraining) core.fused.conv2d = stockFusedConv2d;
}
