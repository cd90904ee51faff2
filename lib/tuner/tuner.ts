/**
 * GridSearch and RandomSearch, shaped like keras_tuner:
 *
 *   const tuner = new GridSearch({ hypermodel: (hp) => buildModel(hp.Int(...), hp.Float(...)), objective: "val_loss",
 *                                  projectName: "dropout" });
 *   await tuner.search((model, hp, trial) => train(model, data, { epochs: 20 }));
 *   tuner.resultsSummary();
 *
 * The tuner knows nothing about TensorFlow.js: the hypermodel returns any "model" (disposed afterwards when it
 * has a dispose() method) and the fit function returns `{history: {val_loss: [...], ...}}`, which is what
 * tfjs's model.fit and the course's train() both return.
 */
import * as path from "path";
import { InterruptedError, interruptTicket, type InterruptTicket } from "../interrupt";
import { buildDir } from "../paths";
import type { LabelledData, TrainOptions } from "../train";
import { searchOnData } from "./train-on-data";
import { HyperParameters, HyperParameterSpec, describeSpec } from "./hyperparameters";
import { Objective, bestOfHistory, describeObjective, isBetter, toObjective } from "./objective";
import { MAX_GRID_SIZE, Values, gridCombinations, proposeRandom, spaceSize, valuesKey } from "./oracle";
import { TrialSummary, formatDuration, formatScore, formatSummary, formatValue, rankTrials, summaryRows } from "./results";
import {
  ProjectConfig,
  TrialRecord,
  checkProjectName,
  clearProject,
  loadTrials,
  readConfig,
  saveTrial,
  trialId,
  writeConfig,
} from "./storage";

/** A per-epoch metric value: a number, or a scalar tensor (anything with dataSync()). */
export type MetricValue = number | { dataSync(): ArrayLike<number> | ArrayLike<unknown> };

/**
 * What the fit function returns: per-epoch metrics, e.g. the result of model.fit or train(), whose `history`
 * maps metric names to one value per epoch ({val_loss: [...], val_accuracy: [...]}). Typed loosely as `object`
 * so that both tf.History and interfaces with optional metrics fit; the values are checked when read.
 */
export interface FitResult {
  history: object;
}

/** Facts about the running trial, handed to the fit function and to onBestModel. */
export interface TrialInfo {
  /** e.g. "trial_002"; also its folder name. */
  trialId: string;
  /** 0-based index (for GridSearch: the position in the grid). */
  index: number;
  /** The trial's folder, `<directory>/<projectName>/<trialId>`, e.g. for saving its model. */
  dir: string;
  /** A seed to pass to model builders; the same for every trial so trials differ only in hyperparameters. */
  seed: number;
}

export type Hypermodel<M> = (hp: HyperParameters) => M | Promise<M>;
export type FitFunction<M> = (model: M, hp: HyperParameters, trial: TrialInfo) => FitResult | Promise<FitResult>;

export interface TunerOptions<M> {
  /** Builds a model from the hyperparameters; calling hp.Int/hp.Float/hp.Choice inside declares the search space. */
  hypermodel: Hypermodel<M>;
  /** The metric to optimise: "val_loss" (min), "val_accuracy" (max), "loss", "accuracy", or {name, direction}. Default "val_loss". */
  objective?: string | Objective;
  /** Parent folder of the project folder. Default `<root>/build/tuner`. */
  directory?: string;
  /** Folder (inside directory) holding this search's trials. Default "untitled_project". */
  projectName?: string;
  /** Delete earlier results of this project and start again (default false: resume). */
  overwrite?: boolean;
  /** Stop after this many trials in total (including those from earlier sessions). */
  maxTrials?: number;
  /** Seed passed to your functions as trial.seed (RandomSearch also draws its trials with it). */
  seed?: number;
  /** Keep the best model of this session in memory for getBestModels() (default true); others are disposed. */
  keepBestModel?: boolean;
  /** Called when a trial beats every earlier one, before its model could be disposed, e.g. to save it. */
  onBestModel?: (model: M, trial: TrialInfo, score: number) => void | Promise<void>;
  /** Print progress while searching (default true). */
  verbose?: boolean;
  /** Where printed lines go (default console.log). */
  log?: (line: string) => void;
  /**
   * Seconds one trial will take for this model, measured before the search starts (e.g. by timing a few training
   * steps with lib/train's estimateTrainingSeconds). When given, search prints an estimate of its whole duration
   * before the first trial. The model is a throwaway build: it is disposed afterwards.
   */
  estimateTrialSeconds?: (model: M, hp: HyperParameters) => Promise<number> | number;
}

