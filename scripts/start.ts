/**
 * `npm start [-- jupyter flags]`: installs the project kernel if needed and opens the lessons in JupyterLab,
 * or in the classic Notebook where Lab is missing.
 */
import * as path from "path";
import { installKernelspec } from "./kernel/install";
import { hasJupyter, INSTALL_JUPYTER_HINT } from "./kernel/jupyter";
import { jupyterLaunch } from "./kernel/launch";
import { loadExeca } from "./kernel/load-execa";

async function main(): Promise<number> {
  const root = path.resolve(__dirname, "..");
  if (!(await hasJupyter())) {
    console.error(INSTALL_JUPYTER_HINT);
    return 1;
  }
  await installKernelspec(root);
  const haveLab = await hasJupyter("lab");
  if (!haveLab && !(await hasJupyter("notebook"))) {
    console.error("Jupyter is installed but has neither JupyterLab nor the Notebook front end.\n" + INSTALL_JUPYTER_HINT);
    return 1;
  }
  const { frontEnd, args } = jupyterLaunch(haveLab, process.argv.slice(2));
  console.log(`Opening the lessons in ${frontEnd} (kernel "TypeScript (CNN lessons)"). Stop it with Ctrl+C.`);
  const { execa } = await loadExeca();
  const r = await execa("jupyter", args, { cwd: root, stdio: "inherit", reject: false });
  return r.exitCode ?? 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(`npm start: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
