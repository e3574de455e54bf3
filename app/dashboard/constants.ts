import { OUTCOMES, SUCCESS_OUTCOMES, type Outcome } from "~/ingest/message";

// Values that both the dashboard's server modules and its route components
// use, kept out of .server files so the browser bundle can import them.

/** Maximum length of the message search text, in characters. */
export const MAX_SEARCH_LENGTH = 200;

/** Window of the per-channel counts on the overview and duplicates pages. */
export const STATS_WINDOW_HOURS = 24;

/** At most this many rows of each list on the message detail page. */
export const DETAIL_LIST_LIMIT = 200;

/** Outcomes shown under Failed requests: every one that is not a success. */
export const FAILURE_OUTCOMES: readonly Outcome[] = OUTCOMES.filter(
  (outcome) => !SUCCESS_OUTCOMES.includes(outcome),
);

export type ReplayMode = "unchanged" | "new";
export const REPLAY_MODES: readonly ReplayMode[] = ["unchanged", "new"];
