import { test } from "node:test";
import assert from "node:assert/strict";
import { collapseCarriageReturns, formatBar, formatMetrics, TrainingProgress } from "../../lib/progress";

function capture(mode: "live" | "epoch" | "none", minIntervalMs = 0) {
  const out: string[] = [];
  const p = new TrainingProgress({ mode, write: (t) => void out.push(t), minIntervalMs, barWidth: 10 });
  return { p, text: () => out.join("") };
}

function runEpochs(p: TrainingProgress, epochs: number, steps: number): void {
  for (let e = 1; e <= epochs; e++) {
    p.epochBegin(e, epochs, steps);
    for (let s = 1; s <= steps; s++) p.batchEnd(s, { loss: 2 / s, accuracy: s / 10 });
    p.epochEnd({ loss: 1.5, accuracy: 0.25, val_loss: 1.75, val_accuracy: 0.2 }, 1.23);
  }
}

test("bar and metric formatting", () => {
  assert.equal(formatBar(0, 4, 8), "[........]");
  assert.equal(formatBar(2, 4, 8), "[===>....]");
  assert.equal(formatBar(4, 4, 8), "[========]");
  assert.equal(formatMetrics({ loss: 1.23456, val_accuracy: 0.5 }), " - loss: 1.2346 - val_accuracy: 0.5000");
});

test("live mode rewrites one line per epoch with \\r and ends each epoch with a newline", () => {
  const { p, text } = capture("live");
  runEpochs(p, 3, 5);
  const t = text();
  assert.equal(t.split("\n").length - 1, 3, "exactly one newline per epoch");
  assert.ok(t.split("\r").length - 1 > 3, "intermediate updates use carriage returns");
  // What a notebook keeps after collapsing carriage returns (as nbconvert's coalesce_streams does):
  const collapsed = collapseCarriageReturns(t).trimEnd().split("\n");
  assert.equal(collapsed.length, 3);
  assert.match(
    collapsed[1],
    /^Epoch 2\/3 \[==========\] 5\/5 - loss: 1\.5000 - accuracy: 0\.2500 - val_loss: 1\.7500 - val_accuracy: 0\.2000 - 1\.2s\s*$/,
  );
});

test("collapseCarriageReturns keeps the last rewrite of each line", () => {
  assert.equal(collapseCarriageReturns("\ra 1\ra 2\ra 3\n\rb 1\rb 2\n"), "a 3\nb 2\n");
  assert.equal(collapseCarriageReturns("plain\nlines\n"), "plain\nlines\n");
});

test("live mode throttles updates", () => {
  const { p, text } = capture("live", 10_000);
  runEpochs(p, 1, 50);
  // epoch start + final line only: the 50 batch updates fall inside the throttle window.
  assert.equal(text().split("\r").length - 1, 2);
});

test("epoch mode prints only finished epochs; none prints nothing", () => {
  const e = capture("epoch");
  runEpochs(e.p, 2, 4);
  assert.ok(!e.text().includes("\r"));
  assert.equal(e.text().trimEnd().split("\n").length, 2);
  const n = capture("none");
  runEpochs(n.p, 2, 4);
  assert.equal(n.text(), "");
});

test("LESSONS_PROGRESS forces a mode and rejects unknown ones", () => {
  const before = process.env.LESSONS_PROGRESS;
  try {
    process.env.LESSONS_PROGRESS = "epoch";
    assert.equal(new TrainingProgress().mode, "epoch");
    process.env.LESSONS_PROGRESS = "fancy";
    assert.throws(() => new TrainingProgress(), /LESSONS_PROGRESS is set to "fancy", but it must be one of auto, tty, live, epoch, none/);
  } finally {
    if (before === undefined) delete process.env.LESSONS_PROGRESS;
    else process.env.LESSONS_PROGRESS = before;
  }
});
