/**
 * The stop button during a search (lesson 02's grid and random searches): tslab ends the cell at once, so the search
 * must say it stopped while that cell is still there (from the signal's handler), stop at its next step, save nothing
 * of the interrupted trial and print nothing afterwards: anything printed later lands in whichever cell runs next.
 * Signals are emitted in-process (process.emit), never really sent, as in test/lib/interrupt.test.ts.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as vm from "node:vm";
import * as tf from "@tensorflow/tfjs";
import { InterruptedError } from "../../lib/interrupt";
import { compileForClassification } from "../../lib/train";
import { GridSearch, HyperParameters, RandomSearch, type TunerOptions } from "../../lib/tuner";
import { toyData, toyModel } from "../lib/toy";

const made: string[] = [];
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tuner-interrupt-"));
  made.push(dir);
  return dir;
}
after(() => {
  made.forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
  process.removeAllListeners("SIGINT");
});

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * What a notebook shows: lines go to the running cell. `stop()` is the stop button: tslab's handler (registered
 * first, below) ends the cell, so once the signal's handlers have run, every later line lands in the next cell.
 */
class Cells {
  interrupted: string[] = [];
  next: string[] = [];
  private current = this.interrupted;
  readonly log = (line: string) => {
    this.current.push(line);
  };
  stop(): void {
    process.emit("SIGINT", "SIGINT");
    this.current = this.next;
  }
}
process.on("SIGINT", () => {}); // tslab's kernel handler (it ends the cell); hidden while a cell's sync part runs

interface Fake {
  layers: number;
  rate: number;
  disposed: boolean;
  dispose(): void;
}
const fakeModel = (hp: HyperParameters): Fake => ({
  layers: hp.Int("n_layers", { min: 1, max: 2 }),
  rate: hp.Float("dropout_rate", { min: 0.2, max: 0.8, step: 0.3 }),
  disposed: false,
  dispose() {
    this.disposed = true;
  },
});
const history = (m: Fake) => ({ history: { val_loss: [m.rate + 1 / m.layers] } });

function grid(dir: string, cells: Cells, extra: Partial<TunerOptions<Fake>> = {}) {
  const built: Fake[] = [];
  const tuner = new GridSearch<Fake>({
    hypermodel: (hp) => {
      const m = fakeModel(hp);
      built.push(m);
      return m;
    },
    directory: dir, projectName: "p", log: cells.log, ...extra,
  });
  return { tuner, built };
}

test("started from a cell the way tslab runs it, a stop after a trial's last step ends the search: nothing more runs or prints", async () => {
  const dir = tmpDir();
  const cells = new Cells();
  const { tuner, built } = grid(dir, cells);
  let fits = 0;
  // The fit finishes normally after the signal: the stop came after its last training step (train() checks for
  // interrupts only before each batch), or the fit does not watch for interrupts at all (model.fit).
  const fit = async (m: Fake) => {
    fits++;
    if (fits === 3) {
      await nextTurn(); // a real signal is only handled on a turn of the event loop
      cells.stop();
    }
    return history(m);
  };
  Object.assign(globalThis, { __cell: { start: () => tuner.search(fit) } });
  const running = vm.runInThisContext("__cell.start()", { breakOnSigint: true }) as Promise<void>;
  await assert.rejects(running, (err: Error) => {
    assert.ok(err instanceof InterruptedError, String(err));
    assert.match(err.message, /^Search stopped: the kernel was interrupted \(the stop button\)\. The 2 finished trial\(s\) are saved/);
    return true;
  });
  assert.equal(fits, 3, "no trial starts after the stop");
  assert.deepEqual(cells.next, [], "the stopped search printed into the next cell");
  const said = cells.interrupted.join("\n");
  assert.match(
    said,
    /Search stopped: the kernel was interrupted \(the stop button\) during trial_002 \(n_layers=1, dropout_rate=0\.8\), which is not saved\. The 2 finished trial\(s\) are saved in .*: running search again on this tuner \(await <tuner>\.search\(\.\.\.\) in a new cell\) resumes from them and runs only the 4 trial\(s\) left\. So does a new tuner with the same projectName\./,
  );
  assert.doesNotMatch(said, /failed|Trial 3\/6 complete/);
  assert.deepEqual(tuner.getTrials().map((t) => t.trialId), ["trial_000", "trial_001"], "the interrupted trial is not saved");
  assert.ok(built.every((m) => m.disposed || m === built[0] || m === built[1]), "the interrupted trial's model is freed");

  // Resuming: search again on the same tuner runs only the trials left.
  const rerun: string[] = [];
  await tuner.search(async (m, _hp, trial) => (rerun.push(trial.trialId), history(m)));
  assert.deepEqual(rerun, ["trial_002", "trial_003", "trial_004", "trial_005"]);
  assert.equal(tuner.getTrials().length, 6);
});

