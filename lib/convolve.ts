/**
 * Apply a small 2-D kernel to an image, to show what a convolutional filter computes.
 *
 * Like conv layers (and unlike the textbook definition of convolution) the kernel is not flipped: each output
 * pixel is the sum of kernel * the pixels under it. Border handling:
 * - "valid" (default, what Keras Conv2D does by default): only positions where the kernel fits entirely;
 *   a kh x kw kernel makes the output kh-1 rows and kw-1 columns smaller.
 * - "same": the image is padded with zeros so the output has the input's size; border pixels then mix in zeros.
 */
import * as tf from "@tensorflow/tfjs";

export type BorderMode = "valid" | "same";

export interface ConvolveOptions {
  padding?: BorderMode;
  /**
   * For multi-channel images: "sum" (default) uses the kernel on every channel and adds the results, i.e. a
   * kernel with depth = channels as in a Conv2D filter, giving ONE output channel; "separate" filters each
   * channel on its own and keeps them apart (output has the input's channels).
   */
  channels?: "sum" | "separate";
}

/** Responds strongly where dark pixels lie above light ones (a horizontal edge). */
export const HORIZONTAL_EDGE_KERNEL: number[][] = [
  [-1, -1, -1],
  [0, 0, 0],
  [1, 1, 1],
];

/** The same for vertical edges. */
export const VERTICAL_EDGE_KERNEL: number[][] = [
  [-1, 0, 1],
  [-1, 0, 1],
  [-1, 0, 1],
];

function kernelTensor(kernel: number[][] | tf.Tensor2D): tf.Tensor2D {
  if (kernel instanceof tf.Tensor) {
    if (kernel.rank !== 2) throw new Error(`The kernel must be 2-D (e.g. 3x3), got shape [${kernel.shape}].`);
    return kernel.toFloat() as tf.Tensor2D;
  }
  const rows = kernel.length;
  const cols = rows > 0 ? kernel[0].length : 0;
  if (rows === 0 || cols === 0 || kernel.some((r) => r.length !== cols)) {
    throw new Error(`The kernel must be a non-empty rectangular array of rows, e.g. [[-1,-1,-1],[0,0,0],[1,1,1]].`);
  }
  return tf.tensor2d(kernel, [rows, cols], "float32");
}

/**
 * Convolve `image` (HxW grayscale, or HxWxC) with `kernel`. Returns HxWx1 (channels "sum" or a grayscale input)
 * or HxWxC ("separate"), smaller by the kernel size minus one with padding "valid".
 */
export function convolve(
  image: tf.Tensor2D | tf.Tensor3D,
  kernel: number[][] | tf.Tensor2D,
  opts: ConvolveOptions = {},
): tf.Tensor3D {
  const padding = opts.padding ?? "valid";
  if (padding !== "valid" && padding !== "same") {
    throw new Error(`padding must be "valid" or "same", got "${padding}".`);
  }
  if (!(image instanceof tf.Tensor) || (image.rank !== 2 && image.rank !== 3)) {
    throw new Error(`The image must be a tensor of shape [height, width] or [height, width, channels].`);
  }
  return tf.tidy(() => {
    const img = (image.rank === 2 ? tf.expandDims(image, -1) : image).toFloat() as tf.Tensor3D;
    const [h, w, c] = img.shape;
    const k = kernelTensor(kernel);
    const [kh, kw] = k.shape;
    if (padding === "valid" && (kh > h || kw > w)) {
      throw new Error(`A ${kh}x${kw} kernel does not fit in a ${h}x${w} image with padding "valid"; use "same".`);
    }
    // Filter [kh, kw, c, 1]: the same 2-D kernel for every input channel.
    const filter = tf.tile(tf.reshape(k, [kh, kw, 1, 1]), [1, 1, c, 1]) as tf.Tensor4D;
    if ((opts.channels ?? "sum") === "separate") {
      return tf.depthwiseConv2d(img, filter, 1, padding);
    }
    return tf.conv2d(img, filter, 1, padding);
  });
}
