/**
 * Type-checks files the way tslab's kernel does when a notebook imports them (its bundled TypeScript 5.0.4,
 * target/lib ES2022 without DOM, CommonJS-free ESNext modules, Node10 resolution, every @types package visible
 * from the notebook folder). The project's tsconfig includes DOM and TypeScript 5.8, so it can accept lib code
 * that then fails inside a notebook (e.g. `WebAssembly.Memory` types come only from lib.dom).
 */
import * as path from "path";
import type * as TS from "@tslab/typescript-for-tslab";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ts: typeof TS = require("@tslab/typescript-for-tslab");

/** Diagnostics as tslab prints them ("file line:col - message"), with paths relative to `cwd`. */
export function tslabDiagnostics(files: string[], cwd: string): string[] {
  const options: TS.CompilerOptions = {
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2022.d.ts"],
    resolveJsonModule: true,
    experimentalDecorators: true,
    allowJs: true,
    skipLibCheck: true,
    noEmit: true,
    rootDir: cwd,
    typeRoots: ts.getDefaultTypeRoots(cwd, ts.sys),
  };
  const host = ts.createCompilerHost(options);
  host.getCurrentDirectory = () => cwd;
  const program = ts.createProgram(files, options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
    if (!d.file || d.start === undefined) return message;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${path.relative(cwd, d.file.fileName)} ${line + 1}:${character + 1} - ${message}`;
  });
}