test("a stop during training (lib/train, search(data, options)) ends the search at the next batch, not as a failed trial", async () => {
  await tf.setBackend("cpu");
  const dir = tmpDir();
  const cells = new Cells();
  const { x, y } = toyData(32, 7);
  const before = tf.memory().numTensors;
  let trainStarted = 0;
  const batches: number[] = [];
  const stopInSecondTrial = {
    onTrainBegin: async () => {
      trainStarted++;
    },
    onBatchEnd: async (batch: number) => {
      if (trainStarted !== 2) return;
      batches.push(batch);
      if (batch === 1) cells.stop();
    },
  };
  const tuner = new RandomSearch<tf.LayersModel>({
    hypermodel: (hp) => {
      hp.Float("dropout_rate", { min: 0.1, max: 0.5 });
      return compileForClassification(toyModel());
    },
    maxTrials: 3, seed: 5, directory: dir, projectName: "trained", overwrite: true, log: cells.log,
  });
  await assert.rejects(
    tuner.search({ x, y }, { epochs: 2, batchSize: 8, validationData: { x, y }, callbacks: [stopInSecondTrial] }),
    (err: Error) => err instanceof InterruptedError && /^Search stopped/.test(err.message),
  );
  assert.deepEqual(batches, [0, 1], "training stops at its next batch");
  assert.equal(trainStarted, 2);
  assert.deepEqual(cells.next, [], "the stopped search printed into the next cell");
  const said = cells.interrupted.join("\n");
  assert.match(said, /Search stopped: .* during trial_001 \(dropout_rate=[\d.]+\), which is not saved\. The 1 finished trial\(s\) are saved/);
  // The lesson's cell creates its tuner with overwrite: true, so running that cell again does not resume.
  assert.match(said, /Running the cell that creates the tuner again starts over instead, because it passes overwrite: true\./);
  assert.doesNotMatch(said, /failed|Run the cell again to start over/);
  assert.equal(tuner.getTrials().length, 1);
  tuner.dispose();
  assert.equal(tf.memory().numTensors, before, "the interrupted trial's model is freed");
  x.dispose();
  y.dispose();
});

test("a stop before the first trial (while timing the estimate) says nothing was saved and runs no trial", async () => {
  const dir = tmpDir();
  const cells = new Cells();
  const { tuner } = grid(dir, cells, {
    estimateTrialSeconds: async () => {
      cells.stop();
      return 1;
    },
  });
  let fits = 0;
  await assert.rejects(tuner.search(async (m) => (fits++, history(m))), InterruptedError);
  assert.equal(fits, 0);
  assert.deepEqual(cells.next, [], "no estimate or trial line after the stop");
  assert.match(
    cells.interrupted.join("\n"),
    /Search stopped: the kernel was interrupted \(the stop button\)\. No trial had finished, so nothing is saved; running the search again starts from the first trial\./,
  );
  assert.deepEqual(tuner.getTrials(), []);
});

test("a stop while onBestModel runs keeps the saved trial and prints nothing more", async () => {
  const dir = tmpDir();
  const cells = new Cells();
  const { tuner } = grid(dir, cells, {
    onBestModel: async () => {
      await nextTurn();
      cells.stop();
    },
  });
  await assert.rejects(tuner.search(async (m) => history(m)), InterruptedError);
  assert.deepEqual(cells.next, []);
  assert.match(cells.interrupted.join("\n"), /Search stopped: the kernel was interrupted \(the stop button\)\. The 1 finished trial\(s\) are saved/);
  assert.equal(tuner.getTrials().length, 1);
});

test("an interrupt before a search, or after it ended, does not touch it", async () => {
  const dir = tmpDir();
  const cells = new Cells();
  process.emit("SIGINT", "SIGINT"); // e.g. a training cell stopped earlier
  const { tuner } = grid(dir, cells);
  await tuner.search(async (m) => history(m));
  assert.equal(tuner.getTrials().length, 6);
  const lines = cells.interrupted.length;
  cells.stop();
  assert.equal(cells.interrupted.length, lines, "a finished search says nothing when a later cell is stopped");
  assert.deepEqual(cells.next, []);
});
