import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GridSearch, RandomSearch, HyperParameters, TunerOptions } from "../../lib/tuner";

/** A stand-in for a model: records its settings and whether the tuner disposed it. */
interface FakeModel {
  nLayers: number;
  dropout: number;
  disposed: boolean;
  dispose(): void;
}

const built: FakeModel[] = [];
function hypermodel(hp: HyperParameters): FakeModel {
  const m: FakeModel = {
    nLayers: hp.Int("n_layers", { min: 1, max: 2 }),
    dropout: hp.Float("dropout_rate", { min: 0.2, max: 0.8, step: 0.3 }),
    disposed: false,
    dispose() {
      this.disposed = true;
    },
  };
  built.push(m);
  return m;
}

/** A known score: lowest at 2 layers and dropout 0.5. Per-epoch losses dip at epoch 2 (1-based). */
function lossOf(m: FakeModel): number {
  return Number(((m.dropout - 0.5) ** 2 + 0.1 * (3 - m.nLayers)).toFixed(6));
}
async function fakeFit(m: FakeModel) {
  const l = lossOf(m);
  return { history: { val_loss: [l + 0.3, l, l + 0.1], val_accuracy: [0.5 - l, 0.9 - l, 0.7 - l], loss: [1, 0.5, 0.2] } };
}

const made: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tuner-test-"));
  made.push(dir);
  return dir;
}
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function gridTuner(directory: string, extra: Partial<TunerOptions<FakeModel>> = {}) {
  return new GridSearch<FakeModel>({ hypermodel, objective: "val_loss", directory, projectName: "p", log: () => {}, ...extra });
}

const EXPECTED_ORDER = [
  { n_layers: 1, dropout_rate: 0.2 },
  { n_layers: 1, dropout_rate: 0.5 },
  { n_layers: 1, dropout_rate: 0.8 },
  { n_layers: 2, dropout_rate: 0.2 },
  { n_layers: 2, dropout_rate: 0.5 },
  { n_layers: 2, dropout_rate: 0.8 },
];

test("GridSearch runs conv {1,2} x dropout {0.2,0.5,0.8} = 6 trials, last-declared varying fastest", async () => {
  const dir = tmpDir();
  const seen: Record<string, unknown>[] = [];
  const tuner = gridTuner(dir);
  await tuner.search(async (m, hp, trial) => {
    seen.push(hp.values);
    assert.equal(trial.trialId, `trial_00${seen.length - 1}`);
    assert.deepEqual({ n_layers: m.nLayers, dropout_rate: m.dropout }, hp.values);
    return fakeFit(m);
  });
  assert.deepEqual(seen, EXPECTED_ORDER);
  const trials = tuner.getTrials();
  assert.deepEqual(trials.map((t) => t.hyperparameters), EXPECTED_ORDER);
  for (const t of trials) {
    assert.ok(fs.existsSync(path.join(dir, "p", t.trialId, "trial.json")));
    assert.equal(t.bestEpoch, 1, "score is the best epoch, not the last");
  }
  // Score = best val_loss over the epochs.
  assert.equal(trials[0].score, lossOf({ nLayers: 1, dropout: 0.2 } as FakeModel));
  assert.deepEqual(tuner.getBestHyperparameters()[0].values, { n_layers: 2, dropout_rate: 0.5 });
});

