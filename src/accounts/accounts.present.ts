import type { UserRow } from './accounts.service';

/** The RealWorld user object, plus Folio's additive fields. */
export function toUser(user: UserRow, token: string, refreshToken?: string) {
  return {
    email: user.email,
    token,
    username: user.username,
    bio: user.bio,
    image: user.image,
    emailVerified: user.emailVerifiedAt !== null,
    ...(refreshToken === undefined ? {} : { refreshToken }),
  };
}
