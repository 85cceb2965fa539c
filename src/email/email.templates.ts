/** Plain-text emails Folio sends. Links point at the front end (APP_URL), which calls the API. */
export interface EmailContent {
  kind: 'verify_email' | 'password_reset';
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
