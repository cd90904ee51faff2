/** One benchmark workload made ready to train on random data (speed does not depend on the pixels). */
import * as tf from "@tensorflow/tfjs";
import { adam } from "../lib/backend/fused-adam";
import { forwardFlopsPerImage, Workload, WORKLOADS } from "../lib/backend/workloads";

export interface PreparedWorkload {
  workload: Workload;
  /** One optimizer step on the fixed batch. */
  step(): Promise<void>;
  /** Forward + backward FLOPs of one step (3x the forward multiply-adds x 2 of the conv and dense layers). */
  flopsPerStep: number;
  dispose(): void;
}

export function workloadById(id: string): Workload {
  const w = WORKLOADS.find((x) => x.id === id);
  if (!w) throw new Error(`Unknown workload "${id}"; choose from ${WORKLOADS.map((x) => x.id).join(", ")}.`);
  return w;
}

/** FLOPs of one training step of a workload (builds the model once to read its layer shapes). */
export function flopsPerStep(w: Workload): number {
  const model = w.build();
  const flops = 3 * forwardFlopsPerImage(model) * w.batchSize;
  model.dispose();
  return flops;
}

export function prepareWorkload(w: Workload): PreparedWorkload {
  const model = w.build();
  // The lessons' Adam (tf.train.adam's numbers; one fused kernel per weight on wasm).
  model.compile({ optimizer: adam(1e-3), loss: "categoricalCrossentropy" });
  const xs = tf.randomNormal([w.batchSize, ...w.inputShape]);
  const ys = tf.tidy(() => tf.oneHot(tf.randomUniform([w.batchSize], 0, w.classes, "int32") as tf.Tensor1D, w.classes));
  return {
    workload: w,
    step: async () => {
      await model.trainOnBatch(xs, ys);
    },
    flopsPerStep: 3 * forwardFlopsPerImage(model) * w.batchSize,
    dispose: () => {
      tf.dispose([xs, ys]);
      model.dispose();
    },
  };
}

/** Runs warm-up steps, then returns the wall time (ms) of each timed step. */
export async function timeSteps(p: PreparedWorkload, warmup: number, steps: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await p.step();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  return times;
}
