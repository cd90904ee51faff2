/**
 * Image augmentation for training, like Keras' ImageDataGenerator:
 *
 *   import { imageAugmenter, previewAugmentation } from "./lib/augment";
 *   const augment = imageAugmenter({ widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true });
 *   previewAugmentation(augment, xTrain.slice([0], [1]));
 *   await train(model, data, { epochs, validationData, augment });
 */
export { ImageAugmenter, imageAugmenter } from "./augmenter";
export type { AugmentOptions } from "./augmenter";
export { previewAugmentation } from "./preview";
export type { PreviewOptions } from "./preview";
export { IDENTITY, forwardMatrix, sourceMatrix, resampleBatch } from "./affine";
export type { Affine, FillMode, Interpolation, TransformParams } from "./affine";
