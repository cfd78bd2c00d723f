/** Moderators and admins review cases (the nav link, the queue and case pages). Its own module: the header needs it, not the API hooks. */
export const isStaff = (role: string | undefined) => role === 'moderator' || role === 'admin';