export interface RandomSearchOptions<M> extends TunerOptions<M> {
  maxTrials: number;
}

interface Proposal {
  index: number;
  values: Values;
}

/** Where a search is, for what it says when the stop button ends it. */
interface SearchState {
  /** The trial being built or trained ("trial_002 (units=3)"), if any. */
  running?: string;
  /** Finished trials, saved in the project folder. */
  done: number;
  /** How many trials the whole search has (Infinity if unknown). */
  total: number;
}

/**
 * Frees a finished trial's model when it has a dispose() method (tfjs models do). A tfjs model compiled with an
 * optimizer object (tf.train.adam(...)) does not free that optimizer's state itself, so we free it too: each
 * trial's model is expected to get its own optimizer inside the hypermodel.
 */
function disposeModel(model: unknown): void {
  if (!model || typeof model !== "object") return;
  const m = model as { dispose?: unknown; optimizer?: { dispose?: unknown } | null; isOptimizerOwned?: boolean };
  if (typeof m.dispose !== "function") return;
  const optimizer = m.optimizer;
  (m as { dispose(): void }).dispose();
  if (optimizer && typeof optimizer.dispose === "function" && m.isOptimizerOwned !== true) {
    (optimizer as { dispose(): void }).dispose();
  }
}

function toNumber(v: MetricValue): number {
  if (typeof v === "number") return v;
  if (v && typeof v.dataSync === "function") return Number(v.dataSync()[0]);
  return NaN;
}

function historyToNumbers(result: FitResult | undefined): Record<string, number[]> {
  if (!result || typeof result !== "object" || !result.history || typeof result.history !== "object") {
    throw new Error(
      `The fit function must return (a promise of) an object with a history, e.g. the result of ` +
        `model.fit(...) or train(...): {history: {val_loss: [...], ...}}. Got ${String(result)}.`,
    );
  }
  const out: Record<string, number[]> = {};
  for (const [name, series] of Object.entries(result.history as Record<string, unknown>)) {
    if (series === undefined) continue;
    if (!Array.isArray(series) && !ArrayBuffer.isView(series)) {
      throw new Error(`history.${name} should be a list with one value per epoch, got ${String(series)}.`);
    }
    out[name] = Array.from(series as ArrayLike<MetricValue>, toNumber);
  }
  return out;
}

function describeValues(values: Readonly<Values>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(", ");
}

export abstract class Tuner<M> {
  readonly objective: Objective;
  readonly directory: string;
  readonly projectName: string;
  /** `<directory>/<projectName>`: where the trials are saved. */
  readonly projectDir: string;
  protected readonly options: TunerOptions<M>;
  protected seed: number | undefined;
  private space: HyperParameterSpec[] | undefined;
  private bestModel: { model: M; trialId: string } | undefined;
  private readonly log: (line: string) => void;

  protected constructor(options: TunerOptions<M>) {
    if (!options || typeof options.hypermodel !== "function") {
      throw new Error(
        `The tuner needs a hypermodel: a function (hp) => model that reads its settings from hp, e.g. ` +
          `{hypermodel: (hp) => buildModel({dropout: hp.Float("dropout", {min: 0.2, max: 0.8, step: 0.3})})}.`,
      );
    }
    if (options.maxTrials !== undefined && !(Number.isInteger(options.maxTrials) && options.maxTrials > 0)) {
      throw new Error(`maxTrials must be a positive whole number, got ${options.maxTrials}.`);
    }
    this.options = options;
    this.objective = toObjective(options.objective);
    this.directory = path.resolve(options.directory ?? path.join(buildDir(), "tuner"));
    this.projectName = options.projectName ?? "untitled_project";
    checkProjectName(this.projectName);
    this.projectDir = path.join(this.directory, this.projectName);
    this.seed = options.seed;
    this.log = options.log ?? ((line) => console.log(line));
    if (options.overwrite) clearProject(this.projectDir);
  }

