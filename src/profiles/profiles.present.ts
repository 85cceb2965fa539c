/** The RealWorld profile object; also the `author` of articles and comments. */
export function toProfile(user: { username: string; bio: string | null; image: string | null }, following: boolean) {
  return { username: user.username, bio: user.bio, image: user.image, following };
}
