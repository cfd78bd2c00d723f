import { useEffect, useRef } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useSession } from '../api/session.ts';
import { realtime } from '../realtime/socket.ts';
import { signOut } from '../auth/api.ts';
import { urls } from '../urls.ts';
import { NotificationBell } from '../features/notifications/Bell.tsx';

function UserMenu() {
  const current = useSession();
  const navigate = useNavigate();
  const menu = useRef<HTMLDetailsElement>(null);
  const location = useLocation();
  useEffect(() => menu.current?.removeAttribute('open'), [location.pathname]);
  if (!current) {
    return (
      <div className="header-actions">
        <Link className="button secondary" to={urls.signIn(location.pathname === '/' ? undefined : location.pathname)}>
          Sign in
        </Link>
        <Link className="button" to={urls.register()}>
          Register
        </Link>
      </div>
    );
  }
  const { user } = current;
  return (
    <div className="header-actions">
      <NotificationBell />
      <details className="user-menu" ref={menu}>
        <summary aria-label={`Account menu for ${user.username}`}>{user.displayName || user.username}</summary>
        <ul>
          <li>
            <Link to={urls.channel(user.username)}>Your channel</Link>
          </li>
          <li>
            <Link to={urls.upload()}>Upload a video</Link>
          </li>
          <li>
            <Link to="/dashboard">Creator dashboard</Link>
          </li>
          <li>
            <Link to={urls.earnings()}>Earnings</Link>
          </li>
          <li>
            <Link to={urls.wallet()}>Wallet</Link>
          </li>
          <li>
            <Link to="/notifications">Notifications</Link>
          </li>
          {user.role === 'admin' && (
            <li>
              <Link to="/admin/categories">Categories</Link>
            </li>
          )}
          <li>
            <Link to={urls.account()}>Account</Link>
          </li>
          <li>
            <button type="button" onClick={() => void signOut().then(() => navigate(urls.home()))}>
              Sign out
            </button>
          </li>
        </ul>
      </details>
    </div>
  );
}

export function Layout() {
  const main = useRef<HTMLElement>(null);
  // Signed in, the socket is open on every page: the owner's transcode progress (and
  // notifications) arrive wherever the person is.
  const signedIn = useSession() !== null;
  useEffect(() => (signedIn ? realtime.subscribe(() => {}) : undefined), [signedIn]);
  const { pathname } = useLocation();
  // A page change moves focus to the new content, as a full page load would for screen readers.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [pathname]);
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to={urls.home()} className="brand">
          StreamHub
        </Link>
        <nav aria-label="Main">
          <NavLink to={urls.home()} end>
            Home
          </NavLink>
          <NavLink to={urls.upload()}>Upload</NavLink>
          <NavLink to="/dashboard">Dashboard</NavLink>
        </nav>
        <UserMenu />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
