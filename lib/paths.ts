/**
 * Where things live in the project, independent of the process's working directory.
 *
 * Lib modules run from two places: from `lib/` (tests, scripts) and, inside a notebook kernel, through the
 * `notebooks/lib` link, where tslab compiles them under the notebook's folder. So we never trust `__dirname`
 * alone: we walk up until we find this project's package.json.
 *
 * They also run as CommonJS (tslab, tsx) and as ES modules (Deno), where `__dirname` does not exist: there the
 * module's own file URL, read from a stack trace, stands in for it.
 */
import * as fs from "fs";
import * as path from "path";
import { fileURLToPath } from "url";
import { dataDirSetting } from "./config";

const PACKAGE_NAME = "cnn-lessons-ts";

function isProjectRoot(dir: string): boolean {
  const pkg = path.join(dir, "package.json");
  if (!fs.existsSync(pkg)) return false;
  try {
    return JSON.parse(fs.readFileSync(pkg, "utf8")).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

function findRoot(start: string): string | undefined {
  let dir = path.resolve(start);
  for (;;) {
    if (isProjectRoot(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The folder of this module: `__dirname` under CommonJS; in an ES module (no `import.meta` here, since the same
 * file must also compile as CommonJS) the folder of the first file URL in a stack trace taken in this function.
 */
export function moduleDir(): string | undefined {
  if (typeof __dirname === "string") return __dirname;
  const url = /(file:\/\/[^\s)]+):\d+:\d+/.exec(new Error().stack ?? "")?.[1];
  return url ? path.dirname(fileURLToPath(url)) : undefined;
}

let cachedRoot: string | undefined;

/** Absolute path of the project's root folder (the one holding package.json). */
export function projectRoot(): string {
  if (cachedRoot) return cachedRoot;
  const here = moduleDir();
  const candidates = [here, here && safeRealpath(here), process.cwd()];
  for (const start of candidates) {
    const root = start && findRoot(start);
    if (root) return (cachedRoot = root);
  }
  throw new Error(
    `Cannot find the project folder (a package.json named "${PACKAGE_NAME}") above ${here ?? "this module"} ` +
      `or ${process.cwd()}. Run the lessons from a checkout of the course repository.`,
  );
}

function safeRealpath(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/** The download cache: `<root>/data`, or `LESSONS_DATA_DIR` when set. */
export function dataDir(): string {
  return dataDirSetting() ?? path.join(projectRoot(), "data");
}

/** Where generated artefacts go (executed notebooks, saved models, screenshots): `<root>/build`. */
export function buildDir(): string {
  return path.join(projectRoot(), "build");
}
