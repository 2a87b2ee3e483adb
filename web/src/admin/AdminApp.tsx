/** The box office (admin console): it follows in the next commit. */
export function AdminApp() {
  return <h1>Box office</h1>;
}
