/**
 * `npm run bench -- --profile -w C`: where one training step of a workload spends its time, kernel by kernel.
 *
 * After warm-up, times a few plain steps, then runs the same number of steps inside tf.profile and sums the kernel
 * records (kernels.ts). The step time minus the kernel sum is the time outside kernels: the layers
 * API, the gradient tape, tensor bookkeeping, and what profiling itself adds.
 */
import * as tf from "@tensorflow/tfjs";
import { BackendInfo } from "../../lib/backend";
import { KernelRecord, KernelRow, KernelSummary, summarizeKernels } from "./kernels";
import { median, roundTo } from "./stats";
import { prepareWorkload, timeSteps, workloadById } from "./workload";

export interface ProfileReport {
  workload: string;
  backend: string;
  threads: number;
  /** Median step without profiling. */
  stepMs: number;
  /** Mean step under tf.profile (a mean, like the kernel sums, so that their difference is the mean time outside kernels). */
  profiledStepMs: number;
  summary: KernelSummary;
}

export async function profileWorkload(id: string, info: BackendInfo, warmup: number, steps: number): Promise<ProfileReport> {
  const p = prepareWorkload(workloadById(id));
  try {
    const plain = await timeSteps(p, warmup, steps);
    const records: KernelRecord[][] = [];
    const profiled: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      const prof = await tf.profile(() => p.step());
      profiled.push(performance.now() - t0);
      records.push(prof.kernels as unknown as KernelRecord[]);
    }
    return {
      workload: id,
      backend: info.name,
      threads: info.threads,
      stepMs: median(plain),
      profiledStepMs: profiled.reduce((a, b) => a + b, 0) / profiled.length,
      summary: summarizeKernels(records),
    };
  } finally {
    p.dispose();
  }
}

function table(title: string, rows: KernelRow[], top: number, withShare: boolean): string[] {
  const lines = [``, `${title}${rows.length > top ? ` (top ${top} of ${rows.length})` : ""}`];
  lines.push(`${"ms/step".padStart(9)} ${"calls".padStart(6)} ${withShare ? "share".padStart(6) + " " : ""} kernel`);
  for (const r of rows.slice(0, top)) {
    const share = withShare ? `${(100 * r.share).toFixed(1).padStart(5)}% ` : "";
    lines.push(`${r.msPerStep.toFixed(2).padStart(9)} ${String(roundTo(r.callsPerStep, 1)).padStart(6)} ${share} ${r.key}`);
  }
  return lines;
}

/** The report as text: step vs kernel time, then kernels by name, by name and input shapes, and the op wrappers. */
export function formatProfile(r: ProfileReport, top: number): string {
  const s = r.summary;
  const outside = r.profiledStepMs - s.kernelMsPerStep;
  const lines = [
    `Workload ${r.workload} on ${r.backend} (${r.threads} thread${r.threads === 1 ? "" : "s"}), ${s.steps} profiled step(s):`,
    `  step ${r.stepMs.toFixed(1)} ms unprofiled (median), ${r.profiledStepMs.toFixed(1)} ms profiled (mean)`,
    `  kernels ${s.kernelMsPerStep.toFixed(1)} ms (${((100 * s.kernelMsPerStep) / r.profiledStepMs).toFixed(0)}% of the profiled step); ` +
      `outside kernels ${outside.toFixed(1)} ms`,
    `  (op wrappers such as fusedConv2d__op nest kernels, so they are listed last and not counted in the totals)`,
    ...table("By kernel", s.byKernel, top, true),
    ...table("By kernel and input shapes", s.byShape, top, true),
  ];
  if (s.wrappers.length) lines.push(...table("Op wrappers (time overlaps the kernels above)", s.wrappers, top, false));
  return lines.join("\n");
}

/** One JSON object for --json --profile (numbers rounded to 0.01 ms). */
export function profileJson(r: ProfileReport): object {
  const rows = (xs: KernelRow[]) => xs.map((x) => ({ ...x, msPerStep: roundTo(x.msPerStep, 3), share: roundTo(x.share, 4) }));
  return {
    workload: r.workload, backend: r.backend, threads: r.threads,
    stepMs: roundTo(r.stepMs, 2), profiledStepMs: roundTo(r.profiledStepMs, 2),
    kernelMs: roundTo(r.summary.kernelMsPerStep, 2), outsideKernelsMs: roundTo(r.profiledStepMs - r.summary.kernelMsPerStep, 2),
    steps: r.summary.steps,
    byKernel: rows(r.summary.byKernel), byShape: rows(r.summary.byShape), wrappers: rows(r.summary.wrappers),
  };
}
