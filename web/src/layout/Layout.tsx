import { useEffect, useRef } from 'react';
import { Link, Navigate, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { isRestricted, useSession } from '../api/session.ts';
import { isStaff } from '../features/moderation/roles.ts';
import { realtime } from '../realtime/socket.ts';
import { signOut } from '../auth/api.ts';
import { urls } from '../urls.ts';
import { NotificationBell } from '../features/notifications/Bell.tsx';
import { SearchBox } from '../features/search/SearchBox.tsx';

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
  // An appeal-only session sees its notifications, its appeal and signing out; it has no
  // socket (the gateway refuses its token), so no bell.
  const restricted = isRestricted(current);
  return (
    <div className="header-actions">
      {!restricted && <NotificationBell />}
      <details className="user-menu" ref={menu}>
        <summary aria-label={`Account menu for ${user.username}`}>{user.displayName || user.username}</summary>
        <ul>
          {restricted ? (
            <li>
              <Link to={urls.appeal()}>Your appeal</Link>
            </li>
          ) : (
            <>
              <li>
                <Link to={urls.channel(user.username)}>Your channel</Link>
              </li>
              <li>
                <Link to={urls.playlists()}>Your playlists</Link>
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
                <Link to={urls.subscriptions()}>Subscriptions</Link>
              </li>
              <li>
                <Link to={urls.history()}>Watch history</Link>
              </li>
            </>
          )}
          <li>
            <Link to="/notifications">Notifications</Link>
          </li>
          {!restricted && (
            <>
              {user.role === 'admin' && (
                <li>
                  <Link to={urls.adminCategories()}>Categories</Link>
                </li>
              )}
              {isStaff(user.role) && (
                <li>
                  <Link to={urls.adminWatchedWords()}>Watched words</Link>
                </li>
              )}
              <li>
                <Link to={urls.appeal()}>Moderation decisions</Link>
              </li>
              <li>
                <Link to={urls.account()}>Account</Link>
              </li>
            </>
          )}
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

/** The pages an appeal-only session may see; every other page sends it to its appeal. */
const APPEAL_PAGES = new Set(['/appeal', '/notifications', '/sign-in']);

export function Layout() {
  const main = useRef<HTMLElement>(null);
  // Signed in, the socket is open on every page: the owner's transcode progress (and
  // notifications) arrive wherever the person is.
  const current = useSession();
  const restricted = isRestricted(current);
  const signedIn = current !== null && !restricted;
  const role = current?.user.role;
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
          {!restricted && (
            <>
              <NavLink to={urls.upload()}>Upload</NavLink>
              <NavLink to="/dashboard">Dashboard</NavLink>
            </>
          )}
          {!restricted && isStaff(role) && <NavLink to={urls.moderation()}>Moderation</NavLink>}
          {!restricted && (role === 'finance' || role === 'admin') && <NavLink to={urls.financePayoutRuns()}>Finance</NavLink>}
        </nav>
        {!restricted && <SearchBox />}
        <UserMenu />
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {restricted && !APPEAL_PAGES.has(pathname) ? <Navigate to={urls.appeal()} replace /> : <Outlet />}
      </main>
    </>
  );
}
