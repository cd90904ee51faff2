/**
 * Turning finished trials into a ranked table: as text for the notebook output, and as plain rows that a
 * notebook can plot (e.g. score against dropout rate).
 */
import { HpValue } from "./hyperparameters";
import { Objective, compareScores } from "./objective";
import { TrialRecord } from "./storage";

/** One row of the results summary. */
export interface TrialSummary {
  rank: number;
  trialId: string;
  hyperparameters: Record<string, HpValue>;
  score: number;
  /** 1-based epoch that reached the score (0 when none did). */
  bestEpoch: number;
  epochs: number;
  seconds: number;
}

/** Completed trials, best score first (ties: the earlier trial first). */
export function rankTrials(objective: Objective, trials: readonly TrialRecord[]): TrialRecord[] {
  return [...trials].sort((a, b) => compareScores(objective, a.score, b.score) || a.index - b.index);
}

export function summaryRows(objective: Objective, trials: readonly TrialRecord[], n?: number): TrialSummary[] {
  return rankTrials(objective, trials)
    .slice(0, n ?? trials.length)
    .map((t, i) => ({
      rank: i + 1,
      trialId: t.trialId,
      hyperparameters: { ...t.hyperparameters },
      score: t.score,
      bestEpoch: t.bestEpoch + 1,
      epochs: t.epochs,
      seconds: t.seconds,
    }));
}

/** "00h 01m 28s", the way keras_tuner reports durations. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (x: number) => String(x).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}h ${pad(Math.floor((s % 3600) / 60))}m ${pad(s % 60)}s`;
}

export function formatScore(score: number): string {
  return Number.isNaN(score) ? "NaN" : score.toFixed(4);
}

export function formatValue(v: HpValue): string {
  return typeof v === "number" ? String(v) : typeof v === "string" ? v : String(v);
}

/** A fixed-width text table with a header row. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The summary table: rank, trial, one column per hyperparameter, score, best epoch, time. */
export function formatSummary(objective: Objective, rows: readonly TrialSummary[], hpNames: readonly string[]): string {
  const header = ["#", "trial", ...hpNames, objective.name, "best epoch", "time"];
  const body = rows.map((r) => [
    String(r.rank),
    r.trialId,
    ...hpNames.map((n) => (n in r.hyperparameters ? formatValue(r.hyperparameters[n]) : "")),
    formatScore(r.score),
    `${r.bestEpoch}/${r.epochs}`,
    formatDuration(r.seconds),
  ]);
  return textTable(header, body);
}
