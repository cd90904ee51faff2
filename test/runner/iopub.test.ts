/**
 * iopub messages to notebook outputs: messages recorded from a real tslab kernel
 * (test/fixtures/iopub/tslab-messages.json, made by scripts/runner/record-iopub.ts) and hand-made ones for the
 * message types tslab does not send (execute_result, error, clear_output), as nbclient's tests feed fake messages.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { applyIopubMessage, type CellOutputs, NO_OUTPUTS, outputFromMessage } from "../../scripts/runner/iopub";
import { errorName } from "../../scripts/runner/failures";
import type { Message } from "../../scripts/runner/protocol";

interface Recorded {
  cells: { source: string; messages: Message[] }[];
}
const recorded: Recorded = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "iopub", "tslab-messages.json"), "utf8"));

const replay = (messages: Message[], from: CellOutputs = NO_OUTPUTS) => messages.reduce(applyIopubMessage, from);

function fake(msg_type: string, content: Record<string, unknown>): Message {
  return { header: { msg_id: "m", msg_type, session: "s", username: "u", date: "", version: "5.3" }, parent_header: { msg_id: "p" }, metadata: {}, content };
}

test("recorded: stdout lines merge into one output until stderr interrupts them; stderr is also collected", () => {
  const state = replay(recorded.cells[0]!.messages);
  assert.deepEqual(state.outputs, [
    { output_type: "stream", name: "stdout", text: "one\ntwo\n" },
    { output_type: "stream", name: "stderr", text: "careful\n" },
    { output_type: "stream", name: "stdout", text: "three\n" },
  ]);
  assert.equal(state.stderr, "careful\n");
  assert.equal(state.idle, true);
});

test("recorded: tslab prints a cell's value as stdout", () => {
  assert.deepEqual(replay(recorded.cells[1]!.messages).outputs, [{ output_type: "stream", name: "stdout", text: "42\n" }]);
});

test("recorded: update_display_data rewrites the display it names and no other", () => {
  const state = replay(recorded.cells[2]!.messages);
  assert.deepEqual(state.outputs, [
    { output_type: "display_data", data: { "text/html": "<i>epoch 2</i>" }, metadata: {} },
    { output_type: "display_data", data: { "text/html": "<b>plain</b>" }, metadata: {} },
  ]);
  assert.equal(state.displayIds.length, 2);
  assert.equal(state.displayIds[1], undefined);
});

test("recorded: a thrown error and a type error arrive as stderr text, named by failures.ts", () => {
  const thrown = replay(recorded.cells[3]!.messages);
  assert.equal(errorName(thrown.stderr), "RangeError");
  const typeError = replay(recorded.cells[4]!.messages);
  assert.equal(errorName(typeError.stderr), "TypeScriptError");
  assert.match(typeError.stderr, /^1:7 - Type 'string' is not assignable to type 'number'/);
});

test("replaying never changes the state it was given", () => {
  const first = replay(recorded.cells[0]!.messages.slice(0, 3));
  const snapshot = JSON.stringify(first);
  replay(recorded.cells[0]!.messages.slice(3), first);
  assert.equal(JSON.stringify(first), snapshot);
  assert.equal(NO_OUTPUTS.outputs.length, 0);
});

test("fake messages: execute_result, error, clear_output (now and on the next output), status and unknown types", () => {
  assert.deepEqual(outputFromMessage(fake("execute_result", { execution_count: 3, data: { "text/plain": "42" }, metadata: {} })), {
    output_type: "execute_result",
    execution_count: 3,
    data: { "text/plain": "42" },
    metadata: {},
  });
  assert.deepEqual(outputFromMessage(fake("error", { ename: "RangeError", evalue: "bad", traceback: ["RangeError: bad"] })), {
    output_type: "error",
    ename: "RangeError",
    evalue: "bad",
    traceback: ["RangeError: bad"],
  });
  assert.equal(outputFromMessage(fake("status", { execution_state: "busy" })), undefined);
  assert.equal(outputFromMessage(fake("comm_msg", {})), undefined);

  const printed = replay([fake("stream", { name: "stdout", text: "epoch 1\n" })]);
  assert.deepEqual(replay([fake("clear_output", { wait: false })], printed).outputs, []);
  const waiting = replay([fake("clear_output", { wait: true })], printed);
  assert.equal(waiting.outputs.length, 1, "wait=true keeps the old output until the next one");
  assert.deepEqual(replay([fake("stream", { name: "stdout", text: "epoch 2\n" })], waiting).outputs, [{ output_type: "stream", name: "stdout", text: "epoch 2\n" }]);
  assert.equal(replay([fake("status", { execution_state: "busy" })], printed), printed, "a busy status changes nothing");
});
