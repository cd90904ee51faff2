/**
 * Aggregation of tf.profile kernel records into per-kernel tables (pure; profile.ts collects them).
 *
 * Op wrappers ('fusedConv2d__op' and other customGrad scopes) are recorded around the kernels they run, so their
 * time is already counted in the nested kernels: they are listed apart and left out of the totals.
 */

/** The fields of a tf.profile kernel record that we use. */
export interface KernelRecord {
  name: string;
  inputShapes: Array<number[] | null>;
  /** A number on backends that time kernels; tfjs gives `{ error }` where it cannot. */
  kernelTimeMs: unknown;
}

export interface KernelRow {
  /** Kernel name, or kernel name and input shapes. */
  key: string;
  msPerStep: number;
  callsPerStep: number;
  /** Fraction of the kernel total (0 for wrappers, which are not in it). */
  share: number;
}

export interface KernelSummary {
  steps: number;
  /** Sum of kernel times per step, without op wrappers. */
  kernelMsPerStep: number;
  byKernel: KernelRow[];
  byShape: KernelRow[];
  /** Op wrappers, for reference: their time overlaps the kernels above. */
  wrappers: KernelRow[];
}

/** Names of records that wrap other kernels: op scopes ('xxx__op') and unnamed custom-gradient scopes. */
export function isOpWrapper(name: string): boolean {
  return name === "" || name.endsWith("__op");
}

export function shapeKey(r: Pick<KernelRecord, "name" | "inputShapes">): string {
  const shapes = r.inputShapes.map((s) => (s === null ? "-" : `[${s.join(",")}]`)).join(" ");
  return `${r.name || "(custom gradient)"} ${shapes}`.trim();
}

function kernelMs(r: KernelRecord): number {
  const t = r.kernelTimeMs;
  if (typeof t !== "number" || !Number.isFinite(t)) {
    const why = t && typeof t === "object" && "error" in t ? String((t as { error: unknown }).error) : String(t);
    throw new Error(`The backend did not time kernel ${r.name} (${why}); --profile needs a backend with kernel timers (wasm, cpu, node).`);
  }
  return t;
}

/** Sums the records of several profiled steps into per-step averages, sorted by time. */
export function summarizeKernels(steps: readonly (readonly KernelRecord[])[]): KernelSummary {
  const n = steps.length;
  if (n === 0) throw new Error("No profiled steps to summarise: use --steps >= 1.");
  const byKernel = new Map<string, { ms: number; calls: number }>();
  const byShape = new Map<string, { ms: number; calls: number }>();
  const wrappers = new Map<string, { ms: number; calls: number }>();
  const add = (m: Map<string, { ms: number; calls: number }>, key: string, ms: number) => {
    const e = m.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    m.set(key, e);
  };
  let total = 0;
  for (const records of steps) {
    for (const r of records) {
      const ms = kernelMs(r);
      if (isOpWrapper(r.name)) {
        add(wrappers, r.name || "(custom gradient)", ms);
        continue;
      }
      total += ms;
      add(byKernel, r.name, ms);
      add(byShape, shapeKey(r), ms);
    }
  }
  const rows = (m: Map<string, { ms: number; calls: number }>, counted: boolean): KernelRow[] =>
    [...m]
      .map(([key, e]) => ({ key, msPerStep: e.ms / n, callsPerStep: e.calls / n, share: counted && total > 0 ? e.ms / total : 0 }))
      .sort((a, b) => b.msPerStep - a.msPerStep || a.key.localeCompare(b.key));
  return { steps: n, kernelMsPerStep: total / n, byKernel: rows(byKernel, true), byShape: rows(byShape, true), wrappers: rows(wrappers, false) };
}
