import { type FormEvent, type KeyboardEvent, useRef, useState } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import {
  CLOSING_CHOICES,
  type Closing,
  type Draft,
  MAX_OPTIONS,
  MIN_OPTIONS,
  MODE_CHOICES,
  draftToRequest,
} from "../lib/pollDraft";
import { remembered } from "../lib/remembered";
import { RESULTS_CHOICES } from "../lib/resultsVisibility";
import { navigate, pollPath } from "../lib/router";
import "./CreatePollForm.css";

/** 128 random bits in hex: `crypto.randomUUID` exists only on HTTPS pages, this everywhere. */
function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const EMPTY: Draft = { question: "", options: ["", ""], closing: "never", customClose: "", mode: "open", listed: true, results: "live", maxChoices: 1 };

export function CreatePollForm() {
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [problem, setProblem] = useState<{ text: string; field: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per poll being made: a submit retried after a lost answer (or by nginx)
  // answers the poll the first one made. A changed draft is another poll: a new key.
  const creation = useRef<{ request: string; key: string } | null>(null);
  const optionInputs = useRef<(HTMLInputElement | null)[]>([]);
  const focusOption = useRef<number | null>(null);

  const update = (change: Partial<Draft>) => setDraft((d) => ({ ...d, ...change }));
  const setOption = (i: number, value: string) =>
    setDraft((d) => ({ ...d, options: d.options.map((o, j) => (j === i ? value : o)) }));
  const addOption = () => {
    if (draft.options.length >= MAX_OPTIONS) return;
    focusOption.current = draft.options.length;
    update({ options: [...draft.options, ""] });
  };
  const removeOption = (i: number) => {
    focusOption.current = Math.max(0, i - 1);
    update({ options: draft.options.filter((_, j) => j !== i) });
  };
  // Enter in an option moves on to the next one (adding it at the end), like a list.
  const optionKey = (i: number) => (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== "Enter" || !event.currentTarget.value.trim()) return;
    event.preventDefault();
    if (i + 1 < draft.options.length) optionInputs.current[i + 1]?.focus();
    else addOption();
  };
  const optionRef = (i: number) => (input: HTMLInputElement | null) => {
    optionInputs.current[i] = input;
    if (input && focusOption.current === i) {
      focusOption.current = null;
      input.focus();
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = draftToRequest(draft, Date.now());
    if ("problem" in result) {
      setProblem({ text: result.problem, field: result.field });
      document.getElementById(`create-${result.field}`)?.focus();
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      const request = JSON.stringify(result.body);
      if (creation.current?.request !== request) creation.current = { request, key: randomKey() };
      const created = await api.createPoll(result.body, creation.current.key);
      remembered.setOwnerToken(created.poll.id, created.owner_token);
      navigate(pollPath(created.poll.id));
    } catch (failure) {
      setProblem({ text: describeError(failure), field: "" });
      setBusy(false);
    }
  };

  const invalid = (field: string) => (problem?.field === field ? { "aria-invalid": true, "aria-describedby": "create-problem" } : {});

  return (
    <form className="glass create" onSubmit={submit} noValidate aria-labelledby="create-title">
      <h2 id="create-title">New poll</h2>
      <label className="field-label" htmlFor="create-question">Question</label>
      <textarea
        id="create-question"
        className="input question-input"
        rows={2}
        placeholder="What should we have for lunch?"
        value={draft.question}
        onChange={(e) => update({ question: e.target.value })}
        {...invalid("question")}
      />
      <fieldset className="options-field" id="create-options" tabIndex={-1} {...invalid("options")}>
        <legend className="field-label">Options <span className="muted">({MIN_OPTIONS} to {MAX_OPTIONS})</span></legend>
        <ol className="option-inputs">
          {draft.options.map((option, i) => (
            <li key={i} className="option-input-row">
              <span className="option-number" aria-hidden="true">{i + 1}</span>
              <input
                ref={optionRef(i)}
                className="input"
                aria-label={`Option ${i + 1}`}
                placeholder={i === 0 ? "Pizza" : i === 1 ? "Sushi" : "Another option"}
                value={option}
                onChange={(e) => setOption(i, e.target.value)}
                onKeyDown={optionKey(i)}
              />
              <button
                type="button"
                className="icon-button"
                onClick={() => removeOption(i)}
                disabled={draft.options.length <= MIN_OPTIONS}
                aria-label={`Remove option ${i + 1}`}
              >
                ×
              </button>
            </li>
          ))}
        </ol>
        <button type="button" className="link-button" onClick={addOption} disabled={draft.options.length >= MAX_OPTIONS}>
          + Add option
        </button>
      </fieldset>
      <label className="field-label" htmlFor="create-closing">Closes</label>
      <div className="closing-row">
        <select
          id="create-closing"
          className="input"
          value={draft.closing}
          onChange={(e) => update({ closing: e.target.value as Closing })}
        >
          {CLOSING_CHOICES.map(([value, label]) => (
            <option key={value} value={value}>{label}</option>
          ))}
        </select>
        {draft.closing === "custom" && (
          <input
            id="create-closes"
            type="datetime-local"
            className="input"
            aria-label="Closing time"
            value={draft.customClose}
            onChange={(e) => update({ customClose: e.target.value })}
            {...invalid("closes")}
          />
        )}
      </div>
      <label className="field-label" htmlFor="create-mode">Who can vote</label>
      <select
        id="create-mode"
        className="input"
        value={draft.mode}
        onChange={(e) => update({ mode: e.target.value as Draft["mode"] })}
      >
        {MODE_CHOICES.map(([value, label]) => (
          <option key={value} value={value}>{label}</option>
        ))}
      </select>
      <label className="field-label" htmlFor="create-choices">Each voter chooses</label>
      <select
        id="create-choices"
        className="input"
        value={draft.maxChoices}
        onChange={(e) => update({ maxChoices: Number(e.target.value) })}
        {...invalid("choices")}
      >
        {Array.from({ length: draft.options.length }, (_, i) => i + 1).map((n) => (
          <option key={n} value={n}>{n === 1 ? "One option" : `Up to ${n} options`}</option>
        ))}
      </select>
      <label className="field-label" htmlFor="create-results">Who sees the results</label>
      <select
        id="create-results"
        className="input"
        value={draft.results}
        onChange={(e) => update({ results: e.target.value as Draft["results"] })}
      >
        {RESULTS_CHOICES.map(([value, label]) => (
          <option key={value} value={value}>{label}</option>
        ))}
      </select>
      <label className="check-field">
        <input type="checkbox" checked={draft.listed} onChange={(e) => update({ listed: e.target.checked })} />
        <span>List it under open polls (otherwise only its link and join code lead to it)</span>
      </label>
      <p id="create-problem" className="inline-error" role="alert">{problem?.text ?? ""}</p>
      <button type="submit" className="button primary wide" disabled={busy}>
        {busy ? "Creating…" : "Create poll"}
      </button>
    </form>
  );
}