test("objective direction: min of val_loss and max of val_accuracy pick the right trials", async () => {
  const minTuner = gridTuner(tmpDir(), { objective: { name: "loss_like", direction: "min" } });
  const maxTuner = gridTuner(tmpDir(), { objective: "val_accuracy" });
  const maxOfLoss = gridTuner(tmpDir(), { objective: { name: "val_loss", direction: "max" } });
  const fit = async (m: FakeModel) => {
    const r = await fakeFit(m);
    return { history: { ...r.history, loss_like: r.history.val_loss } };
  };
  await minTuner.search(fit);
  await maxTuner.search(fakeFit);
  await maxOfLoss.search(fakeFit);
  assert.deepEqual(minTuner.getBestHyperparameters()[0].values, { n_layers: 2, dropout_rate: 0.5 });
  assert.deepEqual(maxTuner.getBestHyperparameters()[0].values, { n_layers: 2, dropout_rate: 0.5 });
  // Maximising the loss picks the worst model: 1 layer, dropout at an extreme (0.2 and 0.8 tie; earlier wins).
  assert.deepEqual(maxOfLoss.getBestHyperparameters()[0].values, { n_layers: 1, dropout_rate: 0.2 });
  const best = maxTuner.resultsSummary(1)[0];
  assert.equal(best.score, 0.9 - lossOf({ nLayers: 2, dropout: 0.5 } as FakeModel));
  assert.throws(() => gridTuner(tmpDir(), { objective: "f1" }), /cannot guess.*direction/);
});

test("resultsSummary prints and returns trials sorted best first", async () => {
  const lines: string[] = [];
  const tuner = gridTuner(tmpDir(), { log: (l) => lines.push(l) });
  await tuner.search(fakeFit);
  lines.length = 0;
  const rows = tuner.resultsSummary();
  assert.equal(rows.length, 6);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].score <= rows[i].score, "ascending val_loss");
  assert.deepEqual(rows.map((r) => r.rank), [1, 2, 3, 4, 5, 6]);
  assert.equal(rows[0].trialId, "trial_004");
  assert.equal(rows[0].bestEpoch, 2);
  assert.equal(tuner.resultsSummary(2).length, 2);
  const text = lines.join("\n");
  assert.match(text, /n_layers\s+dropout_rate\s+val_loss/);
  assert.ok(text.indexOf("trial_004") < text.indexOf("trial_000"), "best trial printed first");
});

test("an interrupted search resumes: completed trials are not run again", async () => {
  const dir = tmpDir();
  let calls = 0;
  await assert.rejects(
    gridTuner(dir).search(async (m) => {
      calls++;
      if (calls === 3) throw new Error("kernel interrupted");
      return fakeFit(m);
    }),
    /kernel interrupted/,
  );
  assert.equal(gridTuner(dir).getTrials().length, 2);
  const rerun: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const tuner = gridTuner(dir, { log: (l) => lines.push(l) });
  await tuner.search(async (m, hp) => {
    rerun.push(hp.values);
    return fakeFit(m);
  });
  assert.deepEqual(rerun, EXPECTED_ORDER.slice(2));
  assert.match(lines.join("\n"), /Resuming: 2 trial\(s\) already completed are not run again\. Estimate for the 4 left/);
  assert.match(lines.join("\n"), /Trial 3\/6 \(trial_002\): n_layers=1, dropout_rate=0\.8/);
  assert.deepEqual(tuner.getTrials().map((t) => t.trialId), ["trial_000", "trial_001", "trial_002", "trial_003", "trial_004", "trial_005"]);
  // A third run has nothing left to do.
  let more = 0;
  await gridTuner(dir).search(async (m) => (more++, fakeFit(m)));
  assert.equal(more, 0);
});

test("overwrite: true starts afresh; a changed search space without it is refused", async () => {
  const dir = tmpDir();
  await gridTuner(dir).search(fakeFit);
  let runs = 0;
  await gridTuner(dir, { overwrite: true }).search(async (m) => (runs++, fakeFit(m)));
  assert.equal(runs, 6);
  const other = new GridSearch<FakeModel>({
    hypermodel: (hp) => hypermodel(hp) && { ...hypermodel(hp), extra: hp.Choice("act", ["relu", "tanh"]) },
    directory: dir,
    projectName: "p",
    log: () => {},
  });
  await assert.rejects(other.search(fakeFit), /different search.*overwrite: true/);
  // overwrite refuses to delete a folder holding files the tuner did not write.
  fs.writeFileSync(path.join(dir, "p", "notes.txt"), "mine");
  assert.throws(() => gridTuner(dir, { overwrite: true }), /files the tuner did not write.*notes\.txt/);
});

