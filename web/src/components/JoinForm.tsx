import { useState } from "react";
import { joinPath, navigate } from "../lib/router";
import "./JoinForm.css";

/** A field for the code a presenter shows, and the button that goes to its poll. */
export function JoinForm({ initial = "" }: { initial?: string }) {
  const [code, setCode] = useState(initial);
  const go = (event: React.FormEvent) => {
    event.preventDefault();
    if (code.trim()) navigate(joinPath(code));
  };
  return (
    <form className="join-form" onSubmit={go}>
      <label className="field-label" htmlFor="join-code">Have a code?</label>
      <div className="join-row">
        <input
          id="join-code"
          className="input join-input"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          placeholder="K7P 2QX"
          autoComplete="off"
          autoCapitalize="characters"
          spellCheck={false}
          maxLength={16}
        />
        <button type="submit" className="button">Join</button>
      </div>
    </form>
  );
}
