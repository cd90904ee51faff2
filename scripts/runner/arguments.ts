/** Which notebooks a command line names: files and folders, relative to the folder the user typed it in. */
import * as fs from "fs";
import * as path from "path";

/**
 * The folder the user typed the command in. npm runs scripts in the project root and passes the user's folder
 * as INIT_CWD; we trust it only when npm started us for `script` (a stale INIT_CWD may be inherited otherwise).
 */
export function userFolder(script: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.npm_lifecycle_event === script && env.INIT_CWD ? env.INIT_CWD : cwd;
}

/** The .ipynb files directly in `dir`, sorted (hidden files and Jupyter's checkpoints left out). */
export function notebooksIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ipynb") && !f.startsWith("."))
    .sort()
    .map((f) => path.join(dir, f));
}

export interface NotebookArgs {
  files: string[];
  /** One line per argument that names nothing usable. */
  errors: string[];
}

/** Resolves each argument against `base`; a folder stands for the notebooks in it. */
export function resolveNotebookArgs(args: string[], base: string): NotebookArgs {
  const files: string[] = [];
  const errors: string[] = [];
  for (const arg of args) {
    const p = path.resolve(base, arg);
    if (!fs.existsSync(p)) {
      errors.push(`Notebook not found: ${arg}${path.isAbsolute(arg) ? "" : ` (looked for ${p})`}`);
    } else if (fs.statSync(p).isDirectory()) {
      const inside = notebooksIn(p);
      if (inside.length === 0) errors.push(`No notebooks (.ipynb files) in the folder ${p}`);
      files.push(...inside);
    } else {
      files.push(p);
    }
  }
  return { files: [...new Set(files)], errors };
}
