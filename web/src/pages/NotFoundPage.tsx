import { Link } from "../components/Link";
import { useTitle } from "../lib/useTitle";

export function NotFoundPage() {
  useTitle("Not found");
  return (
    <div className="glass center-card">
      <h1 tabIndex={-1}>Nothing here</h1>
      <p className="muted">This address is not a page of votewire. Polls live at /p/&lt;id&gt;, and /j/&lt;code&gt; finds one by its join code.</p>
      <Link className="button" href="/">See the open polls</Link>
    </div>
  );
}
