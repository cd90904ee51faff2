/**
 * Writing text to the running cell's output, including lines rewritten in place with "\r" (progress bars).
 *
 * tslab forwards process.stdout to the notebook as a stream, so "\r" rewrites a line as in a terminal. Deno's
 * kernel forwards only `console` output, and a stream cannot rewrite a line there: under Deno a line that is
 * still open (written without its "\n") is shown as a display output, rewritten in place with
 * update_display_data, and keeps its final text when the "\n" comes. A line written whole goes out through
 * console.log. Elsewhere (terminals, scripts, tests) text goes to process.stdout unchanged.
 */
import { displayBundle, notebookKernel } from "./plots/display";

/** The text a terminal shows for a line containing "\r": what follows the last one. */
function visible(line: string): string {
  return line.slice(line.lastIndexOf("\r") + 1);
}

let openLine = "";
let openDisplay: string | undefined;
let displays = 0;

function showOpenLine(final: boolean): void {
  const text = visible(openLine);
  if (!openDisplay) {
    if (final) {
      console.log(text);
      return;
    }
    openDisplay = `cnn-lessons-line-${process.pid}-${++displays}`;
    displayBundle({ "text/plain": text }, { displayId: openDisplay });
    return;
  }
  displayBundle({ "text/plain": text }, { displayId: openDisplay, update: true });
}

/** Deno: text split into lines; each finished line is shown once, an open line as a display updated in place. */
function writeToDenoCell(text: string): void {
  const pieces = text.split("\n");
  pieces.forEach((piece, i) => {
    openLine += piece;
    const ended = i < pieces.length - 1;
    if (ended) {
      showOpenLine(true);
      openLine = "";
      openDisplay = undefined;
    } else if (visible(openLine) !== "") {
      showOpenLine(false);
    }
  });
}

/** Writes `text` to the cell's output (or stdout outside a notebook), "\r" and "\n" meaning what they do in a terminal. */
export function writeCellText(text: string): void {
  if (notebookKernel() === "deno") writeToDenoCell(text);
  else process.stdout.write(text);
}