  /** The tuner's name as stored in oracle.json ("GridSearch", "RandomSearch"). */
  protected abstract get kind(): string;

  /** The next trial to run, or undefined when the search is complete. */
  protected abstract propose(space: HyperParameterSpec[], done: readonly TrialRecord[]): Proposal | undefined;

  /** How many trials the whole search will have (Infinity if unknown). */
  protected abstract plannedTrials(space: HyperParameterSpec[]): number;

  /**
   * Runs every trial not yet completed: builds a model with the hypermodel, trains it with `fit`, scores it by the
   * objective and saves the result. If a trial throws, the error is passed on; run search again to resume.
   *
   * The stop button (a kernel interrupt) ends the search: tslab ends the cell at once, and the search says so in
   * that cell, from the signal's handler, then stops at its next step (training stops at its next batch) and prints
   * nothing more, so no later cell gets a line of it. The finished trials stay saved; the trial that was running is
   * not saved, and search rejects with an InterruptedError that says how to resume.
   * Returns nothing (so a notebook cell ending in `await tuner.search(...)` shows only the progress);
   * use resultsSummary() for the results.
   */
  async search(fit: FitFunction<M>): Promise<void>;
  /** Keras-like: trains each trial with lib/train's train(model, data, options), e.g. { epochs, validationData }. */
  async search(data: LabelledData, options: TrainOptions): Promise<void>;
  async search(fitOrData: FitFunction<M> | LabelledData, options?: TrainOptions): Promise<void> {
    // Taken first, in the cell's synchronous part, so that an interrupt at any later step is seen. Every trial's
    // train() takes its own ticket, but only when it starts: an interrupt between trials, or after a trial's last
    // training step, used to leave the search running on in the background, printing into later cells.
    const state: SearchState = { done: 0, total: Infinity };
    const stop = interruptTicket("Search", { onInterrupt: () => this.say(this.stoppedMessage(state)) });
    try {
      await this.runSearch(fitOrData, options, state, stop);
    } finally {
      stop.close();
    }
  }

