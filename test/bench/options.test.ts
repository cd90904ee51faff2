/** Argument checks of `npm run bench`: defaults, and an error that says how to fix each bad value. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CommanderError } from "commander";
import { parseBenchArgs } from "../../scripts/bench/options";

describe("parseBenchArgs", () => {
  it("has the documented defaults", () => {
    const o = parseBenchArgs([]);
    assert.deepEqual(o.workloads, ["A", "B", "C", "D", "E", "F", "FT", "G"]);
    assert.equal(o.ceiling, false);
    assert.equal(o.data, true);
    assert.equal(o.warmup, 3);
    assert.equal(o.steps, 7);
    assert.equal(o.rounds, 3);
    assert.equal(o.torch, false);
    assert.equal(o.profile, false);
    assert.equal(o.json, false);
  });
  it("reads workloads case-insensitively and without duplicates", () => {
    const o = parseBenchArgs(["-w", "c, a,C", "--rounds", "5", "--json", "--torch"]);
    assert.deepEqual(o.workloads, ["C", "A"]);
    assert.equal(o.rounds, 5);
    assert.equal(o.json, true);
    assert.equal(o.torch, true);
  });
  it("times ours under Node only unless --runtime deno adds the project's Deno", () => {
    assert.equal(parseBenchArgs([]).runtime, "node");
    assert.equal(parseBenchArgs(["--runtime", "deno", "-w", "A"]).runtime, "deno");
    assert.throws(() => parseBenchArgs(["--runtime", "bun"]), /Unknown runtime "bun" in --runtime; choose from node, deno/);
  });
  it("reads --ceiling, --no-data and the two-letter FT", () => {
    const o = parseBenchArgs(["--ceiling", "--no-data", "-w", "ft,f"]);
    assert.equal(o.ceiling, true);
    assert.equal(o.data, false);
    assert.deepEqual(o.workloads, ["FT", "F"]);
  });
  for (const [args, message] of [
    [["--rounds", "0"], /--rounds must be a whole number >= 1; got "0"/],
    [["--rounds", "2.5"], /--rounds must be a whole number/],
    [["--steps", "0"], /--steps must be a whole number >= 1/],
    [["--steps", "many"], /--steps must be a whole number >= 1; got "many"/],
    [["--warmup", "-1"], /--warmup must be a whole number >= 0/],
    [["--top", "0"], /--top must be a whole number >= 1/],
    [["-w", "A,H"], /Unknown workload\(s\) "H".*choose from A, B, C, D, E, F, FT, G/],
    [["-w", ","], /Unknown workload/],
    [["--backend", "tpu"], /Unknown backend "tpu".*wasm/],
    [["--profile"], /--profile looks at one workload.*-w/],
    [["--profile", "-w", "A", "--torch"], /drop --torch/],
    [["stray"], /Unexpected argument\(s\) stray/],
  ] as Array<[string[], RegExp]>) {
    it(`rejects ${args.join(" ")}`, () => {
      assert.throws(() => parseBenchArgs(args), message);
    });
  }
  it("lets commander reject unknown options without exiting the process", () => {
    const stderr = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write; // commander prints the error itself
    try {
      assert.throws(() => parseBenchArgs(["--bogus"]), (e: unknown) => e instanceof CommanderError && /unknown option/.test(e.message));
    } finally {
      process.stderr.write = stderr;
    }
  });
});
