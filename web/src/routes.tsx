// Every page and its URL. Pages load on demand (one chunk each), so a first-time viewer of a
// watch page downloads that page and the player, not the upload or account pages.
import { lazy, Suspense, type ComponentType } from 'react';
import { createBrowserRouter, Navigate, useLocation } from 'react-router';
import { Layout } from './layout/Layout.tsx';

/** A page loaded on demand. */
function page(load: () => Promise<{ default: ComponentType }>): ComponentType {
  const Page = lazy(load);
  return function LazyPage() {
    return (
      <Suspense fallback={<p className="muted" role="status">Loading…</p>}>
        <Page />
      </Suspense>
    );
  };
}

const Home = page(() => import('./pages/Home.tsx'));
const SignIn = page(() => import('./pages/SignIn.tsx'));
const Register = page(() => import('./pages/Register.tsx'));
const ForgotPassword = page(() => import('./pages/ForgotPassword.tsx'));
const ResetPassword = page(() => import('./pages/ResetPassword.tsx'));
const VerifyEmail = page(() => import('./pages/VerifyEmail.tsx'));
const Account = page(() => import('./pages/Account.tsx'));
const Security = page(() => import('./pages/Security.tsx'));
const Upload = page(() => import('./pages/Upload.tsx'));
const Channel = page(() => import('./pages/Channel.tsx'));
const WatchVideo = page(() => import('./pages/WatchVideo.tsx'));
const WatchLive = page(() => import('./pages/WatchLive.tsx'));
const Playlists = page(() => import('./pages/Playlists.tsx'));
const Playlist = page(() => import('./pages/Playlist.tsx'));
const Dashboard = page(() => import('./pages/Dashboard.tsx'));
const Notifications = page(() => import('./pages/Notifications.tsx'));
const AdminCategories = page(() => import('./pages/AdminCategories.tsx'));
const AdminWatchedWords = page(() => import('./pages/AdminWatchedWords.tsx'));
const BlockedTerms = page(() => import('./pages/BlockedTerms.tsx'));
const ModerationQueue = page(() => import('./pages/ModerationQueue.tsx'));
const ModerationCase = page(() => import('./pages/ModerationCase.tsx'));
const Appeal = page(() => import('./pages/Appeal.tsx'));
const FinancePayoutRuns = page(() => import('./pages/FinancePayoutRuns.tsx'));
const FinancePayoutRun = page(() => import('./pages/FinancePayoutRun.tsx'));
const FinanceLedger = page(() => import('./pages/FinanceLedger.tsx'));
const FinanceAccount = page(() => import('./pages/FinanceAccount.tsx'));
const FinancePayoutHolds = page(() => import('./pages/FinancePayoutHolds.tsx'));
const Wallet = page(() => import('./pages/Wallet.tsx'));
const History = page(() => import('./pages/History.tsx'));
const Earnings = page(() => import('./pages/Earnings.tsx'));
const Subscribers = page(() => import('./pages/Subscribers.tsx'));
const Analytics = page(() => import('./pages/Analytics.tsx'));
const Subscriptions = page(() => import('./pages/Subscriptions.tsx'));
const Search = page(() => import('./pages/Search.tsx'));
const NotFound = page(() => import('./pages/NotFound.tsx'));

/** `/@name` is a channel: a route segment cannot be a fixed `@` followed by a parameter. */
function ChannelOrNotFound() {
  return /^\/@[A-Za-z0-9_]{3,30}\/?$/.test(useLocation().pathname) ? <Channel /> : <NotFound />;
}

export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: '/', element: <Home /> },
      { path: '/sign-in', element: <SignIn /> },
      { path: '/register', element: <Register /> },
      { path: '/forgot-password', element: <ForgotPassword /> },
      { path: '/reset-password', element: <ResetPassword /> },
      { path: '/verify-email', element: <VerifyEmail /> },
      { path: '/account', element: <Account /> },
      { path: '/account/security', element: <Security /> },
      { path: '/upload', element: <Upload /> },
      { path: '/users/:username', element: <Channel /> },
      { path: '/videos/:id', element: <WatchVideo /> },
      { path: '/streams/:id', element: <WatchLive /> },
      { path: '/search', element: <Search /> },
      { path: '/playlists', element: <Playlists /> },
      { path: '/playlists/:id', element: <Playlist /> },
      { path: '/dashboard', element: <Dashboard /> },
      { path: '/dashboard/earnings', element: <Earnings /> },
      { path: '/dashboard/subscribers', element: <Subscribers /> },
      { path: '/dashboard/analytics', element: <Analytics /> },
      { path: '/dashboard/blocked-terms', element: <BlockedTerms /> },
      { path: '/wallet', element: <Wallet /> },
      { path: '/subscriptions', element: <Subscriptions /> },
      { path: '/history', element: <History /> },
      { path: '/notifications', element: <Notifications /> },
      { path: '/admin/categories', element: <AdminCategories /> },
      { path: '/admin/watched-words', element: <AdminWatchedWords /> },
      { path: '/moderation', element: <ModerationQueue /> },
      { path: '/moderation/cases/:id', element: <ModerationCase /> },
      { path: '/appeal', element: <Appeal /> },
      { path: '/finance', element: <Navigate to="/finance/payout-runs" replace /> },
      { path: '/finance/payout-runs', element: <FinancePayoutRuns /> },
      { path: '/finance/payout-runs/:id', element: <FinancePayoutRun /> },
      { path: '/finance/ledger', element: <FinanceLedger /> },
      { path: '/finance/ledger/accounts/:id', element: <FinanceAccount /> },
      { path: '/finance/payout-holds', element: <FinancePayoutHolds /> },
      { path: '*', element: <ChannelOrNotFound /> },
    ],
  },
]);