  private async runSearch(
    fitOrData: FitFunction<M> | LabelledData,
    options: TrainOptions | undefined,
    state: SearchState,
    stop: InterruptTicket,
  ): Promise<void> {
    // After an interrupt the search prints nothing more (onInterrupt said it while the cell was still there).
    const checkStop = () => {
      if (stop.interrupted) throw new InterruptedError("Search", this.resumeAdvice(state));
    };
    let fit = fitOrData as FitFunction<M>;
    let estimate = this.options.estimateTrialSeconds;
    if (typeof fitOrData !== "function") {
      if (!fitOrData || typeof fitOrData !== "object") {
        throw new Error(
          `search needs the training data and options, tuner.search(data, { epochs: 20, validationData: valData }), ` +
            `or a function that trains the model and returns its history.`,
        );
      }
      const onData = searchOnData<M>(fitOrData, options as TrainOptions);
      fit = onData.fit;
      estimate ??= onData.estimate;
    }
    const space = await this.discoverSpace();
    checkStop();
    this.openProject(space);
    const done = loadTrials(this.projectDir, (m) => this.say(m));
    const planned = this.plannedTrials(space);
    const total = Number.isFinite(planned) ? planned : (this.options.maxTrials ?? Infinity);
    state.done = done.length;
    state.total = total;
    const sessionStart = Date.now();
    let sessionSeconds = 0;
    let sessionTrials = 0;

    this.say(
      `${this.kind}: ${Number.isFinite(total) ? total : "?"} trials over ${space.map((s) => s.name).join(", ")}; ` +
        `objective ${describeObjective(this.objective)}` +
        (this.kind === "RandomSearch" ? `; seed ${this.seed} (pass seed: ${this.seed} to draw the same trials again)` : "") +
        `. Results in ${this.projectDir}`,
    );
    if (done.length > 0) {
      const mean = done.reduce((s, t) => s + t.seconds, 0) / done.length;
      const left = Math.max(0, total - done.length);
      this.say(
        `Resuming: ${done.length} trial(s) already completed are not run again.` +
          (left > 0 && Number.isFinite(left)
            ? ` Estimate for the ${left} left: ~${formatDuration(mean * left)} (their mean trial time x ${left}).`
            : ""),
      );
    }

    if (estimate) await this.estimateBeforeStart(space, done, estimate, checkStop);

    for (;;) {
      checkStop();
      const next = this.propose(space, done);
      if (!next) break;
      const hp = HyperParameters.forTrial(space, next.values);
      const info: TrialInfo = {
        trialId: trialId(next.index),
        index: next.index,
        dir: path.join(this.projectDir, trialId(next.index)),
        seed: this.seed ?? 0,
      };
      const ordinal = done.length + 1;
      const of = Number.isFinite(total) ? `${ordinal}/${total}` : `${ordinal}`;
      this.say(`\nTrial ${of} (${info.trialId}): ${describeValues(next.values)}`);
      state.running = `${info.trialId} (${describeValues(next.values)})`;

      const t0 = Date.now();
      const model = await this.options.hypermodel(hp);
      let record: TrialRecord;
      try {
        checkStop();
        const result = await fit(model, hp, info);
        // A fit that finished after the interrupt (the stop came after its last training step, or the fit does
        // not watch for interrupts) is not saved either: the stop message said so, and a search started again
        // meanwhile may be writing to the same folder.
        checkStop();
        const metrics = historyToNumbers(result);
        const { score, epoch } = bestOfHistory(this.objective, metrics);
        const seconds = (Date.now() - t0) / 1000;
        record = {
          trialId: info.trialId,
          index: next.index,
          status: "COMPLETED",
          hyperparameters: next.values,
          score,
          bestEpoch: epoch,
          epochs: Math.max(0, ...Object.values(metrics).map((s) => s.length)),
          seconds,
          metrics,
          finishedAt: new Date().toISOString(),
        };
      } catch (err) {
        disposeModel(model);
        checkStop(); // stopped: not a failed trial, and the stop was reported when it came
        this.say(
          `Trial ${info.trialId} failed: ${(err as Error).message}\n` +
            `The ${done.length} completed trial(s) are saved; run search again to resume from here.`,
        );
        throw err;
      }

      const previousBest = rankTrials(this.objective, done)[0];
      const isNewBest = !previousBest || isBetter(this.objective, record.score, previousBest.score);
      saveTrial(this.projectDir, record);
      done.push(record);
      state.done = done.length;
      state.running = undefined;
      await this.handleModel(model, info, record.score, isNewBest);
      checkStop();

      sessionSeconds += record.seconds;
      sessionTrials += 1;
      const best = rankTrials(this.objective, done)[0];
      const left = total - done.length;
      const eta = sessionSeconds / sessionTrials;
      this.say(
        `Trial ${of} complete [${formatDuration(record.seconds)}] ${this.objective.name}: ${formatScore(record.score)}` +
          ` (best epoch ${record.bestEpoch + 1}/${record.epochs})` +
          ` | best so far: ${formatScore(best.score)} (${best.trialId})` +
          ` | elapsed ${formatDuration((Date.now() - sessionStart) / 1000)}` +
          (left > 0 && Number.isFinite(left) ? ` | ~${formatDuration(eta * left)} left` : ""),
      );
      if (sessionTrials === 1 && left > 0 && Number.isFinite(left)) {
        this.say(
          `Estimate: ~${formatDuration(eta * left)} for the remaining ${left} trial(s), measured as this trial's ` +
            `time (${formatDuration(eta)}) x ${left}. Bigger models train slower, so treat it as a rough guide.`,
        );
      }
    }

    checkStop();
    const best = rankTrials(this.objective, done)[0];
    this.say(
      `\nSearch complete: ${done.length} trial(s), ${sessionTrials} run now in ${formatDuration((Date.now() - sessionStart) / 1000)}.` +
        (best ? ` Best ${this.objective.name}: ${formatScore(best.score)} (${best.trialId}: ${describeValues(best.hyperparameters)})` : ""),
    );
  }

