/**
 * What the tuner optimises: one metric from the training history, to be minimised or maximised.
 * A trial's score is the best value that metric reached over the trial's epochs (as in keras_tuner), so a run
 * that overfits late is still judged by its best epoch.
 */

export type Direction = "min" | "max";

export interface Objective {
  name: string;
  direction: Direction;
}

/** Metric names whose direction is obvious; any other metric must be given as {name, direction}. */
const KNOWN_DIRECTIONS: Record<string, Direction> = {
  val_loss: "min",
  loss: "min",
  val_accuracy: "max",
  accuracy: "max",
};

/** Turns `"val_loss"` or `{name, direction}` into a checked Objective. */
export function toObjective(objective: string | Objective | undefined): Objective {
  if (objective === undefined) return { name: "val_loss", direction: "min" };
  if (typeof objective === "string") {
    const direction = KNOWN_DIRECTIONS[objective];
    if (!direction) {
      throw new Error(
        `The tuner cannot guess whether "${objective}" should go up or down. Write ` +
          `objective: {name: "${objective}", direction: "min"} (or "max"). ` +
          `Shorthands that work: ${Object.keys(KNOWN_DIRECTIONS).map((k) => `"${k}"`).join(", ")}.`,
      );
    }
    return { name: objective, direction };
  }
  if (!objective || typeof objective.name !== "string" || objective.name === "") {
    throw new Error(`objective needs a metric name, e.g. {name: "val_loss", direction: "min"}; got ${JSON.stringify(objective)}.`);
  }
  if (objective.direction !== "min" && objective.direction !== "max") {
    throw new Error(
      `objective "${objective.name}": direction must be "min" or "max", got ${JSON.stringify(objective.direction)}.`,
    );
  }
  return { name: objective.name, direction: objective.direction };
}

/** True when score `a` is strictly better than `b`. NaN (a diverged run) is worse than any number. */
export function isBetter(objective: Objective, a: number, b: number): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return objective.direction === "min" ? a < b : a > b;
}

/** Sorts best first; ties keep their order. */
export function compareScores(objective: Objective, a: number, b: number): number {
  if (isBetter(objective, a, b)) return -1;
  if (isBetter(objective, b, a)) return 1;
  return 0;
}

/**
 * The best value of the objective over the epochs, and which epoch (0-based) reached it.
 * Errors, with the metrics that are there, when the history lacks the objective's metric.
 */
export function bestOfHistory(objective: Objective, history: Record<string, readonly number[]>): { score: number; epoch: number } {
  const series = history[objective.name];
  if (!series) {
    const available = Object.keys(history);
    const hint = objective.name.startsWith("val_")
      ? " Metrics starting with val_ exist only when training gets validation data (validationData or validationSplit)."
      : "";
    throw new Error(
      `The training history has no "${objective.name}" to score the trial by; it has: ` +
        `${available.length ? available.join(", ") : "nothing"}.${hint} ` +
        `Make the fit function return {history: {${objective.name}: [...]}} or choose one of those metrics as the objective.`,
    );
  }
  let score = NaN;
  let epoch = -1;
  series.forEach((v, i) => {
    if (typeof v === "number" && isBetter(objective, v, score)) {
      score = v;
      epoch = i;
    }
  });
  return { score, epoch };
}

export function describeObjective(objective: Objective): string {
  return `${objective.name} (${objective.direction === "min" ? "lower is better" : "higher is better"})`;
}
