import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors';
import { fromConfig } from './from-config';

/** Refuses bodies over MAX_BODY_BYTES with 413 `{"errors":{"body":["is too large"]}}`. */
export const bodyLimitFromConfig = fromConfig((config) =>
  bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: () => {
      throw AppError.payloadTooLarge();
    },
  }),
);
