/**
 * Jupyter's stop button sends the kernel SIGINT. tslab then ends the running cell, but it cannot stop an async loop
 * that the cell started: training went on in the background and printed its progress into later cells. Long loops
 * in lib (training, feature extraction, the tuner's search) take a ticket when they start and stop at their next
 * step once an interrupt has arrived since then.
 *
 * Only counted where something else already handles SIGINT (tslab's kernel, a runner): a plain script keeps Node's
 * default, where Ctrl-C ends the process. Deno's kernel interrupts by message and stops the code itself.
 */
let interrupts = 0;
let listening = false;
let checkScheduled = false;
const watchers = new Set<() => void>();

function listenIfHandled(): void {
  if (listening || process.listenerCount("SIGINT") === 0) return;
  process.on("SIGINT", () => {
    interrupts++;
    for (const watcher of [...watchers]) {
      try {
        watcher();
      } catch {
        // A watcher's mistake must not break the signal handler (nor the other watchers).
      }
    }
  });
  listening = true;
}

function listen(): void {
  if (listening || typeof process === "undefined" || typeof process.listenerCount !== "function") return;
  listenIfHandled();
  // tslab runs a cell's synchronous part with vm's breakOnSigint, which takes every SIGINT listener away until it
  // returns, so the kernel's own handler is visible only after that: look again on the next turn of the event loop.
  if (!listening && !checkScheduled) {
    checkScheduled = true;
    setImmediate(() => {
      checkScheduled = false;
      listenIfHandled();
    });
  }
}

/** The error a loop throws when the kernel was interrupted while it ran. */
export class InterruptedError extends Error {
  /** `advice` replaces "Run the cell again to start over." where rerunning does something else (a search resumes). */
  constructor(what: string, advice = "Run the cell again to start over.") {
    super(`${what} stopped: the kernel was interrupted (the stop button). ${advice}`);
    this.name = "InterruptedError";
  }
}

export interface InterruptTicket {
  /** Throws an InterruptedError once the kernel was interrupted after the ticket was taken. */
  check(): void;
  /** Whether the kernel was interrupted after the ticket was taken. */
  readonly interrupted: boolean;
  /** The loop is over: onInterrupt will not be called any more. */
  close(): void;
}

export interface InterruptTicketOptions {
  /**
   * Called once, from the signal's handler, when the first interrupt after the ticket arrives. Under tslab that is
   * before the interrupted cell ends (tslab's own handler only rejects a promise, and the cell's reply follows on
   * microtasks), so a line printed here shows in the interrupted cell. A line the loop prints later, when it
   * reaches its next check, goes to whichever cell runs then: a loop that reports its own stop should print here
   * and nothing afterwards. Only where the interrupt is counted (see above); call close() when the loop ends.
   */
  onInterrupt?: () => void;
}

/** A ticket for a loop that is about to start: `ticket.check()` throws once the kernel is interrupted after this. */
export function interruptTicket(what: string, options: InterruptTicketOptions = {}): InterruptTicket {
  listen();
  const seen = interrupts;
  let watcher: (() => void) | undefined;
  const close = () => {
    if (watcher) watchers.delete(watcher);
    watcher = undefined;
  };
  const onInterrupt = options.onInterrupt;
  if (onInterrupt) {
    watcher = () => {
      close();
      onInterrupt();
    };
    watchers.add(watcher);
  }
  return {
    check() {
      if (interrupts !== seen) throw new InterruptedError(what);
    },
    get interrupted() {
      return interrupts !== seen;
    },
    close,
  };
}
