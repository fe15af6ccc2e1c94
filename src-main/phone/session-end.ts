/** How a phone-side call end maps onto the gateway's session end reasons. */
import type { EndReason } from '../calls/types';
import type { CallEndReason } from './call-tracker';

export function sessionEndReason(reason: CallEndReason): EndReason {
  switch (reason) {
    case 'hangup_command':
      return 'hangup';
    case 'max_duration':
      return 'max_duration';
    case 'rejected':
    case 'gateway_rejected':
      return 'rejected';
    default:
      return 'phone_ended';
  }
}
