// The socket's frames, as the gateway sends and accepts them: one contract for both sides.
export type { ChatFrame, ClientFrame, DonationFrame, GiftFrame, LeaderboardFrame, ServerFrame } from '../../../lib/realtime-contract.ts';
