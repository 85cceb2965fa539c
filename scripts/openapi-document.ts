// The OpenAPI document exactly as GET /api/openapi.json serves it, for Node tooling (bundled by
// scripts/client-generate.mjs with esbuild).
import { app } from '../src/app';
import { openApiDocument } from '../src/system/docs';

export default openApiDocument(app);
