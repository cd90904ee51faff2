/**
 * Jupyter's stop button sends the kernel SIGINT. tslab then ends the running cell, but it cannot stop an async loop
 * that the cell started: training went on in the background and printed its progress into later cells. Long loops
 * in lib (training, feature extraction) take a ticket when they start and stop at their next step once an
 * interrupt has arrived since then.
 *
 * Only counted where something else already handles SIGINT (tslab's kernel, a runner): a plain script keeps Node's
 * default, where Ctrl-C ends the process. Deno's kernel interrupts by message and stops the code itself.
 */
let interrupts = 0;
let listening = false;
let checkScheduled = false;

function listenIfHandled(): void {
  if (listening || process.listenerCount("SIGINT") === 0) return;
  process.on("SIGINT", () => {
    interrupts++;
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
  constructor(what: string) {
    super(`${what} stopped: the kernel was interrupted (the stop button). Run the cell again to start over.`);
    this.name = "InterruptedError";
  }
}

/** A ticket for a loop that is about to start: `ticket.check()` throws once the kernel is interrupted after this. */
export function interruptTicket(what: string): { check(): void } {
  listen();
  const seen = interrupts;
  return {
    check() {
      if (interrupts !== seen) throw new InterruptedError(what);
    },
  };
}