test("models of finished trials are disposed; the best is kept and handed to onBestModel", async () => {
  built.length = 0;
  const bests: string[] = [];
  const tuner = gridTuner(tmpDir(), { onBestModel: (_m, trial) => void bests.push(trial.trialId) });
  await tuner.search(fakeFit);
  const [best] = tuner.getBestModels();
  assert.equal(best.nLayers, 2);
  assert.equal(best.dropout, 0.5);
  assert.equal(best.disposed, false);
  assert.ok(built.filter((m) => m !== best).every((m) => m.disposed), "every other model was disposed");
  assert.deepEqual(bests, ["trial_000", "trial_001", "trial_003", "trial_004"]);
  tuner.dispose();
  assert.equal(best.disposed, true);
});

test("RandomSearch: reproducible by seed, within the space, no duplicates, resumable", async () => {
  const makeHypermodel = (hp: HyperParameters) => ({
    units: hp.Int("units", { min: 8, max: 64, step: 8 }),
    lr: hp.Float("lr", { min: 1e-4, max: 1e-1, sampling: "log" }),
    act: hp.Choice("act", ["relu", "tanh"]),
  });
  type M = ReturnType<typeof makeHypermodel>;
  const fit = async (m: M) => ({ history: { val_loss: [Math.abs(Math.log10(m.lr) + 2) + m.units / 100] } });
  const run = async (dir: string, seed: number, maxTrials = 8) => {
    const tuner = new RandomSearch<M>({ hypermodel: makeHypermodel, directory: dir, projectName: "r", seed, maxTrials, log: () => {} });
    await tuner.search(fit);
    return tuner.getTrials().map((t) => t.hyperparameters);
  };
  const a = await run(tmpDir(), 5);
  const b = await run(tmpDir(), 5);
  const c = await run(tmpDir(), 6);
  assert.equal(a.length, 8);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(new Set(a.map((v) => JSON.stringify(v))).size, 8);
  for (const v of a) {
    assert.ok((v.units as number) % 8 === 0 && (v.units as number) >= 8 && (v.units as number) <= 64);
    assert.ok((v.lr as number) >= 1e-4 && (v.lr as number) <= 1e-1);
  }
  // Stopping after 3 trials and then asking for 8 gives the same 8 as one uninterrupted run.
  const dir = tmpDir();
  await run(dir, 5, 3);
  assert.deepEqual(await run(dir, 5, 8), a);
  assert.throws(() => new RandomSearch<M>({ hypermodel: makeHypermodel } as never), /needs maxTrials/);
});

test("RandomSearch on a small finite space stops when every combination was tried", async () => {
  let runs = 0;
  const tuner = new RandomSearch<HyperParameters>({
    hypermodel: (hp) => (hp.Int("n_layers", { min: 1, max: 2 }), hp.Choice("act", ["relu", "tanh"]), hp),
    directory: tmpDir(),
    maxTrials: 10,
    seed: 1,
    log: () => {},
  });
  await tuner.search(async () => (runs++, { history: { val_loss: [runs] } }));
  assert.equal(runs, 4);
});

