/**
 * `npm start [-- jupyter flags]`: opens the lessons in JupyterLab, or in the classic Notebook where Lab is missing.
 * Uses the course's Jupyter environment (.venv-jupyter/, from `npm run jupyter:install`) when it is installed,
 * else a `jupyter` on PATH, else says what to run. Registers both kernels first (tslab and Deno; into the venv, or
 * for this user) and says which checkout's kernels the lessons will run.
 */
import * as path from "path";
import { describeDenoKernelRegistration, describeKernelRegistration, installDenoKernelspec, installKernelspec } from "./kernel/install";
import { hasJupyter, INSTALL_JUPYTER_HINT } from "./kernel/jupyter";
import { jupyterLaunch } from "./kernel/launch";
import { loadExeca } from "./kernel/load-execa";
import { chooseJupyter, rootArgs } from "./jupyter/start-plan";
import { envWithVenv, readyVenvBin } from "./jupyter/venv";

async function main(): Promise<number> {
  const root = path.resolve(__dirname, "..");
  const source = chooseJupyter(readyVenvBin(root), await hasJupyter());
  if (source.kind === "none") {
    console.error(source.message);
    return 1;
  }
  // The kernel helpers and the server itself find `jupyter` through PATH: put the venv first.
  if (source.kind === "venv") process.env = envWithVenv(source.binDir);
  const where = source.kind === "venv" ? `the course's Jupyter environment (${path.relative(root, path.dirname(source.binDir)) || source.binDir})` : "the `jupyter` on PATH";

  // Into the course venv when we use it (it belongs to this checkout, so two checkouts never share a registration),
  // else for this user.
  const scope = source.kind === "venv" ? "sys-prefix" : "user";
  const registered = await installKernelspec(root, scope);
  // Deno's kernel is the second choice: without it (no Deno for this platform) the lessons still open on tslab's.
  await installDenoKernelspec(root, scope).catch((e) => console.warn(`The Deno kernel is not registered: ${(e as Error).message}`));
  if (registered.replacedCheckout) {
    console.log(`Kernel registration replaced: it was made from ${registered.replacedCheckout}; notebooks outside any checkout now run this one (notebooks inside ${registered.replacedCheckout} still run its own tslab).`);
  }
  // The venv's stamp says Lab was installed and verified; probing again costs seconds (and times out on a busy machine).
  const haveLab = source.kind === "venv" || (await hasJupyter("lab"));
  if (!haveLab && !(await hasJupyter("notebook"))) {
    console.error(`Jupyter from ${where} has neither JupyterLab nor the Notebook front end.\n${INSTALL_JUPYTER_HINT}`);
    return 1;
  }
  const user = rootArgs(process.getuid?.(), process.argv.slice(2));
  if (user.note) console.log(user.note);
  const { frontEnd, args } = jupyterLaunch(haveLab, user.args);
  console.log(`Opening the lessons in ${frontEnd} from ${where}.`);
  console.log(await describeKernelRegistration(root));
  console.log(await describeDenoKernelRegistration(root));
  console.log("Both kernels run the same lessons: pick one in Jupyter's kernel menu (README: Choosing a kernel).");
  console.log("Stop it with Ctrl+C.");
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
