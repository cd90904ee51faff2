import { test } from "node:test";
import assert from "node:assert/strict";
import { analyseProgress } from "./progress-snapshots";
import { TrainingProgress } from "../../lib/progress";
import { collapseCarriageReturns } from "../../lib/progress";

const done = (e: number) => `Epoch ${e}/5 [==============================] 4/4 - loss: 2.0000 - 0.3s`;
const running = (e: number, s: number) => `Epoch ${e}/5 [=====>........................] ${s}/4 - loss: 2.1000`;

test("a line rewritten in place passes; a line per update is flagged as flooding", () => {
  const good = analyseProgress([running(1, 1), running(1, 2), `${done(1)}\n${running(2, 1)}`, `${done(1)}\n${running(2, 3)}`]);
  assert.deepEqual(good.problems, []);
  assert.equal(good.inPlaceUpdates, 2);
  assert.equal(good.finishedEpochs, 1);

  const flood = analyseProgress([`${running(1, 1)}\n${running(1, 2)}\n${running(1, 3)}`]);
  assert.ok(flood.problems.some((p) => /unfinished epoch stayed on screen/.test(p)), flood.problems.join("; "));
});

test("only finished lines, or no progress at all, is not evidence of in-place updates", () => {
  assert.match(analyseProgress([done(1), `${done(1)}\n${done(2)}`]).problems.join(), /never saw an epoch in progress/);
  assert.match(analyseProgress(["hello"]).problems.join(), /no progress line/);
  assert.match(analyseProgress([running(1, 2), running(1, 2)]).problems.join(), /never changed in place/);
});

test("what lib/progress writes in a notebook, as the front end shows it, reads as in place", () => {
  let raw = "";
  const p = new TrainingProgress({ mode: "live", write: (t) => (raw += t), minIntervalMs: 0 });
  const snapshots: string[] = [];
  for (let e = 1; e <= 2; e++) {
    p.epochBegin(e, 2, 4);
    for (let s = 1; s <= 4; s++) {
      p.batchEnd(s, { loss: 1 / s });
      snapshots.push(collapseCarriageReturns(raw));
    }
    p.epochEnd({ loss: 0.5 }, 0.1);
    snapshots.push(collapseCarriageReturns(raw));
  }
  const a = analyseProgress(snapshots);
  assert.deepEqual(a.problems, []);
  assert.equal(a.finishedEpochs, 2);
  assert.ok(a.inPlaceUpdates >= 2);
});
