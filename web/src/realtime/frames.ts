// The socket's frames, as the gateway sends and accepts them: one contract for both sides.
export type { ChatBadge, ChatFrame, ClientFrame, DonationFrame, GiftFrame, LeaderboardFrame, ServerFrame, SubscriptionFrame } from '../../../lib/realtime-contract.ts';
