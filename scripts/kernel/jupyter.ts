/** Finding the Jupyter front ends on this machine, and what to tell a learner who has none. */
import { loadExeca } from "./load-execa";

/** True when `jupyter <subcommand> --version` runs (e.g. "lab", "notebook"; "" for jupyter itself). */
export async function hasJupyter(subcommand = ""): Promise<boolean> {
  const args = subcommand ? [subcommand, "--version"] : ["--version"];
  try {
    const r = await (await loadExeca()).execa("jupyter", args, { reject: false, timeout: 30_000, stdin: "ignore" });
    return r.exitCode === 0;
  } catch {
    return false;
  }
}

export const INSTALL_JUPYTER_HINT = [
  "Jupyter is not installed (no `jupyter` command on PATH). To open the lessons, install one of:",
  "  - Debian/Ubuntu, classic Notebook:  sudo apt-get install jupyter-notebook",
  "  - JupyterLab with pip:              pip install jupyterlab",
  "then run `npm run kernel:install` (or `npm install` again) and `npm start`.",
].join("\n");
