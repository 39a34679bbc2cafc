// The create-poll form's rules, mirrored from the API's defaults so mistakes show while
// typing; the server still decides, and its refusals are shown as they come.

import type { CreatePoll, ResultsVisibility, VotingMode } from "../proto";

export const MIN_OPTIONS = 2;
export const MAX_OPTIONS = 32;
export const MAX_QUESTION_CHARS = 280;
export const MAX_OPTION_CHARS = 100;

export type Closing = "never" | "5m" | "15m" | "1h" | "1d" | "custom";
export const CLOSING_CHOICES: [Closing, string][] = [
  ["never", "When I close it"],
  ["5m", "In 5 minutes"],
  ["15m", "In 15 minutes"],
  ["1h", "In 1 hour"],
  ["1d", "In 1 day"],
  ["custom", "At a time I choose…"],
];
const CLOSING_MS: Partial<Record<Closing, number>> = { "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "1d": 86_400_000 };

export type Draft = {
  question: string;
  options: string[];
  closing: Closing;
  customClose: string;
  mode: VotingMode;
  /** Shown under open polls; unlisted polls are reached by link or join code alone. */
  listed: boolean;
  /** Who sees the counts. */
  results: ResultsVisibility;
  /** How many options each voter may choose (1: a single-choice poll). */
  maxChoices: number;
};

/** Who may vote, as the create form offers it. */
export const MODE_CHOICES: [VotingMode, string][] = [
  ["open", "Anyone, once per browser"],
  ["per_address", "Once per network address (not behind a shared network)"],
  ["invite", "Only people I invite (single-use links)"],
];

/** The request body, or the first thing to fix, in words. */
export function draftToRequest(draft: Draft, now: number): { body: CreatePoll } | { problem: string; field: string } {
  const question = draft.question.trim();
  if (!question) return { problem: "Write a question.", field: "question" };
  if (question.length > MAX_QUESTION_CHARS) {
    return { problem: `The question is too long (${question.length} of ${MAX_QUESTION_CHARS} characters).`, field: "question" };
  }
  const options = draft.options.map((o) => o.trim()).filter(Boolean);
  if (options.length < MIN_OPTIONS) return { problem: "Give at least two options.", field: "options" };
  const long = options.find((o) => o.length > MAX_OPTION_CHARS);
  if (long) return { problem: `“${long.slice(0, 24)}…” is longer than ${MAX_OPTION_CHARS} characters.`, field: "options" };
  const seen = new Set<string>();
  for (const option of options) {
    if (seen.has(option)) return { problem: `“${option}” is there twice.`, field: "options" };
    seen.add(option);
  }
  const body: CreatePoll = { question, options };
  if (draft.mode !== "open") body.mode = draft.mode;
  if (!draft.listed) body.listed = false;
  if (draft.results !== "live") body.results = draft.results;
  if (draft.maxChoices > options.length) {
    return { problem: `Voters cannot choose ${draft.maxChoices} of ${options.length} options.`, field: "choices" };
  }
  if (draft.maxChoices > 1) body.max_choices = draft.maxChoices;
  if (draft.closing === "custom") {
    const at = Date.parse(draft.customClose); // datetime-local: the browser's time zone.
    if (Number.isNaN(at)) return { problem: "Choose when the poll closes.", field: "closes" };
    if (at <= now) return { problem: "The closing time must be in the future.", field: "closes" };
    body.closes_at = new Date(at).toISOString();
  } else if (draft.closing !== "never") {
    body.closes_at = new Date(now + CLOSING_MS[draft.closing]!).toISOString();
  }
  return { body };
}
