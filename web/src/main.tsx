import { render } from 'preact';
import { ErrorBoundary, lazy, LocationProvider, Route, Router } from 'preact-iso';
import { NotFound } from './NotFound.js';
import { ShowList } from './storefront/ShowList.js';
import { ShowPage } from './storefront/ShowPage.js';
import './styles.css';

// The admin console is its own chunk: a buyer's browser never downloads it.
const AdminApp = lazy(() => import('./admin/AdminApp.js').then((module) => module.AdminApp));

function App() {
  return (
    <LocationProvider>
      <header class="site-header">
        <a href="/" class="brand">
          seat-hold
        </a>
        <nav aria-label="Site">
          <a href="/">Shows</a>
          <a href="/admin">Box office</a>
        </nav>
      </header>
      <main id="main">
        <ErrorBoundary>
          <Router>
            <Route path="/" component={ShowList} />
            <Route path="/shows/:id" component={ShowPage} />
            <Route path="/admin/*" component={AdminApp} />
            <Route path="/admin" component={AdminApp} />
            <Route default component={NotFound} />
          </Router>
        </ErrorBoundary>
      </main>
    </LocationProvider>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
