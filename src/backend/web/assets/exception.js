// An exception as the OpenTelemetry conventions record it (`exception.type`,
// `exception.message`, `exception.stacktrace`, on a span event or a log
// record): its type and message, then the stack trace one frame per line,
// long ones collapsed, with a button that copies the whole trace.

import { h, kvList } from "./dom.js";

/** Frames shown before "Show all". */
const COLLAPSED_FRAMES = 12;

export const EXCEPTION_KEYS = ["exception.type", "exception.message", "exception.stacktrace"];

/**
 * Whether these attributes describe an exception.
 * @param {import("./model.js").Attribute[]} attributes
 */
export function hasException(attributes) {
  return attributes.some((a) => EXCEPTION_KEYS.includes(a.key));
}

/**
 * The exception block: type and message, the stack trace, and the other
 * attributes (thread, code location) below them.
 * @param {import("./model.js").Attribute[]} attributes
 */
export function exceptionBlock(attributes) {
  const value = (key) => attributes.find((a) => a.key === key)?.value || "";
  const [type, message, stacktrace] = EXCEPTION_KEYS.map(value);
  const rest = attributes.filter((a) => !EXCEPTION_KEYS.includes(a.key));
  return h(
    "div",
    { class: "exception" },
    h("div", { class: "exception-head" }, type ? h("b", {}, type) : null, type && message ? ": " : null, message),
    stacktrace ? stackTrace(stacktrace) : h("p", { class: "muted" }, "No stack trace recorded."),
    rest.length ? kvList(rest.map((a) => [a.key, a.value])) : null,
  );
}

/**
 * Frames of the panic machinery (std's and core's unwinding, the generated
 * module's hook) come before the frame that panicked: they are folded away so
 * the trace starts where the user's code failed.
 */
const MACHINERY =
  /^(__rustc::|rust_begin_unwind|core::panicking::|core::result::unwrap_failed|core::option::(expect|unwrap)_failed|std::panicking::|std::panic::|std::sys::backtrace::|std::backtrace|std::rt::|backtrace::|<alloc::boxed::Box<F,\s*A> as core::ops::function::Fn|(\w+::)*otel::panics::)/;

/** Frames of std, core and the async runtime: shown, but dimmed. */
const LIBRARY = /^<?(std|core|alloc|tokio|futures_util|futures_core|hyper|hyper_util|tower|h2)::/;

/**
 * Traces whose collapsed frames the reader opened. Views re-render on every
 * live update; the trace is recognized by its text, so it stays open.
 * @type {Set<string>}
 */
const opened = new Set();

/**
 * The stack trace, one frame per line: a Rust frame is its numbered line and
 * the `at file:line` under it; text without numbered frames is a frame per
 * line. Leading frames of the panic machinery are folded, and beyond
 * COLLAPSED_FRAMES the rest waits behind a button.
 * @param {string} text
 */
export function stackTrace(text) {
  const frames = splitFrames(text);
  const names = frames.map((lines) => lines[0].trim().replace(/^\d+:\s*/, ""));
  let machinery = 0;
  while (machinery < frames.length - 1 && MACHINERY.test(names[machinery])) machinery++;
  const isOpen = opened.has(text);
  const shownUpTo = isOpen ? frames.length : machinery + COLLAPSED_FRAMES;
  const list = h(
    "div",
    { class: "stacktrace", role: "list" },
    frames.map((lines, index) =>
      h(
        "div",
        {
          class: index < machinery ? "frame frame-machinery" : LIBRARY.test(names[index]) ? "frame frame-library" : "frame",
          role: "listitem",
          dataset: { frame: String(index) },
          hidden: !isOpen && (index < machinery || index >= shownUpTo),
        },
        lines.map((line, i) => h("div", { class: i === 0 ? "frame-fn" : "frame-at" }, line.trim())),
      ),
    ),
  );
  const hiddenCount = isOpen ? 0 : frames.length - list.querySelectorAll(".frame:not([hidden])").length;
  const expand =
    hiddenCount > 0
      ? h(
          "button",
          {
            class: "link-button",
            onclick: () => {
              opened.add(text);
              for (const frame of list.querySelectorAll(".frame[hidden]")) frame.hidden = false;
              expand.remove();
            },
          },
          `Show all ${frames.length} frames (${hiddenCount} more${machinery ? `, ${machinery} of the panic machinery` : ""})`,
        )
      : null;
  const copy = h("button", { class: "link-button", title: "Copy the stack trace" }, "Copy");
  copy.addEventListener("click", () => copyText(text, copy));
  return h(
    "div",
    { class: "stacktrace-box" },
    h("div", { class: "stacktrace-head" }, h("span", {}, `Stack trace (${frames.length} frames)`), copy),
    list,
    expand,
  );
}

/** @param {string} text */
function splitFrames(text) {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
  const numbered = /^\s*\d+: /;
  if (!lines.some((line) => numbered.test(line))) return lines.map((line) => [line]);
  /** @type {string[][]} */
  const frames = [];
  for (const line of lines) {
    if (numbered.test(line) || !frames.length) frames.push([line]);
    else frames[frames.length - 1].push(line);
  }
  return frames;
}

/** Copies `text`, and says so on the button for a moment. */
async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    button.textContent = "Copy failed: select the text";
  }
  setTimeout(() => (button.textContent = "Copy"), 1500);
}
