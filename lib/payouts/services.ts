import type { Config } from '../config.ts';
import { createStripeConnectGateway, type ConnectGateway } from '../stripe.ts';
import { createSecretBox, payoutDataKey, type SecretBox } from '../secret-box.ts';

/** What payout code needs from outside: Stripe Connect, the box that seals bank details, the settings. */
export interface PayoutServices {
  connect: ConnectGateway;
  box: SecretBox;
  config: Config['payouts'];
}

export function createPayoutServices(config: Config): PayoutServices {
  return {
    connect: createStripeConnectGateway(config.payments.stripe),
    box: createSecretBox(payoutDataKey(config.payouts.dataKeySecret)),
    config: config.payouts,
  };
}
