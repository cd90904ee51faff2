/**
 * execa 9 is ESM-only while this project compiles to CommonJS: a static `import` becomes `require()`, which
 * fails on execa's ESM-only dependencies. A dynamic import (kept as-is by tsx) loads it properly.
 */
export type ExecaModule = typeof import("execa");

let loaded: Promise<ExecaModule> | undefined;

export function loadExeca(): Promise<ExecaModule> {
  return (loaded ??= import("execa"));
}
