// Turning every failure into words a person can act on. API refusals carry
// `{"error":{"code","message"}}`; anything else (a proxy's HTML page, a dropped
// connection) still gets a sentence.

import type { ErrorBody, ErrorCode } from "../proto";

/** A refused or failed request. `code` is the API's, or ours for failures outside it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | "network" | "unexpected_response",
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What to add to the server's words when the person can do something about it. */
const ADVICE: Partial<Record<ErrorCode, string>> = {
  database_unavailable: "Nothing was changed; try again in a moment.",
  draining: "This server is restarting; try again in a moment.",
  too_many_connections: "The server is busy; try again in a moment.",
  rate_limited: "Slow down a little and try again.",
  poll_paused: "Vote again when the presenter resumes voting.",
  too_many_choices: "Take one of your options out before you add another.",
  invalid_owner_token: "Only the browser that created the poll can close it.",
  owner_token_required: "Only the browser that created the poll can close it.",
};

function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== "object" || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

/** The error a non-2xx answer stands for, from its status and body text. */
export function errorFromResponse(status: number, statusText: string, body: string): ApiError {
  try {
    const parsed: unknown = JSON.parse(body);
    if (isErrorBody(parsed)) return new ApiError(status, parsed.error.code, parsed.error.message);
  } catch {
    // Not JSON: a proxy or gateway answered; described by its status below.
  }
  const reason = statusText ? `${status} ${statusText}` : `${status}`;
  return new ApiError(status, "unexpected_response", `The server answered ${reason}.`);
}

/** One sentence (or two) for a person, whatever was thrown. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "network") return error.message;
    const advice = ADVICE[error.code as ErrorCode];
    const words = sentence(error.message);
    return advice ? `${words} ${advice}` : words;
  }
  if (error instanceof Error && error.message) return sentence(error.message);
  return "Something went wrong. Please try again.";
}

/** Capitalized and ending with a full stop, as server messages are lower-case phrases. */
function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return "Something went wrong. Please try again.";
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
