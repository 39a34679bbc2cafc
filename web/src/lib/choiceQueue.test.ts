import { describe, expect, it } from "vitest";
import { ChoiceQueue } from "./choiceQueue";

/** An option, or `null` to withdraw: the queue takes any kind of choice. */
type Choice = number | null;

/** A `send` whose answers the test releases one at a time. */
function controlledSend() {
  const sent: Choice[] = [];
  const answers: (() => void)[] = [];
  const send = (choice: Choice) =>
    new Promise<void>((resolve) => {
      sent.push(choice);
      answers.push(resolve);
    });
  const answerNext = async () => {
    answers.shift()?.();
    // Let the queue's continuation run.
    await Promise.resolve();
    await Promise.resolve();
  };
  return { sent, send, answerNext };
}

describe("ChoiceQueue", () => {
  it("sends a choice at once when nothing is on its way", () => {
    const { sent, send } = controlledSend();
    new ChoiceQueue<Choice>(send).choose(2);
    expect(sent).toEqual([2]);
  });

  it("sends only the latest choice made while another was on its way, after it", async () => {
    const { sent, send, answerNext } = controlledSend();
    const pending: (Choice | undefined)[] = [];
    const queue = new ChoiceQueue<Choice>(send, (choice) => pending.push(choice));
    queue.choose(1);
    queue.choose(0);
    queue.choose(null);
    queue.choose(2);
    expect(sent).toEqual([1]);
    await answerNext();
    expect(sent).toEqual([1, 2]);
    await answerNext();
    expect(sent).toEqual([1, 2]);
    expect(pending).toEqual([1, 0, null, 2, undefined]);
  });

  it("moves on after a send that failed", async () => {
    const sent: Choice[] = [];
    let secondSent: () => void = () => {};
    const second = new Promise<void>((resolve) => (secondSent = resolve));
    const queue = new ChoiceQueue<Choice>(async (choice) => {
      sent.push(choice);
      if (sent.length === 1) throw new Error("refused");
      secondSent();
    });
    queue.choose(1);
    queue.choose(3);
    await second;
    expect(sent).toEqual([1, 3]);
  });
});
