/** The last action's result; the line keeps its height so the page does not jump. */
export function Outcome({ error, done }: { error: string | undefined; done: string | undefined }) {
  if (error)
    return (
      <p class="alert outcome" role="alert">
        {error}
      </p>
    );
  return (
    <p class={`outcome ${done ? 'notice' : 'outcome-empty'}`} role="status">
      {done ?? '\u00a0'}
    </p>
  );
}
