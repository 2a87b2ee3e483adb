import { useState } from 'preact/hooks';
import { adminApi } from '../api.js';
import { describeError } from '../problems.js';

/**
 * Asks for the admin key and checks it with a cheap admin call before keeping it, so a
 * typo is told at once rather than on the first real action.
 */
export function SignIn({ reason, onSignedIn }: { reason: string | undefined; onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(reason);

  async function signIn() {
    const candidate = key.trim();
    if (candidate === '' || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      await adminApi(candidate).listWebhooks();
      onSignedIn(candidate);
    } catch (problem) {
      setError(describeError(problem));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="panel admin-sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Box office</h1>
      <p class="muted">Sign in with the admin key. It is kept in this browser tab only, until you sign out.</p>
      {/* POST, never GET: even a submit that escaped the script would not put the key in a URL. */}
      <form
        method="post"
        class="row"
        data-form="sign-in"
        onSubmit={(event) => {
          event.preventDefault();
          void signIn();
        }}
      >
        <label>
          Admin key
          <input
            type="password"
            name="admin-key"
            autocomplete="off"
            spellcheck={false}
            required
            value={key}
            onInput={(event) => setKey(event.currentTarget.value)}
            data-field="admin-key"
          />
        </label>
        <button type="submit" disabled={busy || key.trim() === ''} data-action="sign-in">
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      <p class="alert" role="alert" hidden={error === undefined}>
        {error}
      </p>
    </section>
  );
}
