// The page's one live data store: the latest summary of what the backend
// holds, whether the backend answers, and who to tell when either changes.
//
// Today it polls `/api/summary` once a second (not while the tab is hidden).
// Views only ever `subscribe`, so a pushed source (server-sent events) can
// replace `#poll` here without a view changing.

import { SignedOut } from "./api.js";

const POLL_MS = 1000;

/** @type {import("./model.js").Summary} */
const NOTHING_YET = {
  version: -1,
  services: [],
  held: { traces: 0, spans: 0, logs: 0, metric_points: 0 },
  evicted: { traces: 0, spans: 0, logs: 0, metric_points: 0 },
  caps: { traces: 0, spans: 0, logs: 0, metric_points: 0 },
};

/**
 * What a listener hears after every poll.
 * @typedef {object} LiveUpdate
 * @property {import("./model.js").Summary} summary the latest (the last good one when disconnected)
 * @property {boolean} connected whether the backend answered this time
 * @property {boolean} dataChanged whether anything arrived since the previous summary
 */

/** @typedef {(update: LiveUpdate) => void} LiveListener */

export class LiveStore {
  /** @type {import("./model.js").Summary} */
  #summary = NOTHING_YET;
  #seen = false;
  /** @type {Set<LiveListener>} */
  #listeners = new Set();
  #fetchSummary;
  /** While paused, the version views were last told about. */
  #pausedAt = null;

  /** @param {() => Promise<import("./model.js").Summary>} fetchSummary */
  constructor(fetchSummary) {
    this.#fetchSummary = fetchSummary;
  }

  /** Whether new data is kept from the views until `resume`. */
  get paused() {
    return this.#pausedAt !== null;
  }

  /** Stops telling views about new data (the counts keep updating). */
  pause() {
    if (this.#pausedAt === null) this.#pausedAt = this.#summary.version;
    this.#emit({ summary: this.#summary, connected: true, dataChanged: false });
  }

  /** Tells views again, at once if anything arrived meanwhile. */
  resume() {
    const missed = this.#pausedAt !== null && this.#pausedAt !== this.#summary.version;
    this.#pausedAt = null;
    this.#emit({ summary: this.#summary, connected: true, dataChanged: missed });
  }

  /** Polls now (after a change the page made itself, such as a clear). */
  refreshNow() {
    return this.#poll();
  }

  /** The latest summary (empty until the first one arrives). */
  get summary() {
    return this.#summary;
  }

  /**
   * Calls `listener` after every update until the returned function is called.
   * @param {LiveListener} listener
   * @returns {() => void} unsubscribe
   */
  subscribe(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Reads the first summary (so a change during a view's first fetch is
   * seen as a change), then keeps it current.
   */
  async start() {
    await this.#poll();
    const next = async () => {
      if (!document.hidden) await this.#poll();
      setTimeout(next, POLL_MS);
    };
    setTimeout(next, POLL_MS);
  }

  /** Fetches the summary once and tells every listener. */
  async #poll() {
    let summary;
    try {
      summary = await this.#fetchSummary();
    } catch (error) {
      // Signed out: the page is on its way to the login form.
      if (!(error instanceof SignedOut)) this.#emit({ summary: this.#summary, connected: false, dataChanged: false });
      return;
    }
    const dataChanged = this.#seen && summary.version !== this.#summary.version && !this.paused;
    this.#summary = summary;
    this.#seen = true;
    this.#emit({ summary, connected: true, dataChanged });
  }

  #emit(update) {
    for (const listener of [...this.#listeners]) {
      // One broken listener must not starve the others (or stop the polling).
      try {
        listener(update);
      } catch (error) {
        reportError(error);
      }
    }
  }
}