test("progress reports trial i/N, the hyperparameters, score, best so far and an estimate", async () => {
  const lines: string[] = [];
  await gridTuner(tmpDir(), { log: (l) => lines.push(l) }).search(fakeFit);
  const text = lines.join("\n");
  assert.match(text, /Trial 1\/6 \(trial_000\): n_layers=1, dropout_rate=0\.2/);
  assert.match(text, /Trial 6\/6 complete \[00h 00m 00s\] val_loss: \d\.\d{4}.*best so far: 0\.1000 \(trial_004\)/);
  assert.match(text, /Estimate: .* for the remaining 5 trial\(s\), measured as this trial's time/);
});

test("a history without the objective's metric fails with the metrics it does have", async () => {
  const tuner = gridTuner(tmpDir());
  await assert.rejects(
    tuner.search(async () => ({ history: { loss: [1] } })),
    /no "val_loss" to score the trial by; it has: loss.*validation data/,
  );
});

test("GridSearch with maxTrials stops early, in grid order", async () => {
  let runs = 0;
  const tuner = gridTuner(tmpDir(), { maxTrials: 4 });
  await tuner.search(async (m) => (runs++, fakeFit(m)));
  assert.equal(runs, 4);
  assert.deepEqual(tuner.getTrials().map((t) => t.hyperparameters), EXPECTED_ORDER.slice(0, 4));
});

test("trial.json is complete JSON with the hyperparameters, score and per-epoch metrics", async () => {
  const dir = tmpDir();
  await gridTuner(dir, { maxTrials: 1 }).search(fakeFit);
  const saved = JSON.parse(fs.readFileSync(path.join(dir, "p", "trial_000", "trial.json"), "utf8"));
  assert.deepEqual(saved.hyperparameters, EXPECTED_ORDER[0]);
  assert.equal(saved.status, "COMPLETED");
  assert.equal(saved.score, Math.min(...saved.metrics.val_loss));
  assert.deepEqual(fs.readdirSync(path.join(dir, "p")).sort(), ["oracle.json", "trial_000"], "no temporary files left");
});

test("a later session reads the saved results; the best model must then be rebuilt with buildModel", async () => {
  const dir = tmpDir();
  await gridTuner(dir).search(fakeFit);
  const later = gridTuner(dir);
  assert.equal(later.resultsSummary()[0].trialId, "trial_004");
  const bestHp = later.getBestHyperparameters()[0];
  assert.deepEqual(bestHp.values, { n_layers: 2, dropout_rate: 0.5 });
  assert.throws(() => later.getBestModels(), /ran in an earlier session.*buildModel/);
  const rebuilt = await later.buildModel(bestHp);
  assert.equal(rebuilt.nLayers, 2);
  assert.equal(rebuilt.dropout, 0.5);
  assert.deepEqual(later.getBestHyperparameters(3).map((h) => h.values), [
    { n_layers: 2, dropout_rate: 0.5 },
    { n_layers: 2, dropout_rate: 0.2 },
    { n_layers: 2, dropout_rate: 0.8 },
  ]);
});

test("a hyperparameter declared only in some trials is reported with how to fix the build function", async () => {
  const tuner = new GridSearch<number>({
    hypermodel: (hp) => {
      const n = hp.Int("n_layers", { min: 1, max: 2 });
      return n === 2 ? hp.Int("units_2", { min: 8, max: 16, step: 8 }) : n;
    },
    directory: tmpDir(),
    log: () => {},
  });
  await assert.rejects(tuner.search(async () => ({ history: { val_loss: [1] } })), /"units_2".*Declare every hyperparameter on every call/);
});

test("estimateTrialSeconds: the search prints its expected duration before the first trial", async () => {
  const { GridSearch } = await import("../../lib/tuner/index");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tuner-estimate-"));
  const lines: string[] = [];
  const measured: number[] = [];
  const tuner = new GridSearch<{ layers: number }>({
    hypermodel: (hp) => ({ layers: hp.Int("n_layers", { min: 1, max: 3 }) }),
    directory: dir,
    projectName: "estimate",
    log: (l) => lines.push(l),
    estimateTrialSeconds: (model) => {
      measured.push(model.layers);
      return model.layers * 10; // bigger models take longer
    },
  });
  let ranBeforeEstimate = false;
  await tuner.search(() => {
    ranBeforeEstimate = !lines.some((l) => l.startsWith("Estimated duration"));
    return { history: { val_loss: [1] } };
  });
  assert.deepEqual(measured, [1, 3], "times the first and the last pending trial");
  assert.equal(ranBeforeEstimate, false);
  const estimate = lines.find((l) => l.startsWith("Estimated duration"));
  assert.ok(estimate, lines.join("\n"));
  assert.match(estimate, /~00h 01m 00s for 3 trial\(s\)/); // mean of 10 s and 30 s, times 3 trials
});
