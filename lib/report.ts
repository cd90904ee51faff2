/**
 * Plain-language summaries of training runs, so the lessons talk about the numbers they actually got
 * instead of numbers typed into the prose.
 */

/** The part of a training history these summaries need (what lib/train returns). */
export interface RunHistory {
  history: Record<string, number[]>;
}

export interface RunFacts {
  epochs: number;
  finalAccuracy?: number;
  finalValAccuracy?: number;
  bestValAccuracy?: number;
  bestValAccuracyEpoch?: number;
  bestValLoss?: number;
  bestValLossEpoch?: number;
  finalValLoss?: number;
  /** Training accuracy minus validation accuracy at the last epoch. */
  finalGap?: number;
}

function last(xs: number[] | undefined): number | undefined {
  return xs && xs.length ? xs[xs.length - 1] : undefined;
}

function argBest(xs: number[] | undefined, better: (a: number, b: number) => boolean): number | undefined {
  if (!xs || xs.length === 0) return undefined;
  let best = 0;
  xs.forEach((v, i) => {
    if (better(v, xs[best])) best = i;
  });
  return best;
}

/** Key facts of one run, with epochs counted from 1 as the progress display shows them. */
export function runFacts(run: RunHistory): RunFacts {
  const h = run.history;
  const epochs = Math.max(0, ...Object.values(h).map((xs) => xs.length));
  const accIdx = argBest(h.val_accuracy, (a, b) => a > b);
  const lossIdx = argBest(h.val_loss, (a, b) => a < b);
  const finalAccuracy = last(h.accuracy);
  const finalValAccuracy = last(h.val_accuracy);
  return {
    epochs,
    finalAccuracy,
    finalValAccuracy,
    bestValAccuracy: accIdx === undefined ? undefined : h.val_accuracy[accIdx],
    bestValAccuracyEpoch: accIdx === undefined ? undefined : accIdx + 1,
    bestValLoss: lossIdx === undefined ? undefined : h.val_loss[lossIdx],
    bestValLossEpoch: lossIdx === undefined ? undefined : lossIdx + 1,
    finalValLoss: last(h.val_loss),
    finalGap: finalAccuracy !== undefined && finalValAccuracy !== undefined ? finalAccuracy - finalValAccuracy : undefined,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export interface DescribeOptions {
  /** Number of classes, for the chance level quoted (a random guess is right 1 / classes of the time). Default 10. */
  classes?: number;
}

/** A few sentences describing one run: final accuracies, the best validation epoch and signs of overfitting. */
export function trainingDescription(run: RunHistory, opts: DescribeOptions = {}): string {
  const classes = opts.classes ?? 10;
  if (!Number.isInteger(classes) || classes < 2) throw new Error(`classes must be an integer >= 2, got ${classes}.`);
  const f = runFacts(run);
  const lines: string[] = [];
  if (f.finalAccuracy !== undefined && f.finalValAccuracy !== undefined) {
    lines.push(
      `After ${f.epochs} epochs: training accuracy ${pct(f.finalAccuracy)}, validation accuracy ` +
        `${pct(f.finalValAccuracy)} (chance level with ${classes} classes: ${pct(1 / classes)}).`,
    );
  }
  if (f.bestValAccuracy !== undefined) {
    lines.push(`Best validation accuracy: ${pct(f.bestValAccuracy)} in epoch ${f.bestValAccuracyEpoch}.`);
  }
  if (f.bestValLoss !== undefined && f.finalValLoss !== undefined) {
    const rise = f.finalValLoss - f.bestValLoss;
    lines.push(
      f.bestValLossEpoch === f.epochs
        ? `Validation loss was still falling at the last epoch (${f.finalValLoss.toFixed(3)}).`
        : `Validation loss was lowest in epoch ${f.bestValLossEpoch} (${f.bestValLoss.toFixed(3)}) and ended ` +
            `${rise.toFixed(3)} higher (${f.finalValLoss.toFixed(3)}).`,
    );
  }
  if (f.finalGap !== undefined) {
    lines.push(
      f.finalGap > 0.1 && f.bestValLossEpoch !== f.epochs
        ? `Training accuracy is ${pct(f.finalGap)} above validation accuracy while validation loss rises again: ` +
            `the model is overfitting.`
        : f.finalGap > 0.1
          ? `Training accuracy is ${pct(f.finalGap)} above validation accuracy: a sign of overfitting to watch.`
          : `Training and validation accuracy are within ${pct(Math.abs(f.finalGap))} of each other: ` +
            `no strong overfitting yet.`,
    );
  }
  return lines.join("\n");
}

/**
 * Prints `trainingDescription(run)`. Returns nothing on purpose: tslab echoes a cell's last value, and the text
 * should appear once.
 */
export function describeTraining(run: RunHistory, opts: DescribeOptions = {}): void {
  console.log(trainingDescription(run, opts));
}

/** A table of named runs by best validation accuracy, best first, and how far the best is ahead of the next. */
export function comparisonTable(runs: Record<string, RunHistory>): string {
  const rows = Object.entries(runs)
    .map(([name, run]) => ({ name, f: runFacts(run) }))
    .sort((a, b) => (b.f.bestValAccuracy ?? -1) - (a.f.bestValAccuracy ?? -1));
  const width = Math.max(...rows.map((r) => r.name.length), 5);
  const lines = [
    `${"model".padEnd(width)}  epochs  best val_accuracy  final val_accuracy  best val_loss`,
    ...rows.map(
      ({ name, f }) =>
        `${name.padEnd(width)}  ${String(f.epochs).padStart(6)}  ` +
        `${(f.bestValAccuracy === undefined ? "-" : pct(f.bestValAccuracy)).padStart(17)}  ` +
        `${(f.finalValAccuracy === undefined ? "-" : pct(f.finalValAccuracy)).padStart(18)}  ` +
        `${(f.bestValLoss === undefined ? "-" : f.bestValLoss.toFixed(3)).padStart(13)}`,
    ),
  ];
  if (rows.length >= 2 && rows[0].f.bestValAccuracy !== undefined && rows[1].f.bestValAccuracy !== undefined) {
    const diff = rows[0].f.bestValAccuracy - rows[1].f.bestValAccuracy;
    lines.push(
      `"${rows[0].name}" reached the best validation accuracy, ${pct(diff)} points above "${rows[1].name}".`,
    );
  }
  return lines.join("\n");
}

/** Prints `comparisonTable(runs)` (and returns nothing, like describeTraining). */
export function compareRuns(runs: Record<string, RunHistory>): void {
  console.log(comparisonTable(runs));
}
