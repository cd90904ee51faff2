/** Pure decisions behind `npm start`: which Jupyter to use, and what to add when running as root. */

export type JupyterSource =
  | { kind: "venv"; binDir: string }
  | { kind: "path" }
  | { kind: "none"; message: string };

export const NO_JUPYTER_MESSAGE = [
  "Jupyter is not installed: neither the course's Jupyter environment (.venv-jupyter/) nor a `jupyter` command on PATH.",
  "Install the course's pinned JupyterLab (needs Python 3.9+ with venv; Debian/Ubuntu: sudo apt-get install python3-venv):",
  "  npm run jupyter:install",
  "then run `npm start` again. (Or install the classic Notebook: sudo apt-get install jupyter-notebook.)",
].join("\n");

/** The course's venv when it is installed, else a `jupyter` on PATH, else what to run. */
export function chooseJupyter(venvBinDir: string | undefined, jupyterOnPath: boolean): JupyterSource {
  if (venvBinDir) return { kind: "venv", binDir: venvBinDir };
  if (jupyterOnPath) return { kind: "path" };
  return { kind: "none", message: NO_JUPYTER_MESSAGE };
}

/**
 * Jupyter refuses to start as root ("Running as root is not recommended"), which is the normal case in
 * containers and on cloud machines. As root we add --allow-root, unless the user passed it, and say so.
 */
export function rootArgs(uid: number | undefined, args: string[]): { args: string[]; note?: string } {
  if (uid !== 0 || args.some((a) => a === "--allow-root" || a.startsWith("--allow-root=") || /allow_root/.test(a))) return { args };
  return {
    args: [...args, "--allow-root"],
    note: "Running as root (a container?): passing --allow-root to Jupyter. As a normal user you would not need it.",
  };
}