  /** What the interrupted cell shows when the stop button ends a search. */
  private stoppedMessage(state: SearchState): string {
    return (
      `\nSearch stopped: the kernel was interrupted (the stop button)` +
      (state.running ? ` during ${state.running}, which is not saved.` : `.`) +
      ` ${this.resumeAdvice(state)}`
    );
  }

  /** How to go on after a stop: which trials are kept and what running search again does. */
  private resumeAdvice(state: SearchState): string {
    if (state.done === 0) {
      return `No trial had finished, so nothing is saved; running the search again starts from the first trial.`;
    }
    const left = state.total - state.done;
    return (
      `The ${state.done} finished trial(s) are saved in ${this.projectDir}: running search again on this tuner ` +
      `(await <tuner>.search(...) in a new cell) resumes from them and runs ` +
      (Number.isFinite(left) ? `only the ${left} trial(s) left.` : `only the trials left.`) +
      (this.options.overwrite
        ? ` Running the cell that creates the tuner again starts over instead, because it passes overwrite: true.`
        : ` So does a new tuner with the same projectName.`)
    );
  }

  /** The trials still to run, in order. `propose` depends only on the space and the trials done, so this is safe. */
  private pendingProposals(space: HyperParameterSpec[], done: readonly TrialRecord[]): Proposal[] {
    const assumedDone: TrialRecord[] = [...done];
    const pending: Proposal[] = [];
    for (let p = this.propose(space, assumedDone); p && pending.length < MAX_GRID_SIZE; p = this.propose(space, assumedDone)) {
      pending.push(p);
      assumedDone.push({
        trialId: trialId(p.index), index: p.index, status: "COMPLETED", hyperparameters: p.values,
        score: NaN, bestEpoch: -1, epochs: 0, seconds: 0, metrics: {}, finishedAt: "",
      });
    }
    return pending;
  }

  /**
   * Times the first and the last pending trial's model (they often differ most in size) with the user's
   * estimateTrialSeconds, and prints the expected duration of the whole search.
   */
  private async estimateBeforeStart(
    space: HyperParameterSpec[],
    done: readonly TrialRecord[],
    estimate: NonNullable<TunerOptions<M>["estimateTrialSeconds"]>,
    checkStop: () => void,
  ): Promise<void> {
    const pending = this.pendingProposals(space, done);
    if (pending.length === 0) return;
    const sampled = pending.length === 1 ? [pending[0]] : [pending[0], pending[pending.length - 1]];
    const perTrial: number[] = [];
    for (const proposal of sampled) {
      const hp = HyperParameters.forTrial(space, proposal.values);
      const model = await this.options.hypermodel(hp);
      try {
        perTrial.push(await estimate(model, hp));
      } finally {
        disposeModel(model);
      }
      checkStop();
    }
    const mean = perTrial.reduce((s, v) => s + v, 0) / perTrial.length;
    this.say(
      `Estimated duration: ~${formatDuration(mean * pending.length)} for ${pending.length} trial(s), from timed ` +
        `training steps: ${sampled.map((p, i) => `${describeValues(p.values)} ~${formatDuration(perTrial[i])} per trial`).join("; ")}.`,
    );
  }

  /** The completed trials saved in the project folder, in the order they ran. */
  getTrials(): TrialRecord[] {
    return loadTrials(this.projectDir, (m) => this.say(m));
  }

  /**
   * Prints the `n` best trials (default 10) as a table, best first, and returns them as rows for plotting.
   * Works without search() in this session, reading the saved trials.
   */
  resultsSummary(n = 10): TrialSummary[] {
    const trials = this.getTrials();
    const rows = summaryRows(this.objective, trials, n);
    const names = this.hyperparameterNames(trials);
    this.log(
      [
        `Results summary`,
        `Results in ${this.projectDir}`,
        `Showing ${rows.length} best of ${trials.length} trial(s); objective ${describeObjective(this.objective)}`,
        rows.length ? formatSummary(this.objective, rows, names) : "(no completed trials yet: run tuner.search first)",
      ].join("\n"),
    );
    return rows;
  }

