/**
 * Folio API types, generated from the OpenAPI document (GET /api/openapi.json) by openapi-typescript.
 * Do not edit: run `npm run client:generate` after changing a route or schema. See README ("Typed client").
 */
export interface paths {
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Liveness check (touches no storage)
         * @description Answers `{"status":"ok"}` while the Worker runs; it reads no database, so it says nothing about D1.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Healthy */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/dev/outbox": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Development only: recent outgoing emails (404 unless ENVIRONMENT=development)
         * @description Read the verification and password reset links of local accounts here instead of an inbox.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["OutboxResponse"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Register
         * @description Creates the account and signs it in (201): the response holds an access token and a refresh token, and a verification email is queued. Limited per IP (429 with Retry-After).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["NewUserRequest"];
                };
            };
            responses: {
                /** @description Registered and signed in */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UserResponse"];
                    };
                };
                /** @description Conflict */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log in
         * @description Answers the user with a fresh access token and refresh token. Limited per IP and per account (429 with Retry-After).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["LoginUserRequest"];
                };
            };
            responses: {
                /** @description Signed in */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UserResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Current user
         * @description The signed-in user; `token` is the access token the request was made with.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The signed-in user */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UserResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        /**
         * Update current user
         * @description Changing the password ends every session, this one included, and answers with a new token and refresh token (the old token is refused from then on); changing the email asks for a new confirmation.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["UpdateUserRequest"];
                };
            };
            responses: {
                /** @description Updated */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UserResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Conflict */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Confirm an email address
         * @description Consumes the single-use token from the verification email.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["VerifyEmailRequest"];
                };
            };
            responses: {
                /** @description Email confirmed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StatusResponse"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/verification-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send the verification email again
         * @description At most 3 an hour per account. Answers `{"status":"verified"}` if the address is already confirmed.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Already verified */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StatusResponse"];
                    };
                };
                /** @description Queued */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StatusResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Request a password reset email
         * @description Always answers 202, whether or not the email is registered.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PasswordResetRequest"];
                };
            };
            responses: {
                /** @description Accepted */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StatusResponse"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/password-reset/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Set a new password with a reset token
         * @description Consumes the single-use token and signs the account out everywhere.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["PasswordResetConfirmRequest"];
                };
            };
            responses: {
                /** @description Password changed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StatusResponse"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/refresh": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Exchange a refresh token for a new access token
         * @description Rotates the refresh token: the one presented stops working. Presenting a used refresh token again revokes its session.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["RefreshRequest"];
                };
            };
            responses: {
                /** @description New tokens */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UserResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/users/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Log out (revoke the current session)
         * @description Revokes the session of the token sent; that access token and its refresh token stop working (other devices stay signed in).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Logged out */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List the current user's active sessions
         * @description One entry per signed-in device or browser; `current` marks the one making this request.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Active sessions, newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SessionsResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /**
         * Revoke every session except the current one
         * @description "Sign out everywhere else". Answers how many sessions were revoked.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description How many sessions were revoked */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RevokedResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Revoke one session
         * @description Signs that device out. 404 when the id is not one of your active sessions.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description A session `id` from GET /api/user/sessions. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revoked */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/articles/feed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Articles by followed authors, newest first
         * @description Published articles of the users you follow, as list items (no `body`). Paged with `limit`/`offset`; `articlesCount` is the total. Answers 304 to a matching `If-None-Match`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description Articles to skip (default 0). */
                    offset?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of the feed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MultipleArticlesResponse"];
                    };
                };
                /** @description Not modified (the `If-None-Match` ETag still matches) */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/articles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Articles, newest first (or best match first with `q`)
         * @description Filters combine. `articlesCount` is the total number of matches. Items have no `body`. Folio extensions: `q` (full-text search), `status=draft|scheduled` (your own, needs a token).
         */
        get: {
            parameters: {
                query?: {
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description Articles to skip (default 0). */
                    offset?: number;
                    /** @description Only articles with this tag. */
                    tag?: string;
                    /** @description Only articles by this username. */
                    author?: string;
                    /** @description Only articles favorited by this username. */
                    favorited?: string;
                    /** @description Folio extension: full-text search over title, description and public bodies, ranked by relevance. */
                    q?: string;
                    /** @description Folio extension: `draft` or `scheduled` lists the signed-in viewer's own articles (401 when anonymous). */
                    status?: "draft" | "published" | "scheduled";
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of articles */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MultipleArticlesResponse"];
                    };
                };
                /** @description Not modified (the `If-None-Match` ETag still matches) */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create an article
         * @description Answers 201 with the article. The slug comes from the title (made unique, so duplicate titles are fine). Folio extensions: `status` (draft, scheduled with `publishAt`) and `visibility`.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Optional. 1-255 printable characters, e.g. a UUID. The same key with the same request within 24 h replays the first response (`Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the first is in flight: 409. */
                    "idempotency-key"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["NewArticleRequest"];
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SingleArticleResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Conflict */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/articles/{slug}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One article
         * @description Drafts and scheduled articles are visible to their author only. Without access to the body, `body` is null and `locked` true.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The article */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SingleArticleResponse"];
                    };
                };
                /** @description Not modified (the `If-None-Match` ETag still matches) */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        /**
         * Update an article (author only)
         * @description A new title gives a new slug. Omitting `tagList` keeps the tags, `[]` clears them.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["UpdateArticleRequest"];
                };
            };
            responses: {
                /** @description Updated */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SingleArticleResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not allowed */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        post?: never;
        /**
         * Delete an article (author only), with its comments and favorites
         * @description Answers 204 with no body; 403 when you are not the author.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not allowed */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/articles/{slug}/favorite": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Favorite an article (idempotent)
         * @description Answers the whole article with `favorited: true` and the new `favoritesCount`.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The article */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SingleArticleResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        /**
         * Unfavorite an article (idempotent)
         * @description Answers the whole article with `favorited: false` and the new `favoritesCount`.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The article */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SingleArticleResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/tags": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Tags in use
         * @description Every tag carried by at least one published article, most used first (no top-N cut). Answers 304 to a matching `If-None-Match`.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Every tag of a published article */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TagsResponse"];
                    };
                };
                /** @description Not modified (the `If-None-Match` ETag still matches) */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/profiles/{username}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a profile
         * @description Authentication optional: `following` is computed for the signed-in viewer.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The username; matched case-insensitively. */
                    username: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The profile */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ProfileResponse"];
                    };
                };
                /** @description Not modified */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/profiles/{username}/follow": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Follow a user
         * @description Idempotent. Following yourself answers 422.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The username; matched case-insensitively. */
                    username: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The followed profile */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ProfileResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        /**
         * Unfollow a user
         * @description Idempotent: unfollowing someone you do not follow is not an error.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The username; matched case-insensitively. */
                    username: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The unfollowed profile */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ProfileResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/articles/{slug}/comments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get comments for an article
         * @description Authentication optional. Newest first, at most 500. On a members-only or paid article the viewer cannot read, the list is empty.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The comments */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MultipleCommentsResponse"];
                    };
                };
                /** @description Not modified */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create a comment for an article
         * @description Requires read access to the article. Limited per user (see 429 and Retry-After).
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Optional. 1-255 printable characters, e.g. a UUID. The same key with the same request within 24 h replays the first response (`Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the first is in flight: 409. */
                    "idempotency-key"?: string;
                };
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["NewCommentRequest"];
                };
            };
            responses: {
                /** @description The new comment */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SingleCommentResponse"];
                    };
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not allowed */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Conflict */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/articles/{slug}/comments/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a comment for an article
         * @description The comment's author or the article's author may delete it.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The article's `slug`. */
                    slug: string;
                    /** @description The comment's `id`. */
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deleted */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Missing or invalid credentials */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not allowed */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Not found */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Validation failed */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Public keys that verify Folio access tokens (current and not-yet-retired keys)
         * @description For other services that verify Folio access tokens themselves. Cached for 5 minutes.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description JSON Web Key Set */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["JWKS"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description Liveness answer. */
        Health: {
            /**
             * @description Always `ok`.
             * @enum {string}
             */
            status: "ok";
        };
        /** @description Recent outgoing emails (development only). */
        OutboxResponse: {
            /** @description Newest first, at most 50. */
            messages: components["schemas"]["OutboxMessage"][];
        };
        /** @description An email Folio queued (development only). */
        OutboxMessage: {
            /** @description Message id. */
            id: string;
            /** @description What the email is for, `verify_email` or `password_reset`. */
            kind: string;
            /** @description Recipient address. */
            to: string;
            /** @description Subject line. */
            subject: string;
            /** @description Plain-text body (holds the verification or reset link). */
            body: string;
            /** @description `pending`, `sending`, `sent` or `failed`. */
            status: string;
            /** @description Delivery attempts so far. */
            attempts: number;
            /**
             * Format: date-time
             * @description When it was queued.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When it was delivered, if it was.
             */
            sentAt: string | null;
        };
        /**
         * @description Every failure: field (or topic) names mapped to messages, e.g. `{"errors":{"email":["has already been taken"]}}`, `{"errors":{"token":["is missing"]}}`.
         * @example {
         *       "errors": {
         *         "body": [
         *           "can't be blank"
         *         ]
         *       }
         *     }
         */
        GenericErrorModel: {
            /** @description Field name → messages; show them next to the field, or as a banner. */
            errors: {
                [key: string]: string[];
            };
        };
        /**
         * @description The signed-in user (register, login, current user, update, refresh).
         * @example {
         *       "user": {
         *         "email": "jake@jake.jake",
         *         "token": "eyJhbGciOiJFZERTQSIsImtpZCI6ImRldi0xIn0.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJl",
         *         "username": "jake",
         *         "bio": null,
         *         "image": null,
         *         "emailVerified": false,
         *         "refreshToken": "rt_2b7f0c9e4a1d4f3b8e6a5c0d9f1e2a3b"
         *       }
         *     }
         */
        UserResponse: {
            user: components["schemas"]["User"];
        };
        /** @description The signed-in user, with the access token to send on later requests. */
        User: {
            /** @description Email address. */
            email: string;
            /** @description Access token (JWT); send as `Authorization: Token <jwt>` or `Bearer <jwt>`. */
            token: string;
            /** @description Public name, also the profile URL part. */
            username: string;
            /** @description `null` until set. */
            bio: string | null;
            /** @description Avatar URL; `null` until set. */
            image: string | null;
            /** @description Folio extension: whether the email address is confirmed. */
            emailVerified: boolean;
            /** @description Folio extension, on register, login and refresh only: exchange at POST /api/users/refresh. */
            refreshToken?: string;
        };
        /**
         * @description Registration: every field is required. Answers 201 with the signed-in user and its tokens.
         * @example {
         *       "user": {
         *         "username": "jake",
         *         "email": "jake@jake.jake",
         *         "password": "correct horse battery"
         *       }
         *     }
         */
        NewUserRequest: {
            user: {
                /**
                 * @description Letters, digits, `_`, `.` and `-`, 1–40 characters; unique case-insensitively (409 when taken).
                 * @example jake
                 */
                username: string;
                /**
                 * Format: email
                 * @description Email address, at most 254 characters; unique case-insensitively (409 when taken).
                 * @example jake@jake.jake
                 */
                email: string;
                /**
                 * @description 8–128 characters.
                 * @example correct horse battery
                 */
                password: string;
            };
        };
        /**
         * @description Sign in with email and password. A wrong pair answers 401 `{"errors":{"credentials":["invalid"]}}`.
         * @example {
         *       "user": {
         *         "email": "jake@jake.jake",
         *         "password": "correct horse battery"
         *       }
         *     }
         */
        LoginUserRequest: {
            user: {
                /**
                 * Format: email
                 * @description Email address, at most 254 characters; unique case-insensitively (409 when taken).
                 * @example jake@jake.jake
                 */
                email: string;
                /**
                 * @description The account password.
                 * @example correct horse battery
                 */
                password: string;
            };
        };
        /**
         * @description Every field is optional: send only what changes (sending the whole user back is fine). A new email must be confirmed again.
         * @example {
         *       "user": {
         *         "bio": "I like to skateboard",
         *         "image": "https://i.stack.imgur.com/xHWG8.jpg"
         *       }
         *     }
         */
        UpdateUserRequest: {
            user: {
                /**
                 * Format: email
                 * @description Email address, at most 254 characters; unique case-insensitively (409 when taken).
                 * @example jake@jake.jake
                 */
                email?: string;
                /**
                 * @description Letters, digits, `_`, `.` and `-`, 1–40 characters; unique case-insensitively (409 when taken).
                 * @example jake
                 */
                username?: string;
                /**
                 * @description New password, 8–128 characters. Signs out every other session.
                 * @example correct horse battery
                 */
                password?: string;
                /** @description At most 2000 characters; `""` or `null` clears it. */
                bio?: string | "" | null;
                /** @description An http(s) URL of at most 2048 characters; `""` or `null` clears it. */
                image?: string | "" | null;
            };
        };
        /** @description Outcome of an account action that returns no object. */
        StatusResponse: {
            /**
             * @description What happened: `verified`, `accepted` (email queued) or `password_reset`.
             * @example accepted
             */
            status: string;
        };
        /** @description Confirms the email address the token was sent to. */
        VerifyEmailRequest: {
            /** @description The single-use token from the verification email link. */
            token: string;
        };
        /** @description Asks for a password reset email to this address. */
        PasswordResetRequest: {
            /**
             * Format: email
             * @description Email address, at most 254 characters; unique case-insensitively (409 when taken).
             * @example jake@jake.jake
             */
            email: string;
        };
        /** @description Sets a new password with a reset token. */
        PasswordResetConfirmRequest: {
            /** @description The single-use token from the password reset email link. */
            token: string;
            /**
             * @description 8–128 characters.
             * @example correct horse battery
             */
            password: string;
        };
        /** @description Exchanges a refresh token for new tokens. */
        RefreshRequest: {
            /** @description The `refreshToken` from register, login or the previous refresh (single use). */
            refreshToken: string;
        };
        /** @description The current user's active sessions. */
        SessionsResponse: {
            /** @description Active sessions, newest first. */
            sessions: components["schemas"]["Session"][];
        };
        /** @description A signed-in device or browser. */
        Session: {
            /** @description Session id (use it to revoke this session). */
            id: string;
            /**
             * Format: date-time
             * @description When the user signed in.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description Updated at most every 5 minutes.
             */
            lastSeenAt: string;
            /**
             * Format: date-time
             * @description When the refresh token expires unless used before.
             */
            expiresAt: string;
            /** @description The browser or app that signed in, when known. */
            userAgent: string | null;
            /** @description Two-letter country code at sign-in, when known. */
            country: string | null;
            /** @description True for the session making this request. */
            current: boolean;
        };
        /** @description Outcome of a bulk revocation. */
        RevokedResponse: {
            /** @description How many sessions were revoked. */
            revoked: number;
        };
        /**
         * @description A page of articles.
         * @example {
         *       "articles": [
         *         {
         *           "slug": "how-to-train-your-dragon",
         *           "title": "How to train your dragon",
         *           "description": "Ever wonder how?",
         *           "tagList": [
         *             "dragons",
         *             "training"
         *           ],
         *           "createdAt": "2026-11-23T21:50:36.123Z",
         *           "updatedAt": "2026-11-23T21:50:36.123Z",
         *           "favorited": false,
         *           "favoritesCount": 0,
         *           "author": {
         *             "username": "jake",
         *             "bio": "I work at statefarm",
         *             "image": null,
         *             "following": false
         *           },
         *           "status": "published",
         *           "visibility": "public",
         *           "publishAt": null,
         *           "publishedAt": "2026-11-23T21:50:36.123Z",
         *           "locked": false
         *         }
         *       ],
         *       "articlesCount": 1
         *     }
         */
        MultipleArticlesResponse: {
            /** @description This page, newest first (best match first with `q`). */
            articles: components["schemas"]["ArticleListItem"][];
            /** @description Total matches across all pages. */
            articlesCount: number;
        };
        /** @description An article in a list or feed: everything but the `body`. */
        ArticleListItem: {
            /** @description URL identifier, unique; changes when the title changes. */
            slug: string;
            /** @description Title. */
            title: string;
            /** @description Short summary. */
            description: string;
            /** @description Tags, in the order the author gave them. */
            tagList: string[];
            /**
             * Format: date-time
             * @description Creation time (ISO 8601, milliseconds).
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description Last change (ISO 8601, milliseconds).
             */
            updatedAt: string;
            /** @description Whether the viewer favorited it (false when anonymous). */
            favorited: boolean;
            /** @description How many users favorited it. */
            favoritesCount: number;
            author: components["schemas"]["Profile"];
            /**
             * @description Folio extension: `draft`, `published` or `scheduled`.
             * @enum {string}
             */
            status: "draft" | "published" | "scheduled";
            /**
             * @description Folio extension: who may read the body (`public`, `members` or `paid`).
             * @enum {string}
             */
            visibility: "public" | "members" | "paid";
            /**
             * Format: date-time
             * @description Folio extension: set for `scheduled` articles.
             */
            publishAt: string | null;
            /**
             * Format: date-time
             * @description Folio extension: when it was published; lists sort by it.
             */
            publishedAt: string | null;
            /** @description Folio extension: true when the viewer may not read the body. */
            locked: boolean;
        };
        /** @description A user's public profile; also the `author` of articles and comments. */
        Profile: {
            /** @description Public name (unique). */
            username: string;
            /** @description `null` when not set. */
            bio: string | null;
            /** @description Avatar URL; `null` when not set. */
            image: string | null;
            /** @description Whether the signed-in viewer follows this user (false when anonymous). */
            following: boolean;
        };
        /**
         * @description One article.
         * @example {
         *       "article": {
         *         "slug": "how-to-train-your-dragon",
         *         "title": "How to train your dragon",
         *         "description": "Ever wonder how?",
         *         "tagList": [
         *           "dragons",
         *           "training"
         *         ],
         *         "createdAt": "2026-11-23T21:50:36.123Z",
         *         "updatedAt": "2026-11-23T21:50:36.123Z",
         *         "favorited": false,
         *         "favoritesCount": 0,
         *         "author": {
         *           "username": "jake",
         *           "bio": "I work at statefarm",
         *           "image": null,
         *           "following": false
         *         },
         *         "status": "published",
         *         "visibility": "public",
         *         "publishAt": null,
         *         "publishedAt": "2026-11-23T21:50:36.123Z",
         *         "locked": false,
         *         "body": "You have to believe"
         *       }
         *     }
         */
        SingleArticleResponse: {
            article: components["schemas"]["Article"];
        };
        /** @description An article with its body (unless `locked`). */
        Article: {
            /** @description URL identifier, unique; changes when the title changes. */
            slug: string;
            /** @description Title. */
            title: string;
            /** @description Short summary. */
            description: string;
            /** @description Tags, in the order the author gave them. */
            tagList: string[];
            /**
             * Format: date-time
             * @description Creation time (ISO 8601, milliseconds).
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description Last change (ISO 8601, milliseconds).
             */
            updatedAt: string;
            /** @description Whether the viewer favorited it (false when anonymous). */
            favorited: boolean;
            /** @description How many users favorited it. */
            favoritesCount: number;
            author: components["schemas"]["Profile"];
            /**
             * @description Folio extension: `draft`, `published` or `scheduled`.
             * @enum {string}
             */
            status: "draft" | "published" | "scheduled";
            /**
             * @description Folio extension: who may read the body (`public`, `members` or `paid`).
             * @enum {string}
             */
            visibility: "public" | "members" | "paid";
            /**
             * Format: date-time
             * @description Folio extension: set for `scheduled` articles.
             */
            publishAt: string | null;
            /**
             * Format: date-time
             * @description Folio extension: when it was published; lists sort by it.
             */
            publishedAt: string | null;
            /** @description Folio extension: true when the viewer may not read the body. */
            locked: boolean;
            /** @description `null` when `locked` (Folio extension). */
            body: string | null;
        };
        /**
         * @description A new article: `title`, `description` and `body` are required; everything else is optional.
         * @example {
         *       "article": {
         *         "title": "How to train your dragon",
         *         "description": "Ever wonder how?",
         *         "body": "You have to believe",
         *         "tagList": [
         *           "dragons",
         *           "training"
         *         ]
         *       }
         *     }
         */
        NewArticleRequest: {
            article: {
                /**
                 * @description At most 200 characters; the slug is made from it.
                 * @example How to train your dragon
                 */
                title: string;
                /**
                 * @description Short summary shown in lists, at most 1000 characters.
                 * @example Ever wonder how?
                 */
                description: string;
                /**
                 * @description Markdown, at most 100000 characters, kept exactly as sent.
                 * @example You have to believe
                 */
                body: string;
                /**
                 * @description Up to 20 tags of at most 64 characters; trimmed, blanks and duplicates dropped, order kept.
                 * @example [
                 *       "dragons",
                 *       "training"
                 *     ]
                 */
                tagList?: string[];
                /**
                 * @description Folio extension. `draft` and `scheduled` articles are visible only to their author. Default `published`.
                 * @enum {string}
                 */
                status?: "draft" | "published" | "scheduled";
                /**
                 * @description Folio extension. Who may read the body: `public` (anyone, default), `members` (signed-in), `paid` (see billing).
                 * @enum {string}
                 */
                visibility?: "public" | "members" | "paid";
                /**
                 * Format: date-time
                 * @description Folio extension: when a `scheduled` article is published (must be in the future).
                 * @example 2030-01-01T09:00:00.000Z
                 */
                publishAt?: string | null;
            };
        };
        /**
         * @description Only the fields sent change; the author only.
         * @example {
         *       "article": {
         *         "title": "Did you train your dragon?",
         *         "tagList": [
         *           "dragons"
         *         ]
         *       }
         *     }
         */
        UpdateArticleRequest: {
            article: {
                /**
                 * @description At most 200 characters; a new title gives a new slug.
                 * @example How to train your dragon
                 */
                title?: string;
                /**
                 * @description Short summary shown in lists, at most 1000 characters.
                 * @example Ever wonder how?
                 */
                description?: string;
                /**
                 * @description Markdown, at most 100000 characters, kept exactly as sent.
                 * @example You have to believe
                 */
                body?: string;
                /**
                 * @description Omit to keep the tags, `[]` to clear them; `null` is refused.
                 * @example [
                 *       "dragons",
                 *       "training"
                 *     ]
                 */
                tagList?: string[];
                /**
                 * @description Folio extension. `draft` and `scheduled` articles are visible only to their author. Default `published`.
                 * @enum {string}
                 */
                status?: "draft" | "published" | "scheduled";
                /**
                 * @description Folio extension. Who may read the body: `public` (anyone, default), `members` (signed-in), `paid` (see billing).
                 * @enum {string}
                 */
                visibility?: "public" | "members" | "paid";
                /**
                 * Format: date-time
                 * @description Folio extension: when a `scheduled` article is published (must be in the future).
                 * @example 2030-01-01T09:00:00.000Z
                 */
                publishAt?: string | null;
            };
        };
        /**
         * @description The tags in use.
         * @example {
         *       "tags": [
         *         "reactjs",
         *         "angularjs"
         *       ]
         *     }
         */
        TagsResponse: {
            /** @description Every tag carried by at least one published article, most used first. */
            tags: string[];
        };
        /**
         * @description One profile, with whether the viewer follows it.
         * @example {
         *       "profile": {
         *         "username": "jake",
         *         "bio": "I work at statefarm",
         *         "image": null,
         *         "following": false
         *       }
         *     }
         */
        ProfileResponse: {
            profile: components["schemas"]["Profile"];
        };
        /**
         * @description An article's comments.
         * @example {
         *       "comments": [
         *         {
         *           "id": 1,
         *           "createdAt": "2026-11-23T21:50:36.123Z",
         *           "updatedAt": "2026-11-23T21:50:36.123Z",
         *           "body": "It takes a Jacobian",
         *           "author": {
         *             "username": "jake",
         *             "bio": "I work at statefarm",
         *             "image": null,
         *             "following": false
         *           }
         *         }
         *       ]
         *     }
         */
        MultipleCommentsResponse: {
            /** @description Newest first. */
            comments: components["schemas"]["Comment"][];
        };
        /** @description A comment on an article. */
        Comment: {
            /** @description Comment id (an integer). */
            id: number;
            /**
             * Format: date-time
             * @description When it was written.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description Last change.
             */
            updatedAt: string;
            /** @description Text. */
            body: string;
            author: components["schemas"]["Profile"];
        };
        /**
         * @description One comment.
         * @example {
         *       "comment": {
         *         "id": 1,
         *         "createdAt": "2026-11-23T21:50:36.123Z",
         *         "updatedAt": "2026-11-23T21:50:36.123Z",
         *         "body": "It takes a Jacobian",
         *         "author": {
         *           "username": "jake",
         *           "bio": "I work at statefarm",
         *           "image": null,
         *           "following": false
         *         }
         *       }
         *     }
         */
        SingleCommentResponse: {
            comment: components["schemas"]["Comment"];
        };
        /**
         * @description A new comment on an article.
         * @example {
         *       "comment": {
         *         "body": "His name was my name too."
         *       }
         *     }
         */
        NewCommentRequest: {
            comment: {
                /**
                 * @description Text, 1–5000 characters.
                 * @example His name was my name too.
                 */
                body: string;
            };
        };
        /** @description JSON Web Key Set (RFC 7517) for verifying access tokens elsewhere. */
        JWKS: {
            /** @description Public Ed25519 keys (JWK), identified by `kid`. */
            keys: {
                [key: string]: string;
            }[];
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
