/**
 * `npm run kernel:install` (also run by `postinstall`): registers the "TypeScript (CNN lessons)" kernel with
 * Jupyter. Never fails the install: without Jupyter it says what to install and exits 0.
 */
import * as path from "path";
import { hasJupyter, INSTALL_JUPYTER_HINT } from "./kernel/jupyter";
import { installKernelspec } from "./kernel/install";
import { KERNEL_DISPLAY_NAME } from "./kernel/kernelspec";

async function main(): Promise<void> {
  const root = path.resolve(__dirname, "..");
  if (!(await hasJupyter())) {
    console.log(INSTALL_JUPYTER_HINT);
    return;
  }
  try {
    const { dir } = await installKernelspec(root);
    console.log(`Installed the Jupyter kernel "${KERNEL_DISPLAY_NAME}" in ${dir}`);
  } catch (e) {
    console.warn(`Could not install the Jupyter kernel: ${(e as Error).message}`);
    console.warn("The lessons still run headless (`npm run notebooks`); retry with `npm run kernel:install`.");
  }
}

main().catch((e) => {
  console.warn(`kernel:install: ${(e as Error).message}`);
});
