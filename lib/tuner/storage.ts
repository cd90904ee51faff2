/**
 * The tuner's folder: `<directory>/<projectName>/oracle.json` (what is searched) and
 * `<directory>/<projectName>/trial_XXX/trial.json` (one per completed trial). Files are written atomically
 * (temporary file + rename), so a search killed mid-write never leaves a half-written trial behind, and a
 * trial folder without trial.json simply counts as not done.
 */
import * as fs from "fs";
import * as path from "path";
import { HyperParameterSpec } from "./hyperparameters";
import { Objective } from "./objective";
import { Values } from "./oracle";

export interface ProjectConfig {
  tuner: string;
  objective: Objective;
  space: HyperParameterSpec[];
  seed?: number;
}

/** A finished trial as stored in trial.json. */
export interface TrialRecord {
  trialId: string;
  index: number;
  status: "COMPLETED";
  hyperparameters: Values;
  /** Best objective value over the epochs; NaN when every epoch was NaN (stored as null). */
  score: number;
  /** 0-based epoch that reached the score, -1 if none did. */
  bestEpoch: number;
  epochs: number;
  seconds: number;
  /** The per-epoch history the fit function returned. */
  metrics: Record<string, number[]>;
  finishedAt: string;
}

const CONFIG_FILE = "oracle.json";
const TRIAL_FILE = "trial.json";
const TRIAL_DIR = /^trial_\d+$/;

export function trialId(index: number): string {
  return `trial_${String(index).padStart(3, "0")}`;
}

export function checkProjectName(projectName: string): void {
  if (typeof projectName !== "string" || projectName.trim() === "" || /[\\/]/.test(projectName) || projectName === "." || projectName === "..") {
    throw new Error(
      `projectName must be a plain folder name such as "dropout_search" (no slashes, not "." or ".."); got ${JSON.stringify(projectName)}.`,
    );
  }
}

/** Writes JSON so that readers see either the old file or the complete new one, never a partial file. */
export function writeJsonAtomic(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + "\n");
  fs.renameSync(tmp, file);
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

export function readConfig(dir: string): ProjectConfig | undefined {
  const file = path.join(dir, CONFIG_FILE);
  if (!fs.existsSync(file)) return undefined;
  return readJson(file) as ProjectConfig;
}

export function writeConfig(dir: string, config: ProjectConfig): void {
  writeJsonAtomic(path.join(dir, CONFIG_FILE), config);
}

export function saveTrial(dir: string, record: TrialRecord): void {
  const nullNaN = (v: number) => (Number.isNaN(v) ? null : v);
  const metrics: Record<string, (number | null)[]> = {};
  for (const [k, series] of Object.entries(record.metrics)) metrics[k] = series.map(nullNaN);
  writeJsonAtomic(path.join(dir, record.trialId, TRIAL_FILE), { ...record, score: nullNaN(record.score), metrics });
}

/** The completed trials in the folder, in the order they ran. Unreadable files are reported and skipped. */
export function loadTrials(dir: string, warn: (msg: string) => void = () => {}): TrialRecord[] {
  if (!fs.existsSync(dir)) return [];
  const out: TrialRecord[] = [];
  for (const entry of fs.readdirSync(dir)) {
    if (!TRIAL_DIR.test(entry)) continue;
    const file = path.join(dir, entry, TRIAL_FILE);
    if (!fs.existsSync(file)) continue;
    try {
      const raw = readJson(file) as TrialRecord & { score: number | null; metrics: Record<string, (number | null)[]> };
      if (raw.status !== "COMPLETED" || typeof raw.index !== "number" || !raw.hyperparameters) throw new Error("not a completed trial");
      const metrics: Record<string, number[]> = {};
      for (const [k, series] of Object.entries(raw.metrics ?? {})) metrics[k] = series.map((v) => (v === null ? NaN : v));
      out.push({ ...raw, score: raw.score === null ? NaN : raw.score, metrics });
    } catch (err) {
      warn(`Ignoring ${file} (${(err as Error).message}); that trial will run again.`);
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

/**
 * Deletes a tuner project folder (for overwrite: true). Refuses folders holding anything a tuner did not
 * write, so a mistaken directory/projectName cannot wipe unrelated files.
 */
export function clearProject(dir: string): void {
  if (!fs.existsSync(dir)) return;
  const foreign = fs
    .readdirSync(dir)
    .filter((e) => e !== CONFIG_FILE && !TRIAL_DIR.test(e) && !e.endsWith(".tmp"));
  if (foreign.length > 0) {
    throw new Error(
      `overwrite: true would delete ${dir}, but it holds files the tuner did not write (${foreign.slice(0, 5).join(", ")}). ` +
        `Check directory/projectName, or move those files away first.`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
