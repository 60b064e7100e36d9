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
 * The stack trace, one frame per line: a Rust frame is its numbered line and
 * the `at file:line` under it; text without numbered frames is a frame per
 * line. Beyond COLLAPSED_FRAMES the rest waits behind a button.
 * @param {string} text
 */
export function stackTrace(text) {
  const frames = splitFrames(text);
  const list = h(
    "div",
    { class: "stacktrace", role: "list" },
    frames.map((lines, index) =>
      h(
        "div",
        { class: "frame", role: "listitem", dataset: { frame: String(index) }, hidden: index >= COLLAPSED_FRAMES },
        lines.map((line, i) => h("div", { class: i === 0 ? "frame-fn" : "frame-at" }, line.trim())),
      ),
    ),
  );
  const hiddenCount = frames.length - COLLAPSED_FRAMES;
  const expand =
    hiddenCount > 0
      ? h(
          "button",
          {
            class: "link-button",
            onclick: () => {
              for (const frame of list.querySelectorAll(".frame[hidden]")) frame.hidden = false;
              expand.remove();
            },
          },
          `Show all ${frames.length} frames (${hiddenCount} more)`,
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
