import { test } from "node:test";
import assert from "node:assert/strict";
import { plotHistory, plotHistories, lineChart, TrainingHistory } from "../../lib/plot";

const history: TrainingHistory = {
  epochs: [0, 1, 2],
  history: { loss: [0.9, 0.6, 0.4], accuracy: [0.5, 0.7, 0.8], val_loss: [1.0, 0.8, 0.85], val_accuracy: [0.45, 0.6, 0.62] },
};

const title = (t: unknown) => (t as { text: string }).text;

test("plotHistory draws one panel per metric with training and validation curves", () => {
  const fig = plotHistory(history, { show: false });
  assert.equal(fig.data.length, 4);
  assert.deepEqual(fig.data.map((t) => t.name), ["training accuracy", "validation accuracy", "training loss", "validation loss"]);
  assert.deepEqual(fig.data.map((t) => t.xaxis), ["x", "x", "x2", "x2"]);
  assert.deepEqual(fig.data[2].y, [0.9, 0.6, 0.4]);
  assert.deepEqual(fig.data[3].y, [1.0, 0.8, 0.85]);
  assert.deepEqual(fig.data[0].x, [1, 2, 3], "tfjs epochs count from 0; the chart counts from 1");
  const layout = fig.layout!;
  assert.equal(title((layout.yaxis as { title: unknown }).title), "accuracy");
  assert.equal(title((layout.yaxis2 as { title: unknown }).title), "loss");
  const [d1, d2] = [(layout.xaxis as { domain: number[] }).domain, (layout.xaxis2 as { domain: number[] }).domain];
  assert.ok(d1[1] < d2[0], "panels must not overlap");
  assert.equal((layout.xaxis as { dtick?: number }).dtick, 1, "whole epochs on a short run");
  const long = plotHistory({ history: { loss: Array.from({ length: 40 }, (_, i) => 1 / (i + 1)) } }, { metrics: ["loss"], show: false });
  assert.equal((long.layout!.xaxis as { dtick?: number }).dtick, undefined, "plotly picks ticks for long runs");
});

test("plotHistory accepts tfjs's {epoch, history} and a single metric", () => {
  const fig = plotHistory({ epoch: [0, 1, 2], history: { loss: [3, 2, 1] } }, { metrics: ["loss"], show: false });
  assert.equal(fig.data.length, 1, "no val_loss in the history, so only the training curve");
  assert.deepEqual(fig.data[0].x, [1, 2, 3]);
});

test("plotHistory explains a missing metric", () => {
  assert.throws(() => plotHistory({ epochs: [0], history: { loss: [1] } }, { show: false }), /no "accuracy" values; it has loss/);
});

test("plotHistories compares models: same colour per model, dashed training and solid validation", () => {
  const other = { epochs: [0, 1, 2], history: { loss: [0.8, 0.5, 0.45], val_loss: [0.9, 0.7, 0.6] } };
  const fig = plotHistories({ "no dropout": history, dropout: other }, { show: false });
  assert.equal(fig.data.length, 4);
  assert.deepEqual(fig.data.map((t) => t.name), ["no dropout: training", "no dropout: validation", "dropout: training", "dropout: validation"]);
  const line = (i: number) => fig.data[i].line as { color: string; dash?: string };
  assert.equal(line(0).color, line(1).color);
  assert.notEqual(line(0).color, line(2).color);
  assert.equal(line(0).dash, "dash");
  assert.equal(line(1).dash, undefined);
  assert.deepEqual(fig.data[3].y, [0.9, 0.7, 0.6]);
  const valOnly = plotHistories({ a: other }, { training: false, show: false });
  assert.equal(valOnly.data.length, 1);
  assert.throws(() => plotHistories({}, { show: false }), /at least one named history/);
});

test("lineChart plots named series against x with axis titles", () => {
  const fig = lineChart([0, 0.25, 0.5], { "validation loss": [0.7, 0.6, 0.65], "training loss": [0.5, 0.55, 0.6] }, {
    title: "Dropout rate", xTitle: "rate", yTitle: "loss", show: false,
  });
  assert.equal(fig.data.length, 2);
  assert.deepEqual(fig.data[0].x, [0, 0.25, 0.5]);
  assert.deepEqual(fig.data[1].y, [0.5, 0.55, 0.6]);
  assert.equal(title(fig.layout!.title), "Dropout rate");
  assert.equal(title((fig.layout!.xaxis as { title: unknown }).title), "rate");
  assert.equal(title((fig.layout!.yaxis as { title: unknown }).title), "loss");
  const single = lineChart(["a", "b"], new Float32Array([1, 2]), { yTitle: "acc", show: false });
  assert.equal(single.data[0].name, "acc");
  assert.deepEqual(single.data[0].y, [1, 2]);
  assert.throws(() => lineChart([1, 2, 3], [1, 2], { show: false }), /has 2 values but x has 3/);
});
