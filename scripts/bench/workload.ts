/** One benchmark workload made ready to train on random data (speed does not depend on the pixels). */
import * as tf from "@tensorflow/tfjs";
import { adam } from "../../lib/backend/fused-adam";
import { forwardFlopsPerImage, Workload, WORKLOADS } from "./workloads";
import { buildTransferModel, prepareTransferWorkload, TRANSFER_WORKLOADS, TransferWorkload, transferFlopsPerStep } from "./transfer";

/** A-E and G train CNNs from scratch; F and FT are lesson 05's MobileNet inference and fine-tuning (transfer.ts). */
export type BenchWorkload = Workload | TransferWorkload;

const isTransfer = (w: BenchWorkload): w is TransferWorkload => "kind" in w;

export interface PreparedWorkload {
  workload: BenchWorkload;
  /** One optimizer step on the fixed batch. */
  step(): Promise<void>;
  /** Forward + backward FLOPs of one step (3x the forward multiply-adds x 2 of the conv and dense layers). */
  flopsPerStep: number;
  dispose(): void;
}

export function workloadById(id: string): BenchWorkload {
  const all: BenchWorkload[] = [...WORKLOADS, ...TRANSFER_WORKLOADS];
  const w = all.find((x) => x.id === id);
  if (!w) throw new Error(`Unknown workload "${id}"; choose from ${all.map((x) => x.id).join(", ")}.`);
  return w;
}

/** FLOPs of one training step of a workload (builds the model once to read its layer shapes). */
export function flopsPerStep(w: BenchWorkload): number {
  if (isTransfer(w)) {
    const m = buildTransferModel(w);
    const flops = transferFlopsPerStep(w, m);
    m.dispose();
    return flops;
  }
  const model = w.build();
  const flops = 3 * forwardFlopsPerImage(model) * w.batchSize;
  model.dispose();
  return flops;
}

export function prepareWorkload(w: BenchWorkload): PreparedWorkload {
  if (isTransfer(w)) return { workload: w, ...prepareTransferWorkload(w) };
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
