import { createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { getConfig } from '../config';
import { AppError } from '../errors';
import { fromConfig } from '../middleware/from-config';
import { idempotencyClaim, idempotent } from '../middleware/idempotency';
import { errors, IdempotencyHeaders, jsonResponse, tokenAuth } from '../openapi';
import { createRouter } from '../router';
import { requireAuth, requirePermission } from '../sessions/sessions.middleware';
import { deleteMedia, storeMedia, UPLOAD_LIMIT, type MediaRow } from './media.service';

export const mediaRouter = createRouter();
/** `GET /media/:key`, outside /api: public, long-cached image bytes. */
export const mediaFilesRouter = createRouter();
const tags = ['Media'];

/** The upload's own size cap (MEDIA_MAX_BYTES), instead of the API's JSON body limit (see app.ts). */
const uploadLimit = fromConfig((config) =>
  bodyLimit({
    maxSize: config.mediaMaxBytes,
    onError: () => {
      throw new AppError(413, { file: [`is too large (maximum is ${config.mediaMaxBytes} bytes)`] });
    },
  }),
);

const MediaObject = z
  .object({
    id: z.string().openapi({ description: 'Upload id (for DELETE /api/media/{id}).' }),
    url: z
      .string()
      .openapi({ example: 'https://api.folio.example/media/3kF...Q.png', description: 'Where the image is served.' }),
    contentType: z.string().openapi({ description: 'The type found in the bytes.' }),
    size: z.number().int().openapi({ description: 'Bytes.' }),
    createdAt: z.string().openapi({ format: 'date-time', description: 'When it was uploaded.' }),
  })
  .openapi('Media', { description: 'An uploaded image.' });

function toMedia(row: MediaRow, origin: string) {
  return {
    id: row.id,
    url: `${origin}/media/${row.key}`,
    contentType: row.contentType,
    size: row.size,
    createdAt: row.createdAt.toISOString(),
  };
}

mediaRouter.openapi(
  createRoute({
    method: 'post',
    path: '/media',
    tags,
    summary: 'Upload an image',
    description: `The raw image bytes are the request body (not multipart). JPEG, PNG, GIF, WebP and AVIF are recognised by their content; the declared type and any file name are ignored. At most MEDIA_MAX_BYTES (10 MB by default) per file, MEDIA_QUOTA_BYTES per member, ${UPLOAD_LIMIT.limit} uploads an hour.`,
    security: tokenAuth,
    middleware: [requireAuth, requirePermission('upload:media'), uploadLimit, idempotent] as const,
    request: {
      headers: IdempotencyHeaders,
      body: {
        required: true,
        content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      },
    },
    responses: {
      201: jsonResponse(
        z.object({ media: MediaObject }).openapi('MediaResponse', { description: 'The stored upload.' }),
        'Stored',
      ),
      401: errors[401],
      403: errors[403],
      413: errors[413],
      415: errors[415],
      422: errors[422],
      429: errors[429],
    },
  }),
  async (c) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0) throw AppError.validation({ file: ["can't be blank"] });
    const row = await storeMedia(
      c.get('db'),
      c.env.MEDIA,
      c.get('auth').userId,
      bytes,
      getConfig(c.env).mediaQuotaBytes,
      new Date(),
      idempotencyClaim(c),
    );
    return c.json({ media: toMedia(row, new URL(c.req.url).origin) }, 201);
  },
);

mediaRouter.openapi(
  createRoute({
    method: 'delete',
    path: '/media/{id}',
    tags,
    summary: 'Delete one of your uploads',
    description: "Someone else's upload answers 404. Copies already cached by browsers or CDNs may live on.",
    security: tokenAuth,
    middleware: requireAuth,
    request: {
      params: z.object({
        id: z
          .string()
          .min(1)
          .max(64)
          .openapi({ param: { name: 'id', in: 'path' }, description: 'The upload id.' }),
      }),
    },
    responses: { 204: { description: 'Deleted' }, 401: errors[401], 404: errors[404] },
  }),
  async (c) => {
    await deleteMedia(c.get('db'), c.env.MEDIA, c.get('auth').userId, c.req.valid('param').id);
    return c.body(null, 204);
  },
);

mediaFilesRouter.openapi(
  createRoute({
    method: 'get',
    path: '/media/{key}',
    tags,
    summary: 'An uploaded image',
    description: 'Served with `Cache-Control: public, max-age=31536000, immutable`: keys are never reused.',
    request: {
      params: z.object({
        key: z
          .string()
          .regex(/^[A-Za-z0-9_-]{32}\.(jpg|png|gif|webp|avif)$/)
          .openapi({ param: { name: 'key', in: 'path' }, description: 'The key from the upload’s URL.' }),
      }),
    },
    responses: {
      200: { description: 'The image', content: { 'image/*': { schema: z.string().openapi({ format: 'binary' }) } } },
      404: errors[404],
    },
  }),
  async (c) => {
    const object = await c.env.MEDIA.get(c.req.valid('param').key);
    if (!object) throw AppError.notFound('media');
    return c.body(object.body, 200, {
      'Content-Type': object.httpMetadata?.contentType ?? 'application/octet-stream',
      'Content-Length': String(object.size),
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      ETag: object.httpEtag,
    }) as never;
  },
);
