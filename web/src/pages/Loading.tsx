import { Link } from "../components/Link";
import "./Loading.css";

export function Loading({ what }: { what: string }) {
  return (
    <div className="glass center-card" aria-busy="true">
      <div className="spinner" aria-hidden="true" />
      <p role="status">Loading the {what}…</p>
    </div>
  );
}

export function LoadFailure({ message }: { message: string }) {
  return (
    <div className="glass center-card">
      <h1>That did not work</h1>
      <p role="alert">{message}</p>
      <Link className="button" href="/">Back to all polls</Link>
    </div>
  );
}
