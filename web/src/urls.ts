/** The app's URLs, in one place; the API's `webUrl` fields use the same shapes (lib/web-urls.ts). */
export const urls = {
  home: () => '/',
  signIn: (next?: string) => (next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in'),
  register: () => '/register',
  account: () => '/account',
  upload: () => '/upload',
  channel: (username: string) => `/@${username}`,
  video: (id: string) => `/videos/${id}`,
  stream: (id: string) => `/streams/${id}`,
  wallet: () => '/wallet',
  earnings: () => '/dashboard/earnings',
};
