/** Plain-text emails Folio sends. Links point at the front end (APP_URL), which calls the API. */
export interface EmailContent {
  kind: 'verify_email' | 'password_reset' | 'message_digest' | 'payment_receipt' | 'payment_failed';
  subject: string;
  body: string;
}

export function verificationEmail(appUrl: string, username: string, token: string): EmailContent {
  return {
    kind: 'verify_email',
    subject: 'Confirm your email address',
    body: `Hi ${username},\n\nConfirm your email address for Folio:\n${appUrl}/verify-email?token=${encodeURIComponent(token)}\n\nThe link expires in 48 hours. If you did not sign up, ignore this email.\n`,
  };
}

export function passwordResetEmail(appUrl: string, username: string, token: string): EmailContent {
  return {
    kind: 'password_reset',
    subject: 'Reset your password',
    body: `Hi ${username},\n\nSomeone asked to reset your Folio password. To choose a new one:\n${appUrl}/reset-password?token=${encodeURIComponent(token)}\n\nThe link expires in 1 hour and works once. If it was not you, ignore this email.\n`,
  };
}

/** The unread-messages digest: counts only (message bodies stay out of email). */
export function messageDigestEmail(
  appUrl: string,
  username: string,
  unread: number,
  conversations: number,
): EmailContent {
  const messages = unread === 1 ? '1 unread message' : `${unread} unread messages`;
  const where = conversations === 1 ? '1 conversation' : `${conversations} conversations`;
  return {
    kind: 'message_digest',
    subject: `You have ${messages} on Folio`,
    body: `Hi ${username},\n\nYou have ${messages} in ${where}:\n${appUrl}/messages\n\nYou get at most one of these emails a day.\n`,
  };
}

/** `1234` `USD` → `12.34 USD` (two-decimal currencies; zero-decimal ones such as JPY print as is). */
export function formatAmount(amount: number, currency: string): string {
  const zeroDecimal = [
    'BIF',
    'CLP',
    'DJF',
    'GNF',
    'JPY',
    'KMF',
    'KRW',
    'MGA',
    'PYG',
    'RWF',
    'UGX',
    'VND',
    'VUV',
    'XAF',
    'XOF',
    'XPF',
  ];
  const value = zeroDecimal.includes(currency.toUpperCase()) ? String(amount) : (amount / 100).toFixed(2);
  return `${value} ${currency.toUpperCase()}`;
}

export function paymentReceiptEmail(username: string, what: string, amount: number, currency: string): EmailContent {
  return {
    kind: 'payment_receipt',
    subject: `Your Folio receipt: ${formatAmount(amount, currency)}`,
    body: `Hi ${username},\n\nThank you! We received ${formatAmount(amount, currency)} for ${what}.\n\nYour payments are listed in your account.\n`,
  };
}

export function paymentFailedEmail(appUrl: string, username: string, amount: number, currency: string): EmailContent {
  return {
    kind: 'payment_failed',
    subject: 'Your Folio membership payment failed',
    body: `Hi ${username},\n\nWe could not collect ${formatAmount(amount, currency)} for your membership. We will retry over the next days; to keep your membership, update your card:\n${appUrl}/account/billing\n`,
  };
}