  /** Prints and returns the search space (runs the hypermodel once with default values to discover it). */
  async searchSpaceSummary(): Promise<HyperParameterSpec[]> {
    const space = await this.discoverSpace();
    this.log([`Search space summary (${space.length} hyperparameters)`, ...space.map((s) => `  ${s.name}: ${describeSpec(s)}`)].join("\n"));
    return space;
  }

  /** The hyperparameters of the `n` best trials (default 1), best first: `getBestHyperparameters()[0]`. */
  getBestHyperparameters(n = 1): HyperParameters[] {
    const trials = this.getTrials();
    const space = this.space ?? readConfig(this.projectDir)?.space;
    if (!space || trials.length === 0) {
      throw new Error(`No completed trials in ${this.projectDir} yet: run await tuner.search(...) first.`);
    }
    return rankTrials(this.objective, trials)
      .slice(0, n)
      .map((t) => HyperParameters.forTrial(space, t.hyperparameters));
  }

  /**
   * The best model trained in this session (kept in memory, see keepBestModel). `n` must be 1: other models are
   * disposed to free memory. When the best trial ran in an earlier session, rebuild it with buildModel and train it.
   */
  getBestModels(n = 1): M[] {
    if (n !== 1) {
      throw new Error(`Only the best model is kept in memory, so getBestModels supports n = 1; rebuild others with tuner.buildModel(hp).`);
    }
    const best = rankTrials(this.objective, this.getTrials())[0];
    if (!best) throw new Error(`No completed trials in ${this.projectDir} yet: run await tuner.search(...) first.`);
    if (!this.bestModel || this.bestModel.trialId !== best.trialId) {
      throw new Error(
        `The best trial (${best.trialId}) ${this.options.keepBestModel === false ? "was not kept (keepBestModel: false)" : "ran in an earlier session"}, ` +
          `so its model is not in memory. Rebuild and train it: ` +
          `const model = await tuner.buildModel(tuner.getBestHyperparameters()[0]); then train it as in search.`,
      );
    }
    return [this.bestModel.model];
  }

  /** A fresh, untrained model for the given hyperparameters (e.g. the best ones), to retrain on all data. */
  async buildModel(hp: HyperParameters | Values): Promise<M> {
    const values = hp instanceof HyperParameters ? hp.values : hp;
    const space = await this.discoverSpace();
    return this.options.hypermodel(HyperParameters.forTrial(space, values));
  }

  /** Frees the best model kept in memory. */
  dispose(): void {
    if (this.bestModel) disposeModel(this.bestModel.model);
    this.bestModel = undefined;
  }

  /** Calls the hypermodel once in declare mode; its model is only needed for the declarations, so it is disposed. */
  private async discoverSpace(): Promise<HyperParameterSpec[]> {
    if (this.space) return this.space;
    const hp = new HyperParameters();
    disposeModel(await this.options.hypermodel(hp));
    if (hp.space.length === 0) {
      throw new Error(
        `The hypermodel declared no hyperparameters, so there is nothing to search. Read its settings from hp, ` +
          `e.g. const rate = hp.Float("dropout_rate", {min: 0.2, max: 0.8, step: 0.3}).`,
      );
    }
    this.space = hp.space;
    return this.space;
  }

  /** Checks that saved results belong to the same search, then (re)writes oracle.json. */
  private openProject(space: HyperParameterSpec[]): void {
    const saved = readConfig(this.projectDir);
    if (saved) {
      const problems: string[] = [];
      if (saved.tuner !== this.kind) problems.push(`it was a ${saved.tuner}, this is a ${this.kind}`);
      if (JSON.stringify(saved.objective) !== JSON.stringify(this.objective)) {
        problems.push(`objective was ${JSON.stringify(saved.objective)}, now ${JSON.stringify(this.objective)}`);
      }
      if (JSON.stringify(saved.space) !== JSON.stringify(space)) {
        problems.push(`the search space changed (was ${saved.space.map((s) => `${s.name}: ${describeSpec(s)}`).join("; ")})`);
      }
      if (this.seed !== undefined && saved.seed !== undefined && this.seed !== saved.seed) {
        problems.push(`seed was ${saved.seed}, now ${this.seed}`);
      }
      if (problems.length) {
        throw new Error(
          `${this.projectDir} holds results of a different search: ${problems.join("; ")}. ` +
            `Pass overwrite: true to start afresh, or choose another projectName.`,
        );
      }
      if (this.seed === undefined) this.seed = saved.seed;
    }
    if (this.seed === undefined) this.seed = this.defaultSeed();
    const config: ProjectConfig = { tuner: this.kind, objective: this.objective, space };
    if (this.seed !== undefined) config.seed = this.seed;
    writeConfig(this.projectDir, config);
  }

