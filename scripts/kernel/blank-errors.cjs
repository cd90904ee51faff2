/**
 * Preloaded into every tslab kernel (see kernel-preload.cjs). When a cell fails, tslab prints the thrown or
 * rejected value with console.error and nothing else. A value whose text is blank (an empty string, an Error
 * without message or stack, an object that prints as nothing) left the cell failed with no word of why: the
 * runner said only "The kernel answered error without an error message". This prints, in its place, what the
 * value was, so that such a failure can be traced. Main thread only.
 */
"use strict";
const util = require("util");

/** What a value is, for a reader: its type, class, own keys and a short inspection. */
function describeBlank(value) {
  const kind = value === null ? "null" : typeof value;
  const parts = [`a ${kind}`];
  if (value && typeof value === "object") {
    parts.push(`of class ${value.constructor?.name ?? "(none)"} (${Object.prototype.toString.call(value)})`);
    const keys = Object.getOwnPropertyNames(value);
    parts.push(keys.length ? `with own properties ${keys.slice(0, 12).join(", ")}` : "with no own properties");
  }
  const shown = util.inspect(value, { showHidden: true, depth: 2, breakLength: Infinity }).slice(0, 500);
  return `${parts.join(" ")}: ${JSON.stringify(shown)}`;
}

function patchConsoleError() {
  const original = console.error.bind(console);
  console.error = (...args) => {
    if (args.length === 1 && util.format(args[0]).trim() === "") {
      original(`The cell failed with a value that has no message, ${describeBlank(args[0])}.`);
      return;
    }
    original(...args);
  };
}

module.exports = { patchConsoleError, describeBlank };
