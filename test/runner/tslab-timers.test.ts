/**
 * tslab's compiler host has room for one pending TypeScript timer: two file changes in watched folders between
 * cells killed the kernel ("Unexpected pending rebuildTimer"). The kernel preload coalesces the timers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const root = path.resolve(__dirname, "../..");
const preload = path.join(root, "scripts", "kernel", "kernel-preload.cjs");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { coalesceTimers } = require("../../scripts/kernel/tslab-timers.cjs") as {
  coalesceTimers(host: OneSlotHost): OneSlotHost;
};

interface OneSlotHost {
  setTimeout(callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): unknown;
  clearTimeout(handle: unknown): void;
  fire(): void;
}

/** A host that behaves like tslab's: one slot, a second request throws, the owner fires the slot by hand. */
function oneSlotHost(): OneSlotHost {
  let pending: { callback: () => void } | null = null;
  return {
    setTimeout(callback) {
      if (pending) throw new Error("Unexpected pending rebuildTimer");
      const timer = { callback: () => { callback(); pending = null; } };
      pending = timer;
      return timer;
    },
    clearTimeout(handle) {
      if (pending !== handle) throw new Error("clearing unexpected timer");
      pending = null;
    },
    fire() {
      if (!pending) throw new Error("rebuildTimer is not set properly");
      pending.callback();
    },
  };
}

test("the bare one-slot host throws on a second timer (what killed the kernel)", () => {
  const host = oneSlotHost();
  host.setTimeout(() => {});
  assert.throws(() => host.setTimeout(() => {}), /Unexpected pending rebuildTimer/);
});

test("coalesced timers all run, in order, with their arguments, when the slot fires", () => {
  const host = coalesceTimers(oneSlotHost());
  const ran: string[] = [];
  host.setTimeout((x) => ran.push(`a${x}`), 250, 1);
  host.setTimeout(() => ran.push("b"), 250);
  host.setTimeout(() => ran.push("c"), 0);
  host.fire();
  assert.deepEqual(ran, ["a1", "b", "c"]);
  assert.throws(() => host.fire(), /not set properly/, "the slot is free again after firing");
});

test("a cleared timer does not run; clearing the last one frees the slot; unknown handles are ignored", () => {
  const host = coalesceTimers(oneSlotHost());
  const ran: string[] = [];
  const a = host.setTimeout(() => ran.push("a"));
  host.setTimeout(() => ran.push("b"));
  host.clearTimeout(a);
  host.fire();
  assert.deepEqual(ran, ["b"]);
  host.clearTimeout(a); // already gone: no throw
  const c = host.setTimeout(() => ran.push("c"));
  host.clearTimeout(c);
  assert.throws(() => host.fire(), /not set properly/);
  assert.deepEqual(ran, ["b"]);
});

test("timers scheduled while the slot's callbacks run are run in the same pass; cancelling one mid-pass works", () => {
  const host = coalesceTimers(oneSlotHost());
  const ran: string[] = [];
  let late: unknown;
  host.setTimeout(() => {
    ran.push("first");
    host.setTimeout(() => ran.push("scheduled by first"));
    late = host.setTimeout(() => ran.push("cancelled"));
  });
  host.setTimeout(() => { ran.push("second"); host.clearTimeout(late); });
  host.fire();
  assert.deepEqual(ran, ["first", "second", "scheduled by first"]);
});

/** Runs a real tslab converter, changes two files in its folder between two compiles, and reports what happened. */
function twoChangesBetweenCells(withPreload: boolean): { status: number | null; stdout: string; stderr: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tslab-timers-"));
  const script = `
    const fs = require("fs"), path = require("path");
    const { createConverter } = require(${JSON.stringify(path.join(root, "node_modules", "tslab", "dist", "converter.js"))});
    process.chdir(${JSON.stringify(dir)});
    const conv = createConverter();
    let r = conv.convert("", 'import { x } from "./later"; const y = 1;');
    if (r.diagnostics.length !== 1) throw new Error("expected the missing module to be reported first");
    process.on("uncaughtException", (e) => { console.log("crashed: " + e.message); process.exit(3); });
    setTimeout(() => fs.writeFileSync("other.ts", "export const a = 1;"), 300);
    setTimeout(() => fs.writeFileSync("later.ts", "export const x = 1;"), 1500);
    setTimeout(() => {
      r = conv.convert(r.declOutput || "", 'import { x } from "./later"; console.log(x);');
      console.log("second compile: " + r.diagnostics.length + " diagnostics");
      conv.close();
      process.exit(0);
    }, 3500);
  `;
  try {
    const args = [...(withPreload ? ["--require", preload] : []), "-e", script];
    return spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000, cwd: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("a real tslab converter survives two file changes between cells with the kernel preload, and not without it", () => {
  const bare = twoChangesBetweenCells(false);
  assert.match(bare.stdout, /crashed: Unexpected pending rebuildTimer/, `without the preload tslab should crash: ${bare.stdout}${bare.stderr}`);
  const fixed = twoChangesBetweenCells(true);
  assert.equal(fixed.status, 0, fixed.stdout + fixed.stderr);
  assert.match(fixed.stdout, /second compile: 0 diagnostics/, "the file that appeared is seen by the next cell");
});
