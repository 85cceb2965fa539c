import { z } from '@hono/zod-openapi';

export const UsernameParam = z.object({
  username: z
    .string()
    .min(1)
    .max(100)
    .openapi({
      param: { name: 'username', in: 'path', description: 'The username; matched case-insensitively.' },
      example: 'jake',
    }),
});

/** The RealWorld profile; also the `author` of articles and comments. */
export const Profile = z
  .object({
    username: z.string().openapi({ description: 'Public name (unique).' }),
    bio: z.string().nullable().openapi({ description: '`null` when not set.' }),
    image: z.string().nullable().openapi({ description: 'Avatar URL; `null` when not set.' }),
    following: z
      .boolean()
      .openapi({ description: 'Whether the signed-in viewer follows this user (false when anonymous).' }),
  })
  .openapi('Profile', { description: "A user's public profile; also the `author` of articles and comments." });

export const ProfileResponse = z.object({ profile: Profile }).openapi('ProfileResponse', {
  description: 'One profile, with whether the viewer follows it.',
  example: { profile: { username: 'jake', bio: 'I work at statefarm', image: null, following: false } },
});
