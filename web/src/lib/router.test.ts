import { describe, expect, it } from "vitest";
import { joinPath, parseRoute, pollPath, presentPath } from "./router";

describe("parseRoute", () => {
  it("knows every page", () => {
    expect(parseRoute("/")).toEqual({ page: "home" });
    expect(parseRoute("/cluster")).toEqual({ page: "cluster" });
    expect(parseRoute(pollPath("k3x9_A-b"))).toEqual({ page: "poll", id: "k3x9_A-b" });
    expect(parseRoute(presentPath("k3x9"))).toEqual({ page: "present", id: "k3x9" });
    expect(parseRoute("/p/k3x9/")).toEqual({ page: "poll", id: "k3x9" });
    expect(parseRoute("/j/K7P2QX")).toEqual({ page: "join", code: "K7P2QX" });
  });

  it("carries a join code as it was typed, spaces and all", () => {
    expect(joinPath(" k7p 2qx ")).toBe("/j/k7p%202qx");
    expect(parseRoute(joinPath(" k7p 2qx "))).toEqual({ page: "join", code: "k7p 2qx" });
    expect(parseRoute("/j/k7p-2qx")).toEqual({ page: "join", code: "k7p-2qx" });
    expect(parseRoute("/j/a/b")).toEqual({ page: "missing" });
  });

  it("refuses ids the API would refuse, and unknown paths", () => {
    expect(parseRoute("/p/has space")).toEqual({ page: "missing" });
    expect(parseRoute(`/p/${"x".repeat(65)}`)).toEqual({ page: "missing" });
    expect(parseRoute("/polls")).toEqual({ page: "missing" });
  });
});
