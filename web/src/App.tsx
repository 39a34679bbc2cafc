import { useEffect, useRef } from "react";
import { ConnectionBadge } from "./components/ConnectionBadge";
import { Link } from "./components/Link";
import { Toaster } from "./components/Toaster";
import { parseRoute, usePathname } from "./lib/router";
import { ClusterPage } from "./pages/ClusterPage";
import { HomePage } from "./pages/HomePage";
import { JoinPage } from "./pages/JoinPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { PollPage } from "./pages/PollPage";
import { PresenterPage } from "./pages/PresenterPage";
import "./App.css";

export function App() {
  const pathname = usePathname();
  const route = parseRoute(pathname);
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);

  // After an in-page navigation, move focus to the new page so screen readers and
  // keyboard users start there, as they would after a full page load.
  useEffect(() => {
    if (pathname !== firstPath.current) main.current?.focus();
    firstPath.current = "";
  }, [pathname]);

  let page;
  switch (route.page) {
    case "home":
      page = <HomePage />;
      break;
    case "poll":
      page = <PollPage key={route.id} id={route.id} />;
      break;
    case "present":
      page = <PresenterPage key={route.id} id={route.id} />;
      break;
    case "join":
      page = <JoinPage key={route.code} code={route.code} />;
      break;
    case "cluster":
      page = <ClusterPage />;
      break;
    case "missing":
      page = <NotFoundPage />;
      break;
  }

  return (
    <div className={`app app-${route.page}`}>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <Link className="brand" href="/" aria-label="votewire home">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>votewire</span>
        </Link>
        <nav className="nav" aria-label="Main">
          <Link href="/" aria-current={route.page === "home" ? "page" : undefined}>Polls</Link>
          <Link href="/cluster" aria-current={route.page === "cluster" ? "page" : undefined}>Cluster</Link>
        </nav>
        <ConnectionBadge />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {page}
      </main>
      <Toaster />
    </div>
  );
}
