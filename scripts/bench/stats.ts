/**
 * The arithmetic of the benchmark, kept free of TensorFlow.js so that tests can check it directly:
 * pooled medians and spreads of step times, the alternating round schedule, and the ratio against the fastest peer.
 */

/** Location and spread of a set of step times (ms). */
export interface StepStats {
  medianMs: number;
  p25Ms: number;
  p75Ms: number;
  minMs: number;
  maxMs: number;
  /** How many timed steps the numbers summarise. */
  steps: number;
}

/** The q-quantile (0..1) of sorted values, interpolating linearly between neighbours (numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new Error("quantile of an empty list: time at least one step (--steps >= 1).");
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile q must lie in [0, 1]; got ${q}.`);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/**
 * Median, quartiles and extremes over ALL timed steps of all rounds (not a median of round medians: a round that
 * ran slow because of a neighbour's load then counts as many steps as it timed, no more).
 */
export function pooledStepStats(rounds: readonly (readonly number[])[]): StepStats {
  const all = rounds.flat().filter((x) => Number.isFinite(x));
  if (all.length === 0) throw new Error("No timed steps to summarise: every round failed or timed nothing.");
  const s = all.sort((a, b) => a - b);
  return {
    medianMs: quantile(s, 0.5),
    p25Ms: quantile(s, 0.25),
    p75Ms: quantile(s, 0.75),
    minMs: s[0],
    maxMs: s[s.length - 1],
    steps: s.length,
  };
}

/**
 * The order of runs: in every round each contender once, in the given order (ours, peer, peer', ours, peer, ...),
 * so that slow phases of a shared machine hit all contenders alike instead of only the one that ran then.
 */
export function roundSchedule<T>(rounds: number, contenders: readonly T[]): Array<{ round: number; contender: T }> {
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`rounds must be an integer >= 1; got ${rounds}.`);
  const out: Array<{ round: number; contender: T }> = [];
  for (let round = 1; round <= rounds; round++) for (const contender of contenders) out.push({ round, contender });
  return out;
}

/** The peer with the smallest median step time, or undefined without peers. */
export function fastestPeer<T extends { stepMs: number }>(peers: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const p of peers) if (Number.isFinite(p.stepMs) && p.stepMs > 0 && (!best || p.stepMs < best.stepMs)) best = p;
  return best;
}

/** Our step time over the FASTEST peer's (above 1: we are slower), with that peer; undefined without peers. */
export function ratioVsFastestPeer<T extends { stepMs: number }>(oursMs: number, peers: readonly T[]): { ratio: number; peer: T } | undefined {
  const peer = fastestPeer(peers);
  return peer ? { ratio: oursMs / peer.stepMs, peer } : undefined;
}

/** Thread counts to run the peer with: ours and 1, without duplicates (ours first). */
export function peerThreadCounts(ourThreads: number): number[] {
  if (!Number.isInteger(ourThreads) || ourThreads < 1) throw new Error(`thread count must be an integer >= 1; got ${ourThreads}.`);
  return ourThreads === 1 ? [1] : [ourThreads, 1];
}

export function roundTo(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * A contender whose p75 exceeds this multiple of its p25 runs at two (or more) speeds, e.g. PyTorch's OpenMP
 * threads spinning or not on a shared machine: its median then depends on how often each mode came up, so it is
 * flagged instead of trusted.
 */
export const BIMODAL_SPREAD = 1.5;

export function isBimodal(s: { p25Ms: number; p75Ms: number }): boolean {
  return s.p75Ms > BIMODAL_SPREAD * s.p25Ms;
}

/** Our times against the peers, two ways: median over the fastest median, and fastest step over the fastest step. */
export interface PeerComparison<T> {
  byMedian: number;
  byFastest: number;
  /** The peer configuration with the smallest median, and the one with the fastest single step. */
  medianPeer: T;
  fastestStepPeer: T;
}

export function compareWithPeers<T extends { stepMs: number; minMs: number }>(
  ours: { stepMs: number; minMs: number },
  peers: readonly T[],
): PeerComparison<T> | undefined {
  const medianPeer = fastestPeer(peers);
  let fastestStepPeer: T | undefined;
  for (const p of peers) if (Number.isFinite(p.minMs) && p.minMs > 0 && (!fastestStepPeer || p.minMs < fastestStepPeer.minMs)) fastestStepPeer = p;
  if (!medianPeer || !fastestStepPeer) return undefined;
  return { byMedian: ours.stepMs / medianPeer.stepMs, byFastest: ours.minMs / fastestStepPeer.minMs, medianPeer, fastestStepPeer };
}

export type Verdict = "met" | "not met" | "undecided";

/**
 * Whether `ratios` (ours over PyTorch's, by medians and by fastest steps) are within `target`: a verdict only when
 * they all agree, "undecided" when one says met and another not (a noisy machine, or a bimodal contender).
 */
export function targetVerdict(ratios: readonly number[], target: number): Verdict {
  if (!ratios.length || ratios.some((r) => !Number.isFinite(r))) return "undecided";
  if (ratios.every((r) => r <= target)) return "met";
  if (ratios.every((r) => r > target)) return "not met";
  return "undecided";
}
