/**
 * The course's own Jupyter environment: a Python virtual environment in `<checkout>/.venv-jupyter` (or
 * LESSONS_JUPYTER_VENV) holding the pinned JupyterLab of requirements-jupyter.txt. Never the system Python.
 *
 * A venv cannot be moved once built (its scripts name their own path), so it is built in place and only counts
 * as ready once `install.ts` has verified it and written a stamp naming the requirements it was built from.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { jupyterVenvSetting } from "../../lib/config";

export const VENV_FOLDER = ".venv-jupyter";
export const STAMP_FILE = "cnn-lessons-installed.json";
/** What learners need: JupyterLab and plotly's Lab renderer. */
export const LAB_REQUIREMENTS = "requirements-jupyter.txt";
/** The above plus JupyterHub, for a shared classroom server (and its test). */
export const HUB_REQUIREMENTS = "requirements-hub.txt";

export interface VenvStamp {
  requirements: string;
  sha256: string;
  python: string;
  installed: string;
}

export function venvDir(root: string): string {
  return jupyterVenvSetting() ?? path.join(root, VENV_FOLDER);
}

/** Path of a program inside the venv (bin/ on Linux and macOS, Scripts/ on Windows). */
export function venvBin(dir: string, program: string): string {
  return process.platform === "win32" ? path.join(dir, "Scripts", `${program}.exe`) : path.join(dir, "bin", program);
}

/** sha256 of a requirements file and of the files it includes with `-r`, so a change to either is noticed. */
export function requirementsDigest(file: string): string {
  const hash = crypto.createHash("sha256");
  const visit = (f: string, depth: number) => {
    const text = fs.readFileSync(f, "utf8");
    hash.update(path.basename(f) + "\0" + text + "\0");
    if (depth > 5) return;
    for (const m of text.matchAll(/^\s*-r\s+(\S+)/gm)) visit(path.resolve(path.dirname(f), m[1]!), depth + 1);
  };
  visit(file, 0);
  return hash.digest("hex");
}

export function readStamp(dir: string): VenvStamp | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, STAMP_FILE), "utf8")) as VenvStamp;
  } catch {
    return undefined;
  }
}

/**
 * True when the venv was fully installed from `requirementsFile` as it is now (a requirements file that
 * includes it, like the Hub's, counts too).
 */
export function venvUpToDate(dir: string, requirementsFile: string): boolean {
  const stamp = readStamp(dir);
  if (!stamp || !fs.existsSync(venvBin(dir, "jupyter"))) return false;
  const stampedFile = path.resolve(path.dirname(requirementsFile), stamp.requirements);
  if (!fs.existsSync(stampedFile) || requirementsDigest(stampedFile) !== stamp.sha256) return false;
  if (path.resolve(stampedFile) === path.resolve(requirementsFile)) return true;
  const includes = (f: string, depth: number): boolean => {
    const text = fs.readFileSync(f, "utf8");
    return depth < 5 && [...text.matchAll(/^\s*-r\s+(\S+)/gm)].some((m) => {
      const inc = path.resolve(path.dirname(f), m[1]!);
      return inc === path.resolve(requirementsFile) || (fs.existsSync(inc) && includes(inc, depth + 1));
    });
  };
  return includes(stampedFile, 0);
}

/** The venv's bin folder when it is ready for JupyterLab, else undefined. */
export function readyVenvBin(root: string): string | undefined {
  const dir = venvDir(root);
  return venvUpToDate(dir, path.join(root, LAB_REQUIREMENTS)) ? path.dirname(venvBin(dir, "jupyter")) : undefined;
}

/** An environment whose PATH finds the venv's programs first (jupyter, jupyterhub, python). */
export function envWithVenv(binDir: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const key = Object.keys(env).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
  return { ...env, [key]: [binDir, env[key]].filter(Boolean).join(path.delimiter), VIRTUAL_ENV: path.dirname(binDir) };
}
