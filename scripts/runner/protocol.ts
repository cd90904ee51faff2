/**
 * The Jupyter messaging protocol (v5.3) wire format: signing, encoding and decoding multipart messages.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html#the-wire-protocol
 */
import { createHmac, randomBytes, randomUUID } from "crypto";

const DELIMITER = "<IDS|MSG>";

export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

export interface Message<C = Record<string, unknown>> {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
}

export function newKey(): string {
  return randomBytes(32).toString("hex");
}

export function newSessionId(): string {
  return randomUUID();
}

export function makeMessage<C extends object>(session: string, msgType: string, content: C): Message<C> {
  return {
    header: {
      msg_id: randomUUID(),
      msg_type: msgType,
      session,
      username: "lessons-runner",
      date: new Date().toISOString(),
      version: "5.3",
    },
    parent_header: {},
    metadata: {},
    content,
  };
}

function sign(key: string, parts: string[]): string {
  const hmac = createHmac("sha256", key);
  for (const p of parts) hmac.update(p);
  return hmac.digest("hex");
}

/** Frames to send from a DEALER socket (no routing identities). */
export function encodeMessage(key: string, msg: Message<object>): string[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((x) => JSON.stringify(x));
  return [DELIMITER, sign(key, parts), ...parts];
}

/** Parses received frames (leading identities/topics are skipped); throws on a bad signature. */
export function decodeMessage(key: string, frames: Buffer[]): Message {
  const at = frames.findIndex((f) => f.toString() === DELIMITER);
  if (at < 0 || frames.length < at + 6) throw new Error("malformed Jupyter message: no <IDS|MSG> delimiter");
  const signature = frames[at + 1]!.toString();
  const parts = frames.slice(at + 2, at + 6).map((f) => f.toString());
  if (signature !== sign(key, parts)) throw new Error("Jupyter message with an invalid HMAC signature");
  const [header, parent_header, metadata, content] = parts.map((p) => JSON.parse(p));
  return { header, parent_header, metadata, content };
}
