/**
 * The speed and memory targets of issue #15, per workload: our step time at most `speed` times PyTorch's (by
 * medians AND by fastest steps, in one run, on 2 threads), peak RSS at most `rssMB`. Kept here, in the benchmark,
 * rather than in timed tests.
 */
export interface Target {
  speed?: number;
  rssMB?: number;
  /** B and C: the share of our matrix kernel's ceiling (all threads) the whole step reaches. */
  ceilingShare?: number;
}

export const TARGETS: Record<string, Target> = {
  A: { speed: 1.0, rssMB: 500 },
  B: { speed: 2.0, rssMB: 800, ceilingShare: 0.85 },
  C: { speed: 2.0, rssMB: 800, ceilingShare: 0.85 },
  D: { speed: 1.8, rssMB: 800 },
  E: { speed: 2.2 },
  F: { speed: 1.5 },
  G: { speed: 2.2 },
};
