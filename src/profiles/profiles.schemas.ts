import { z } from '@hono/zod-openapi';

export const UsernameParam = z.object({
  username: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: 'username', in: 'path' }, example: 'jake', description: 'Matched case-insensitively.' }),
});

/** The RealWorld profile; also the `author` of articles and comments. */
export const Profile = z
  .object({
    username: z.string(),
    bio: z.string().nullable(),
    image: z.string().nullable(),
    following: z
      .boolean()
      .openapi({ description: 'Whether the signed-in viewer follows this user (false when anonymous).' }),
  })
  .openapi('Profile');

export const ProfileResponse = z.object({ profile: Profile }).openapi('ProfileResponse');
