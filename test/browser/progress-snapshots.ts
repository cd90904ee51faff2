/**
 * Judging the training progress display from what a page showed over time (snapshots of a cell's output text).
 * In place means: every line but the last is a finished epoch, and the running epoch's line changes while
 * the number of lines does not grow with each update.
 */

export interface ProgressAnalysis {
  distinct: number;
  /** Snapshots whose last line was an epoch still running. */
  partialStates: number;
  /** Times the same epoch's line was seen at two different step counts (rewritten in place). */
  inPlaceUpdates: number;
  finishedEpochs: number;
  maxLines: number;
  problems: string[];
}

const EPOCH_LINE = /^Epoch\s+(\d+)\/(\d+) \[[=>.]*\]\s+(\d+)\/(\d+)/;

export function analyseProgress(snapshots: string[]): ProgressAnalysis {
  const problems = new Set<string>();
  let partialStates = 0;
  let inPlaceUpdates = 0;
  let finishedEpochs = 0;
  let maxLines = 0;
  const seenSteps = new Map<number, number>();
  for (const snap of snapshots) {
    const lines = snap.split("\n").map((l) => l.trimEnd()).filter((l) => EPOCH_LINE.test(l));
    maxLines = Math.max(maxLines, lines.length);
    lines.forEach((line, i) => {
      const [, epoch, , done, total] = EPOCH_LINE.exec(line)!.map(Number);
      const finished = done === total;
      if (i < lines.length - 1 && !finished) problems.add(`an unfinished epoch stayed on screen as its own line ("${line.slice(0, 60)}")`);
      if (i === lines.length - 1 && !finished) {
        partialStates++;
        const before = seenSteps.get(epoch!);
        if (before !== undefined && before !== done) inPlaceUpdates++;
        seenSteps.set(epoch!, done!);
      }
    });
    const epochsOnScreen = new Set(lines.map((l) => Number(EPOCH_LINE.exec(l)![1])));
    if (epochsOnScreen.size !== lines.length) problems.add("the same epoch appears on more than one line");
    finishedEpochs = Math.max(finishedEpochs, lines.filter((l) => { const m = EPOCH_LINE.exec(l)!; return m[3] === m[4]; }).length);
  }
  if (snapshots.length && maxLines === 0) problems.add("no progress line was shown");
  else if (snapshots.length && partialStates === 0) problems.add("never saw an epoch in progress (only finished lines)");
  else if (snapshots.length && inPlaceUpdates === 0) problems.add("the running epoch's line never changed in place");
  return { distinct: new Set(snapshots).size, partialStates, inPlaceUpdates, finishedEpochs, maxLines, problems: [...problems] };
}
