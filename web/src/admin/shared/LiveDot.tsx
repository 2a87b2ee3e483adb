/** The live marker: a dot with words, so the state is not told by colour alone. */
export function LiveDot({ live, words }: { live: boolean; words?: boolean }) {
  return (
    <span class={`live-indicator ${live ? 'is-live' : ''}`} data-live={live ? 'true' : 'false'}>
      <span class={`live-dot ${live ? 'live' : ''}`} aria-hidden="true" />
      {words ? (
        <span>{live ? 'Live' : 'Not live'}</span>
      ) : (
        <span class="visually-hidden">{live ? 'Live' : 'Not live'}</span>
      )}
    </span>
  );
}
