/** Plain-text emails Folio sends. Links point at the front end (APP_URL), which calls the API. */
export interface EmailContent {
  kind: 'verify_email' | 'password_reset' | 'message_digest';
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
