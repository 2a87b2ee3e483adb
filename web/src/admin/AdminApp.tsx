import { Route, Router, useLocation } from 'preact-iso';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { adminApi } from '../api.js';
import { NewShowPage } from './new-show/NewShowPage.js';
import { OnSalePage } from './on-sale/OnSalePage.js';
import { AdminContext, failWith, storedKey, storeKey, type AdminSession } from './shared/session.js';
import { ShowsPage } from './shows/ShowsPage.js';
import { SignIn } from './SignIn.js';
import { WebhookPage } from './webhooks/WebhookPage.js';
import { WebhooksPage } from './webhooks/WebhooksPage.js';
import './admin.css';

/** The box office: everything under /admin, behind the admin key. */
export function AdminApp() {
  const [key, setKey] = useState(storedKey);
  const [reason, setReason] = useState<string>();

  const signOut = useCallback((why?: string) => {
    storeKey(undefined);
    setKey(undefined);
    setReason(why);
  }, []);

  const session = useMemo<AdminSession | undefined>(
    () => (key === undefined ? undefined : { api: adminApi(key), signOut, fail: failWith(signOut) }),
    [key, signOut],
  );

  // A key kept from earlier in this tab may have been changed on the server since: check it
  // once, as pages that read only public data would never meet a 401.
  const checked = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (session === undefined || checked.current === key) return;
    checked.current = key;
    void session.api.listWebhooks().catch(session.fail);
  }, [session, key]);

  if (session === undefined)
    return (
      <SignIn
        reason={reason}
        onSignedIn={(verified) => {
          storeKey(verified);
          checked.current = verified;
          setReason(undefined);
          setKey(verified);
        }}
      />
    );

  return (
    <AdminContext.Provider value={session}>
      <div class="admin">
        <AdminNav onSignOut={() => signOut()} />
        <Router>
          <Route path="/" component={ShowsPage} />
          <Route path="/shows/new" component={NewShowPage} />
          <Route path="/shows/:id" component={OnSalePage} />
          <Route path="/webhooks" component={WebhooksPage} />
          <Route path="/webhooks/:id" component={WebhookPage} />
          <Route default component={AdminNotFound} />
        </Router>
      </div>
    </AdminContext.Provider>
  );
}

const LINKS: [href: string, words: string, current: (path: string) => boolean][] = [
  ['/admin', 'Shows', (path) => path === '/admin' || (path.startsWith('/admin/shows/') && path !== '/admin/shows/new')],
  ['/admin/shows/new', 'New show', (path) => path === '/admin/shows/new'],
  ['/admin/webhooks', 'Webhooks', (path) => path.startsWith('/admin/webhooks')],
];

function AdminNav({ onSignOut }: { onSignOut: () => void }) {
  const { path } = useLocation();
  return (
    <nav class="admin-nav" aria-label="Box office">
      <span class="admin-title">Box office</span>
      <ul>
        {LINKS.map(([href, words, current]) => (
          <li key={href}>
            <a href={href} aria-current={current(path) ? 'page' : undefined}>
              {words}
            </a>
          </li>
        ))}
      </ul>
      <button type="button" class="secondary" data-action="sign-out" onClick={onSignOut}>
        Sign out
      </button>
    </nav>
  );
}

function AdminNotFound() {
  return (
    <section class="panel">
      <h1>Page not found</h1>
      <p>
        <a href="/admin">All shows</a>
      </p>
    </section>
  );
}
