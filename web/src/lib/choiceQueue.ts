// A voter's choices, sent one at a time, the latest one winning.
//
// A person who clicks "tea" while the vote for "coffee" is still on its way has changed
// their mind: dropping the second click (what the page did before) lost it, and sending
// it at once could let the two requests commit in either order. So a choice made while
// another is in flight waits, and when that one is answered only the latest waiting
// choice is sent.

/** The options to vote for (one, or several on a multiple-choice poll); none withdraws. */
export type Choice = readonly number[];

export class ChoiceQueue<C = Choice> {
  private inFlight = false;
  private waiting: { choice: C } | null = null;

  /**
   * @param send sends one choice and settles when it is answered (it reports its own
   *   errors; a rejection is treated like an answer).
   * @param onPending told the choice the page is waiting for, and `undefined` once
   *   nothing is on its way.
   */
  constructor(
    private readonly send: (choice: C) => Promise<void>,
    private readonly onPending: (choice: C | undefined) => void = () => {},
  ) {}

  /** Sends `choice` now, or after the choice on its way, replacing any choice waiting. */
  choose(choice: C): void {
    this.onPending(choice);
    if (this.inFlight) {
      this.waiting = { choice };
      return;
    }
    void this.run(choice);
  }

  private async run(choice: C): Promise<void> {
    this.inFlight = true;
    try {
      await this.send(choice);
    } catch {
      // `send` shows its own errors; the queue only moves on.
    }
    const next = this.waiting;
    this.waiting = null;
    this.inFlight = false;
    if (next) {
      void this.run(next.choice);
    } else {
      this.onPending(undefined);
    }
  }
}