  /** The seed used when none is given (and none is saved). */
  protected defaultSeed(): number | undefined {
    return undefined;
  }

  private async handleModel(model: M, info: TrialInfo, score: number, isNewBest: boolean): Promise<void> {
    if (!isNewBest) {
      disposeModel(model);
      return;
    }
    try {
      if (this.options.onBestModel) await this.options.onBestModel(model, info, score);
    } finally {
      if (this.options.keepBestModel === false) {
        disposeModel(model);
      } else {
        this.dispose();
        this.bestModel = { model, trialId: info.trialId };
      }
    }
  }

  private hyperparameterNames(trials: readonly TrialRecord[]): string[] {
    const names = (this.space ?? readConfig(this.projectDir)?.space ?? []).map((s) => s.name);
    for (const t of trials) for (const k of Object.keys(t.hyperparameters)) if (!names.includes(k)) names.push(k);
    return names;
  }

  private say(line: string): void {
    if (this.options.verbose !== false) this.log(line);
  }
}

/**
 * Tries every combination of the hyperparameters' values (Floats need a step), in a fixed order: the
 * last-declared hyperparameter varies fastest, like nested for-loops. Trial i is always the i-th combination.
 */
export class GridSearch<M> extends Tuner<M> {
  constructor(options: TunerOptions<M>) {
    super(options);
  }

  protected get kind(): string {
    return "GridSearch";
  }

  protected plannedTrials(space: HyperParameterSpec[]): number {
    return Math.min(spaceSize(space), this.options.maxTrials ?? Infinity);
  }

  protected propose(space: HyperParameterSpec[], done: readonly TrialRecord[]): Proposal | undefined {
    if (done.length >= (this.options.maxTrials ?? Infinity)) return undefined;
    const tried = new Set(done.map((t) => valuesKey(space, t.hyperparameters)));
    const grid = gridCombinations(space);
    const index = grid.findIndex((v) => !tried.has(valuesKey(space, v)));
    return index < 0 ? undefined : { index, values: grid[index] };
  }
}

/**
 * Draws `maxTrials` random combinations (uniform within each range; log-uniform with sampling "log"), never the
 * same one twice while untried ones remain. The same seed gives the same trials, also across resumes.
 */
export class RandomSearch<M> extends Tuner<M> {
  constructor(options: RandomSearchOptions<M>) {
    if (!options || options.maxTrials === undefined) {
      throw new Error(`RandomSearch needs maxTrials, the number of random combinations to try, e.g. {maxTrials: 10}.`);
    }
    super(options);
  }

  /** The seed that drives the draws (chosen at random and saved with the project when none was given). */
  get searchSeed(): number | undefined {
    return this.seed;
  }

  protected get kind(): string {
    return "RandomSearch";
  }

  protected override defaultSeed(): number {
    return Math.floor(Math.random() * 2 ** 31);
  }

  protected plannedTrials(space: HyperParameterSpec[]): number {
    return Math.min(spaceSize(space), this.options.maxTrials as number);
  }

  protected propose(space: HyperParameterSpec[], done: readonly TrialRecord[]): Proposal | undefined {
    if (done.length >= (this.options.maxTrials as number)) return undefined;
    const tried = new Set(done.map((t) => valuesKey(space, t.hyperparameters)));
    const index = done.reduce((m, t) => Math.max(m, t.index + 1), 0);
    const values = proposeRandom(space, this.seed ?? 0, index, tried);
    return values ? { index, values } : undefined;
  }
}

