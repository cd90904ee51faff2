/**
 * How much on-the-fly augmentation (lib/augment) adds to a training step: the augmenter is timed on a batch of each
 * workload's size, with seed 001's settings (shift 0.1 both ways, horizontal flip) and with every transform on,
 * and compared with the workload's measured step. The target is under 15% of a step.
 */
import * as tf from "@tensorflow/tfjs";
import { imageAugmenter, AugmentOptions } from "../../lib/augment";
import { pooledStepStats } from "./stats";
import { WORKLOADS } from "./workloads";

export const AUGMENT_SETTINGS: Record<string, AugmentOptions> = {
  "shift 0.1 + flip": { widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true },
  "all transforms": { widthShiftRange: 0.1, heightShiftRange: 0.1, horizontalFlip: true, rotationRange: 15, zoomRange: 0.1, shearRange: 10, fillMode: "reflect" },
};

/** Median milliseconds to augment one batch of `shape` (after two untimed batches). */
export function timeAugmentation(shape: [number, number, number, number], opts: AugmentOptions, repeats = 9): number {
  const images = tf.randomUniform(shape, 0, 1, "float32", 1);
  const stream = imageAugmenter(opts).stream();
  const times: number[] = [];
  for (let i = 0; i < repeats + 2; i++) {
    const t0 = performance.now();
    const out = stream(images);
    out.dataSync(); // the training step reads it: include getting it onto the backend
    if (i >= 2) times.push(performance.now() - t0);
    out.dispose();
  }
  images.dispose();
  return pooledStepStats([times]).medianMs;
}

/** One line per workload: the augmentation's milliseconds per batch and its share of the measured step. */
export function augmentationLines(results: { workload: string; backend: string; stepMs: number }[]): string[] {
  const lines: string[] = [];
  for (const { workload, backend, stepMs } of results) {
    const w = WORKLOADS.find((x) => x.id === workload); // the image-training workloads A-D
    if (!w || backend === "pytorch") continue;
    const parts = Object.entries(AUGMENT_SETTINGS).map(([name, opts]) => {
      const ms = timeAugmentation([w.batchSize, ...w.inputShape], opts);
      return `${name} ${ms.toFixed(1)} ms (+${((100 * ms) / stepMs).toFixed(1)}%)`;
    });
    lines.push(`Augmentation (lib/augment) per batch of ${w.batchSize} for ${workload}, against its ${stepMs.toFixed(1)} ms step: ${parts.join(", ")}.`);
  }
  return lines;
}
