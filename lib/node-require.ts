/**
 * `require` for lib modules that load CommonJS code by a computed name (emscripten's scripts, optional native
 * packages, the real `os` module object). Under tslab and tsx lib runs as CommonJS and has a `require`; under
 * Deno's kernel it runs as ES modules, which have none. `createRequire` works in both, anchored at the project's
 * package.json, so packages resolve from the project's node_modules as they did before.
 */
import { createRequire } from "module";
import * as path from "path";
import { projectRoot } from "./paths";

let cached: NodeRequire | undefined;

/** A `require` resolving from the project root; made on first use so that merely importing lib never throws. */
export function nodeRequire(): NodeRequire {
  return (cached ??= createRequire(path.join(projectRoot(), "package.json")));
}
