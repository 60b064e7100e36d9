// Hash routing over a route table: `#/traces`, `#/traces/<id>?span=<id>`,
// `#/logs?level=warn`. The router owns the one mounted view: it mounts the
// view a hash names, refreshes it when the live store says data changed,
// and unmounts it (with everything it subscribed to) on the next route.
// A hash that matches no route, or cannot even be decoded, gets a view that
// says so instead of an exception that would leave the old view up.

import { SignedOut } from "./api.js";
import { loadFailed } from "./dom.js";

/**
 * The view's part of a hash: path parameters by name, and the query.
 * @typedef {{ query: URLSearchParams } & Record<string, any>} RouteParams
 */

/**
 * What a view gets besides its root and params; valid while it is mounted
 * (after that every call does nothing).
 * @typedef {object} ViewContext
 * @property {import("./live.js").LiveStore} live the live store (read `live.summary`)
 * @property {(listener: import("./live.js").LiveListener) => void} subscribe listens to the
 *   live store until the view is unmounted
 * @property {() => Promise<void>} refresh refetches the view (calls while one runs coalesce)
 * @property {(query: URLSearchParams) => void} replaceQuery rewrites the hash's query
 *   without a history entry or a re-route
 * @property {(title: string) => void} setTitle names the page (the app name is added)
 */

/**
 * What a mounted view hands back; every part is optional.
 * @typedef {object} MountedView
 * @property {() => Promise<void>} [refresh] fetches and draws the view's data
 * @property {(error: Error) => void} [failed] shows an error from `refresh`
 * @property {() => void} [unmount] releases what `subscribe` does not cover
 */

/** @typedef {(root: HTMLElement, params: RouteParams, ctx: ViewContext) => MountedView | void} View */

/**
 * @typedef {object} Route
 * @property {string} name also `data-route` on the root, for tests and styles
 * @property {string} path segments; `:name` captures one (percent-decoded)
 * @property {string} title
 * @property {string} [tab] the navigation tab to mark as current
 * @property {View} view
 */

/**
 * Splits a location hash into its path, decoded segments and query; a hash
 * with no path (`#`, `#/`, `#?q=x`) means `home`.
 * @param {string} hash e.g. `#/traces/abc?span=def`
 * @param {string} home e.g. `/traces`
 * @throws {URIError} when a segment's percent-encoding is broken
 */
export function parseHash(hash, home) {
  const raw = hash.replace(/^#/, "");
  const at = raw.indexOf("?");
  let path = at < 0 ? raw : raw.slice(0, at);
  const query = new URLSearchParams(at < 0 ? "" : raw.slice(at + 1));
  let segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (!segments.length) {
    path = home;
    segments = home.split("/").filter(Boolean);
  }
  return { path, segments, query };
}

/** The route whose pattern matches `segments`, with its captured params. */
export function matchRoute(routes, segments) {
  for (const route of routes) {
    const pattern = route.path.split("/").filter(Boolean);
    if (pattern.length !== segments.length) continue;
    const params = {};
    const matches = pattern.every((part, i) => {
      if (part.startsWith(":")) params[part.slice(1)] = segments[i];
      return part.startsWith(":") || part === segments[i];
    });
    if (matches) return { route, params };
  }
  return null;
}

/**
 * Runs `task` now, or once more after the current run when one is running.
 * @param {() => Promise<void>} task must not throw
 */
export function coalesce(task) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = task();
    await running;
    running = null;
    if (again) {
      again = false;
      await run();
    }
  };
  return run;
}

/**
 * @param {object} options
 * @param {HTMLElement} options.root where views mount
 * @param {Route[]} options.routes
 * @param {string} options.home the path an empty hash means
 * @param {{ notFound: View, badLink: View }} options.fallbacks
 * @param {import("./live.js").LiveStore} options.live
 * @param {(route: Route | null) => void} options.onRoute after each mount (marks the tabs)
 * @param {string} options.appName
 */
export function createRouter({ root, routes, home, fallbacks, live, onRoute, appName }) {
  let unmountCurrent = () => {};

  const setTitle = (title) => {
    document.title = `${title} · ${appName}`;
  };

  /** Which route (or fallback view) the current hash names. */
  function resolve() {
    let parsed;
    try {
      parsed = parseHash(location.hash, home);
    } catch {
      const route = { name: "bad-link", path: "", title: "Bad link", view: fallbacks.badLink };
      return { route, params: { query: new URLSearchParams(), hash: location.hash }, path: "", known: false };
    }
    const match = matchRoute(routes, parsed.segments);
    if (!match) {
      const route = { name: "not-found", path: "", title: "Not found", view: fallbacks.notFound };
      return { route, params: { query: parsed.query, hash: location.hash }, path: parsed.path, known: false };
    }
    return { ...match, params: { ...match.params, query: parsed.query }, path: parsed.path, known: true };
  }

  /** Unmounts the current view and mounts the one the hash names. */
  function route() {
    unmountCurrent();
    const { route, params, path, known } = resolve();
    root.replaceChildren();
    root.dataset.route = route.name;
    setTitle(route.title);
    onRoute(known ? route : null);
    unmountCurrent = mount(route.view, params, path);
  }

  /** Mounts `view`; returns what unmounts it. */
  function mount(view, params, path) {
    let mounted = true;
    const subscriptions = [];
    let current = {};
    const refresh = coalesce(async () => {
      if (!mounted) return;
      try {
        await current.refresh?.();
      } catch (error) {
        if (mounted && !(error instanceof SignedOut)) showFailure(current, error);
      }
    });
    /** @type {ViewContext} */
    const ctx = {
      live,
      subscribe: (listener) => {
        if (mounted) subscriptions.push(live.subscribe(listener));
      },
      refresh,
      replaceQuery: (query) => {
        if (!mounted) return;
        const qs = query.toString();
        history.replaceState(null, "", `#${path}${qs ? `?${qs}` : ""}`);
      },
      setTitle: (title) => {
        if (mounted) setTitle(title);
      },
    };
    try {
      current = view(root, params, ctx) || {};
    } catch (error) {
      root.replaceChildren(loadFailed(error));
      reportError(error);
    }
    ctx.subscribe(({ dataChanged }) => {
      if (dataChanged) refresh();
    });
    refresh();
    return () => {
      mounted = false;
      subscriptions.forEach((unsubscribe) => unsubscribe());
      current.unmount?.();
    };
  }

  function showFailure(view, error) {
    if (view.failed) view.failed(error);
    else root.replaceChildren(loadFailed(error));
  }

  return { route };
}
