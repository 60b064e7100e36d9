// What the router shows when a hash names no view, or cannot be read at all.

import { empty, h } from "../dom.js";

const home = () => h("a", { href: "#/traces" }, "Go to traces");

/** @type {import("../router.js").View} */
export function notFoundView(root) {
  root.append(empty("Nothing here", home()));
}

/**
 * A link whose percent-encoding is broken (`#/traces/%E0%A4%A`): say so and
 * show it, as text.
 * @type {import("../router.js").View}
 */
export function badLinkView(root, { hash }) {
  root.append(
    empty(
      "Bad link",
      h(
        "span",
        {},
        "This address cannot be read: ",
        h("code", { class: "bad-hash" }, hash),
        " is not valid percent-encoding. ",
        home(),
      ),
    ),
  );
}
