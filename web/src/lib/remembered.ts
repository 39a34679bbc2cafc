// What this browser remembers per poll: the owner token (shown once, at creation) and
// the option it voted for. localStorage can be missing or full (private windows): then
// the page still works, it just forgets.

const ownerKey = (poll: string) => `votewire:owner:${poll}`;
const voteKey = (poll: string) => `votewire:vote:${poll}`;
const voterKey = "votewire:voter";

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Forgetting is the only thing that can go wrong here.
  }
}

export const remembered = {
  ownerToken: (poll: string) => read(ownerKey(poll)),
  setOwnerToken: (poll: string, token: string) => write(ownerKey(poll), token),
  /** The options this browser's vote chose (one, or several), in index order. */
  myVote(poll: string): number[] {
    const options = (read(voteKey(poll)) ?? "").split(",").map((text) => Number.parseInt(text, 10));
    return options.every((value) => Number.isInteger(value) && value >= 0) ? options : [];
  },
  setMyVote: (poll: string, options: readonly number[]) =>
    write(voteKey(poll), options.length === 0 ? null : options.join(",")),
  /** Whether this browser was issued a voter (its cookie is HttpOnly: unreadable here). */
  hasVoter: () => read(voterKey) === "yes",
  setHasVoter: (has: boolean) => write(voterKey, has ? "yes" : null),
};
