/**
 * Turning iopub messages into notebook outputs, as a pure function (nbformat's `output_from_msg` plus the
 * bookkeeping nbclient does around it): consecutive stream text of one name merges into one output,
 * `update_display_data` rewrites the outputs that carry its display id, and stderr text is also collected on its
 * own because tslab reports errors only there.
 */
import type { Message } from "./protocol";
import type { Output } from "./nbformat";

export interface CellOutputs {
  outputs: Output[];
  /** The display id of each output (same index), for update_display_data. */
  displayIds: (string | undefined)[];
  /** All stderr text of the cell. */
  stderr: string;
  /** The kernel said "idle" for this request: no more output will come. */
  idle: boolean;
  /** clear_output with wait: clear when the next output arrives (so a redrawn display does not flicker). */
  clearOnNext?: boolean;
}

export const NO_OUTPUTS: CellOutputs = Object.freeze({ outputs: [], displayIds: [], stderr: "", idle: false }) as CellOutputs;

type Content = Record<string, any>;

/** One iopub message as an nbformat output, or undefined for messages that are not outputs (status, input...). */
export function outputFromMessage(msg: Message): Output | undefined {
  const c = msg.content as Content;
  switch (msg.header.msg_type) {
    case "stream":
      return { output_type: "stream", name: c.name === "stderr" ? "stderr" : "stdout", text: String(c.text ?? "") };
    case "display_data":
      return { output_type: "display_data", data: c.data ?? {}, metadata: c.metadata ?? {} };
    case "execute_result":
      return { output_type: "execute_result", execution_count: c.execution_count ?? null, data: c.data ?? {}, metadata: c.metadata ?? {} };
    case "error":
      return { output_type: "error", ename: String(c.ename ?? "Error"), evalue: String(c.evalue ?? ""), traceback: c.traceback ?? [] };
    default:
      return undefined;
  }
}

/** The state after `msg`; `state` itself is not changed. */
export function applyIopubMessage(state: CellOutputs, msg: Message): CellOutputs {
  const c = msg.content as Content;
  const type = msg.header.msg_type;
  if (type === "status") return c.execution_state === "idle" ? { ...state, idle: true } : state;
  if (type === "clear_output") return c.wait ? { ...state, clearOnNext: true } : { ...state, outputs: [], displayIds: [], clearOnNext: false };
  if (type === "update_display_data") {
    const id = c.transient?.display_id;
    if (!id) return state;
    const outputs = state.outputs.map((o, i) =>
      state.displayIds[i] === id && (o.output_type === "display_data" || o.output_type === "execute_result")
        ? { ...o, data: c.data ?? {}, metadata: c.metadata ?? {} }
        : o,
    );
    return { ...state, outputs };
  }
  const out = outputFromMessage(msg);
  if (!out) return state;
  if (state.clearOnNext) state = { ...state, outputs: [], displayIds: [], clearOnNext: false };
  if (out.output_type === "stream") {
    const stderr = out.name === "stderr" ? state.stderr + String(out.text) : state.stderr;
    const last = state.outputs[state.outputs.length - 1];
    if (last?.output_type === "stream" && last.name === out.name) {
      const merged = { ...last, text: String(last.text) + String(out.text) };
      return { ...state, stderr, outputs: [...state.outputs.slice(0, -1), merged] };
    }
    return { ...state, stderr, outputs: [...state.outputs, out], displayIds: [...state.displayIds, undefined] };
  }
  return { ...state, outputs: [...state.outputs, out], displayIds: [...state.displayIds, c.transient?.display_id] };
}
