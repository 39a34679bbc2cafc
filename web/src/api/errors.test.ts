import { describe, expect, it } from "vitest";
import { ApiError, describeError, errorFromResponse } from "./errors";

describe("errorFromResponse", () => {
  it("reads the API's error body", () => {
    const error = errorFromResponse(409, "Conflict", '{"error":{"code":"poll_closed","message":"the poll is closed"}}');
    expect(error).toBeInstanceOf(ApiError);
    expect([error.status, error.code, error.message]).toEqual([409, "poll_closed", "the poll is closed"]);
  });

  it("describes a body that is not the API's by its status", () => {
    const error = errorFromResponse(502, "Bad Gateway", "<html>nginx</html>");
    expect(error.code).toBe("unexpected_response");
    expect(describeError(error)).toBe("The server answered 502 Bad Gateway.");
    expect(describeError(errorFromResponse(500, "", '{"oops":1}'))).toBe("The server answered 500.");
  });
});

describe("describeError", () => {
  it("turns the server's phrase into a sentence", () => {
    expect(describeError(new ApiError(409, "poll_closed", "the poll is closed"))).toBe("The poll is closed.");
  });

  it("adds advice where the person can act", () => {
    const words = describeError(new ApiError(503, "database_unavailable", "the database is unavailable"));
    expect(words).toBe("The database is unavailable. Nothing was changed; try again in a moment.");
  });

  it("keeps network failures as they are and never returns nothing", () => {
    expect(describeError(new ApiError(0, "network", "Could not reach votewire."))).toBe("Could not reach votewire.");
    expect(describeError(new Error("boom"))).toBe("Boom.");
    expect(describeError("??")).toBe("Something went wrong. Please try again.");
    expect(describeError(new ApiError(400, "invalid_query", "  "))).toBe("Something went wrong. Please try again.");
  });
});
