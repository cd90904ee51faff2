/** The benchmark's arithmetic: quantiles, pooled medians over rounds, the round order and the ratio vs the fastest peer. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  compareWithPeers, fastestPeer, isBimodal, median, peerThreadCounts, pooledStepStats, quantile, ratioVsFastestPeer, roundSchedule, targetVerdict,
} from "../../scripts/bench/stats";

describe("quantile and median", () => {
  it("interpolates linearly between neighbours", () => {
    assert.equal(quantile([1, 2, 3, 4], 0.25), 1.75);
    assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(quantile([10, 20, 30, 40, 50], 0.75), 40);
    assert.equal(quantile([7], 0.25), 7);
    assert.equal(quantile([1, 5], 1), 5);
  });
  it("median sorts first and leaves its input alone", () => {
    const xs = [9, 1, 5, 3];
    assert.equal(median(xs), 4);
    assert.deepEqual(xs, [9, 1, 5, 3]);
  });
  it("rejects an empty list and q outside [0, 1]", () => {
    assert.throws(() => quantile([], 0.5), /empty.*--steps/);
    assert.throws(() => quantile([1], 1.5), /\[0, 1\]/);
  });
});

describe("pooledStepStats", () => {
  it("takes the median over all steps of all rounds, not the median of round medians", () => {
    // Round medians are 10 and 100 (their mean 55); pooled, the five steps at ~10 dominate.
    const s = pooledStepStats([[9, 10, 11], [100, 100]]);
    assert.equal(s.medianMs, 11);
    assert.equal(s.steps, 5);
    assert.equal(s.minMs, 9);
    assert.equal(s.maxMs, 100);
    assert.equal(s.p25Ms, 10);
    assert.equal(s.p75Ms, 100);
  });
  it("ignores non-finite times and fails without any step", () => {
    assert.equal(pooledStepStats([[NaN, 4, 6]]).medianMs, 5);
    assert.throws(() => pooledStepStats([[], []]), /No timed steps/);
  });
});

describe("roundSchedule", () => {
  it("runs every contender once per round, in order", () => {
    const order = roundSchedule(3, ["ours", "torch2", "torch1"]).map((x) => `${x.round}:${x.contender}`);
    assert.deepEqual(order, ["1:ours", "1:torch2", "1:torch1", "2:ours", "2:torch2", "2:torch1", "3:ours", "3:torch2", "3:torch1"]);
  });
  it("rejects a round count below 1", () => {
    assert.throws(() => roundSchedule(0, ["ours"]), /rounds must be an integer >= 1/);
  });
});

describe("ratio against the fastest peer", () => {
  const peers = [
    { threads: 2, stepMs: 250 },
    { threads: 1, stepMs: 90 },
  ];
  it("picks the faster PyTorch configuration, whichever thread count it has", () => {
    assert.equal(fastestPeer(peers)?.threads, 1);
    assert.equal(fastestPeer([{ threads: 2, stepMs: 50 }, ...peers])?.threads, 2);
  });
  it("divides our median by the fastest peer's", () => {
    const r = ratioVsFastestPeer(180, peers);
    assert.equal(r?.ratio, 2);
    assert.equal(r?.peer.threads, 1);
    assert.equal(ratioVsFastestPeer(45, peers)?.ratio, 0.5);
  });
  it("gives no ratio without peers, and skips peers without a valid time", () => {
    assert.equal(ratioVsFastestPeer(100, []), undefined);
    assert.equal(fastestPeer([{ threads: 2, stepMs: NaN }, { threads: 1, stepMs: 300 }])?.threads, 1);
  });
  it("runs the peer with our thread count and with 1 thread, once each", () => {
    assert.deepEqual(peerThreadCounts(2), [2, 1]);
    assert.deepEqual(peerThreadCounts(1), [1]);
    assert.throws(() => peerThreadCounts(0), /integer >= 1/);
  });
});

describe("two ratios, bimodal contenders and the verdict", () => {
  it("flags a contender whose p75 is more than 1.5x its p25", () => {
    assert.equal(isBimodal({ p25Ms: 50, p75Ms: 76 }), true);
    assert.equal(isBimodal({ p25Ms: 50, p75Ms: 75 }), false);
    assert.equal(isBimodal(pooledStepStats([[50, 52, 51, 200, 210, 205]])), true);
  });
  it("takes the median ratio against the best median and the fastest ratio against the fastest step, even of different peers", () => {
    const peers = [
      { threads: 2, stepMs: 200, minMs: 50 },
      { threads: 1, stepMs: 100, minMs: 90 },
    ];
    const c = compareWithPeers({ stepMs: 150, minMs: 100 }, peers);
    assert.equal(c?.byMedian, 1.5);
    assert.equal(c?.byFastest, 2);
    assert.equal(c?.medianPeer.threads, 1);
    assert.equal(c?.fastestStepPeer.threads, 2);
    assert.equal(compareWithPeers({ stepMs: 1, minMs: 1 }, []), undefined);
  });
  it("gives a verdict only when both ratios agree", () => {
    assert.equal(targetVerdict([0.9, 1.0], 1.0), "met");
    assert.equal(targetVerdict([1.1, 1.6], 1.0), "not met");
    assert.equal(targetVerdict([0.8, 1.3], 1.0), "undecided");
    assert.equal(targetVerdict([NaN, 0.5], 1.0), "undecided");
  });
});
