export function NotFound() {
  return (
    <section class="panel">
      <h1>Page not found</h1>
      <p>
        <a href="/">See all shows</a>
      </p>
    </section>
  );
}
