/** The RealWorld profile object; also the `author` of articles and comments. */
export function toProfile(profile: { username: string; bio: string | null; image: string | null; following: boolean }) {
  return { username: profile.username, bio: profile.bio, image: profile.image, following: profile.following };
}
