/**
 * `npm run kernel:install [-- --sys-prefix | --system]` (also run by `postinstall`): registers the
 * "TypeScript (CNN lessons)" kernel (tslab) and "TypeScript (CNN lessons, Deno)" with Jupyter, for this user (default), for the Jupyter environment
 * (--sys-prefix) or for every user of the machine (--system, e.g. a shared JupyterHub server).
 * Never fails `npm install`: without Jupyter it says what to install and exits 0; an explicit scope that cannot be
 * installed exits 1.
 */
import * as path from "path";
import { hasJupyter, INSTALL_JUPYTER_HINT } from "./kernel/jupyter";
import { describeDenoKernelRegistration, describeKernelRegistration, type InstallScope, installDenoKernelspec, installKernelspec } from "./kernel/install";
import { KERNEL_DISPLAY_NAME } from "./kernel/kernelspec";
import { DENO_KERNEL_DISPLAY_NAME } from "./kernel/deno-kernelspec";
import { envWithVenv, readyVenvBin } from "./jupyter/venv";

const USAGE = "usage: npm run kernel:install [-- --user | --sys-prefix | --system]";

function parseScope(args: string[]): InstallScope {
  const scopes = args.map((a) => ({ "--user": "user", "--sys-prefix": "sys-prefix", "--system": "system" })[a] as InstallScope | undefined);
  const unknown = args.filter((_, i) => !scopes[i]);
  if (unknown.length || args.length > 1) throw new Error(`${unknown.length ? `unknown option ${unknown.join(" ")}` : "choose one scope"}\n${USAGE}`);
  return scopes[0] ?? "user";
}

async function main(): Promise<number> {
  const root = path.resolve(__dirname, "..");
  const args = process.argv.slice(2);
  const scope = parseScope(args);
  const explicit = args.length > 0;
  // Like npm start: the course's Jupyter environment (.venv-jupyter) when it is installed, so --sys-prefix means it.
  const venvBin = readyVenvBin(root);
  if (venvBin) process.env = envWithVenv(venvBin);
  // The venv's stamp says its Jupyter was installed and verified; `jupyter --version` imports every Jupyter package
  // and timed out on a busy machine, which read as "not installed".
  if (!venvBin && !(await hasJupyter())) {
    console.log(INSTALL_JUPYTER_HINT);
    return explicit ? 1 : 0;
  }
  try {
    const r = await installKernelspec(root, scope);
    console.log(`Installed the Jupyter kernel "${KERNEL_DISPLAY_NAME}" (${scope}) in ${r.dir}`);
    if (r.replacedCheckout) {
      console.log(`  (it replaced the registration made from ${r.replacedCheckout}; notebooks inside that checkout still run its own tslab)`);
    }
    console.log(await describeKernelRegistration(root));
  } catch (e) {
    console.warn(`Could not install the Jupyter kernel: ${(e as Error).message}`);
    console.warn("The lessons still run headless (`npm run notebooks`); retry with `npm run kernel:install`.");
    return explicit ? 1 : 0;
  }
  // The second kernel on its own: where Deno cannot be had (a platform without its package), tslab's still works.
  try {
    const deno = await installDenoKernelspec(root, scope);
    console.log(`Installed the Jupyter kernel "${DENO_KERNEL_DISPLAY_NAME}" (${scope}) in ${deno.dir}`);
    console.log(await describeDenoKernelRegistration(root));
    return 0;
  } catch (e) {
    console.warn(`Could not install the Jupyter kernel "${DENO_KERNEL_DISPLAY_NAME}": ${(e as Error).message}`);
    console.warn(`"${KERNEL_DISPLAY_NAME}" (tslab) is installed and runs every lesson; retry with \`npm run kernel:install\`.`);
    return explicit ? 1 : 0;
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.warn(`kernel:install: ${(e as Error).message}`);
    process.exitCode = process.argv.length > 2 ? 1 : 0;
  },
);
