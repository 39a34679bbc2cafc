import { useEffect, useState } from "react";
import { api } from "../api/client";
import { describeError } from "../api/errors";
import { JoinForm } from "../components/JoinForm";
import { pollPath, redirect } from "../lib/router";
import { useTitle } from "../lib/useTitle";
import { Loading } from "./Loading";

/** `/j/{code}`: finds the poll a join code names and goes to it, in place of this page. */
export function JoinPage({ code }: { code: string }) {
  useTitle("Join");
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    api
      .join(code)
      .then((view) => {
        if (current) redirect(pollPath(view.poll.id));
      })
      .catch((error: unknown) => {
        if (current) setFailure(describeError(error));
      });
    return () => {
      current = false;
    };
  }, [code]);
  if (!failure) return <Loading what="poll" />;
  return (
    <div className="glass center-card">
      <h1 tabIndex={-1}>No poll with that code</h1>
      <p role="alert" data-testid="join-failure">{failure}</p>
      <JoinForm initial={code} />
    </div>
  );
}
