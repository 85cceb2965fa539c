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
         * @description Answers the user with a fresh access token and refresh token. Limited per IP and per account (429 with Retry-After). For an account with two-factor on, answers `{"mfaRequired": true, "mfaToken"}` instead of the user: complete the sign-in at POST /api/users/login/mfa.
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
                /** @description Signed in, or the second factor is required */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SignInResponse"];
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
    "/api/user/reauthenticate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Prove who you are again, for sensitive actions
         * @description Marks this session freshly authenticated for 10 minutes and returns a new access token. Accounts with two-factor on send a TOTP `code` or a `recoveryCode`; others send their `password`. Accounts with neither a password nor two-factor sign in again (social sign-in or passkey) instead. Failures count toward the login lockout.
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
                    "application/json": components["schemas"]["ReauthenticateRequest"];
                };
            };
            responses: {
                /** @description Re-authenticated */
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
         * @description Changing the password ends every session, this one included, and answers with a new token and refresh token (the old token is refused from then on); changing the email asks for a new confirmation. Both are sensitive: they need a sign-in or re-authentication within the last 10 minutes (with the second factor when two-factor is on), else 403 `reauthentication`.
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
                /** @description Not allowed */
                403: {
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
        /**
         * Delete your account
         * @description Requires your password again. Signs you out everywhere, deletes your comments, favorites, follows, drafts and uploads, cancels your paid membership at the gateway, turns your messages into tombstones and leaves your conversations, keeps your ledger rows for accounting without your name, and anonymises the account (username and email become free). Published articles stay, credited to the anonymised name. The row is hard-deleted after 30 days when no article is credited to it.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["DeleteAccountRequest"];
                };
            };
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
                /** @description The payment gateway failed (nothing was deleted) */
                502: {
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
    "/api/users/login/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Complete a sign-in with the second factor
         * @description After `POST /api/users/login` (or `POST /api/auth/exchange`) answered `{"mfaRequired": true, "mfaToken"}`: send the token with a current TOTP `code` or an unused `recoveryCode`. Wrong codes count toward the account lockout.
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
                    "application/json": components["schemas"]["LoginMfaRequest"];
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
    "/api/user/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Two-factor status
         * @description Whether two-factor is on, and how many recovery codes are left (regenerate before they run out).
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
                /** @description Status */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MfaStatusResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start TOTP enrolment
         * @description Returns a new secret and its `otpauth://` URI; confirm with POST /api/user/mfa/totp/verify. Sensitive: needs a sign-in or re-authentication (POST /api/user/reauthenticate) within the last 10 minutes, with the second factor when two-factor is on; otherwise 403 `reauthentication`.
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
                /** @description Secret to enrol */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TotpEnrolmentResponse"];
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
                /** @description Conflict */
                409: {
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
         * Turn two-factor off
         * @description Removes the authenticator and every recovery code. Sensitive: needs a sign-in or re-authentication (POST /api/user/reauthenticate) within the last 10 minutes, with the second factor when two-factor is on; otherwise 403 `reauthentication`.
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
                /** @description Two-factor is off */
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
    "/api/user/mfa/totp/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Turn two-factor on with a first code
         * @description Activates the authenticator, returns ten recovery codes (shown once) and a new access token for this session, now two-factor. Every other session of the account is signed out.
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
                    "application/json": components["schemas"]["TotpVerifyRequest"];
                };
            };
            responses: {
                /** @description Two-factor is on */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TotpActivatedResponse"];
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
    "/api/user/mfa/recovery-codes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Replace the recovery codes
         * @description Ten new codes (shown once); every earlier code stops working. Sensitive: needs a sign-in or re-authentication (POST /api/user/reauthenticate) within the last 10 minutes, with the second factor when two-factor is on; otherwise 403 `reauthentication`.
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
                /** @description New codes */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RecoveryCodesResponse"];
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
    "/api/auth/providers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Configured social sign-in providers
         * @description Public: what the sign-in page shows a button for. Start one with GET /api/auth/{provider}/start.
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
                /** @description Providers */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ProvidersResponse"];
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
    "/api/auth/{provider}/start": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Start a social sign-in (302 to the provider)
         * @description Navigate the browser here. After the provider, the browser returns to `redirectTo` with `?code=` (trade it at POST /api/auth/exchange) or `?error=` (a neutral code).
         */
        get: {
            parameters: {
                query: {
                    /** @description Front-end URL to return to; its origin must be listed in AUTH_REDIRECT_ORIGINS. */
                    redirectTo: string;
                };
                header?: never;
                path: {
                    /** @description A provider `id` from GET /api/auth/providers. */
                    provider: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Redirect to the provider */
                302: {
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
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/{provider}/callback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Provider callback (302 back to the front end)
         * @description The provider sends the browser here. It answers a redirect to the front end with `?code=` for a sign-in, `?linked=<provider>` for a link, or `?error=` (`access_denied`, `invalid_request`, `expired`, `provider_error`, `email_required`, `account_exists`, `identity_in_use`). Never a token in the URL.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Set by Folio at start, echoed by the provider. */
                    state?: string;
                    /** @description The provider's authorization code. */
                    code?: string;
                    /** @description An OAuth error from the provider. */
                    error?: string;
                };
                header?: never;
                path: {
                    /** @description A provider `id` from GET /api/auth/providers. */
                    provider: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Redirect to the front end */
                302: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
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
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/auth/exchange": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Trade the one-time code from the callback for a session
         * @description Single use, valid 2 minutes. Answers the user (with access and refresh tokens), or `{"mfaRequired": true, "mfaToken"}` for an account with two-factor on.
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
                    "application/json": components["schemas"]["ExchangeCodeRequest"];
                };
            };
            responses: {
                /** @description Signed in, or the second factor is required */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SignInResponse"];
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
    "/api/user/identities": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Social identities linked to your account
         * @description Oldest first; unlink one with DELETE /api/user/identities/{id}.
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
                /** @description Identities */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["IdentitiesResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/identities/{provider}/link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Link a social identity to your account
         * @description Returns the provider URL to send the browser to; the callback links the identity and returns to `redirectTo` with `?linked=<provider>` (or `?error=identity_in_use`). Sensitive: needs a recent sign-in (with the second factor when two-factor is on).
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description A provider `id` from GET /api/auth/providers. */
                    provider: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["LinkIdentityRequest"];
                };
            };
            responses: {
                /** @description Where to send the browser */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AuthorizationUrlResponse"];
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
    "/api/user/identities/{id}": {
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
         * Unlink a social identity
         * @description Refused (422) when it would leave the account with no way to sign in (no password, no other identity, no passkey). Sensitive: needs a recent sign-in (with the second factor when two-factor is on).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description An identity `id` from GET /api/user/identities. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unlinked */
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
    "/api/user/passkeys/registration-options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Options to register a passkey
         * @description Pass to `navigator.credentials.create()`, then POST the result to /api/user/passkeys. Sensitive: needs a recent sign-in (with the second factor when two-factor is on).
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
                /** @description Creation options */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebAuthnOptions"];
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
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/passkeys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your passkeys
         * @description Oldest first, with when each was last used to sign in.
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
                /** @description Passkeys */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PasskeysResponse"];
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
        /**
         * Register a passkey
         * @description Accepts an `Idempotency-Key` header: a retried registration replays the first response.
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
                    "application/json": components["schemas"]["RegisterPasskeyRequest"];
                };
            };
            responses: {
                /** @description Registered */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PasskeyResponse"];
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
    "/api/user/passkeys/{id}": {
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
         * Remove a passkey
         * @description Refused (422) when it is the last way to sign in. Sensitive: needs a recent sign-in (with the second factor when two-factor is on).
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description A passkey `id` from GET /api/user/passkeys. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
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
    "/api/users/passkeys/authentication-options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Options to sign in with a passkey
         * @description Usernameless: pass to `navigator.credentials.get()`, then POST the result to /api/users/login/passkey.
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
                /** @description Request options */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebAuthnOptions"];
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
    "/api/users/login/passkey": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Sign in with a passkey
         * @description A passkey sign-in is a two-factor session (`aal` 2): no second step, even with two-factor on.
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
                    "application/json": components["schemas"]["PasskeyLoginRequest"];
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
    "/api/articles/feed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Articles by followed authors, newest first
         * @description Published articles of the users you follow, as list items (no `body`). Paged with `limit`/`offset`, or (Folio extension) with `before` = the previous page's `nextBefore`: a cursor page costs the same at any depth and neither skips nor repeats articles published while the reader scrolls. `articlesCount` is the total. Answers 304 to a matching `If-None-Match`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description Articles to skip (default 0). */
                    offset?: number;
                    /** @description Folio extension: the `nextBefore` of the previous page. The page starts with the next older article, whatever was published meanwhile; `offset` counts from there. Published lists only (not with `q` or `status`). */
                    before?: string;
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
         * @description Filters combine. `articlesCount` is the total number of matches. Items have no `body`. Folio extensions: `q` (full-text search), `status=draft|scheduled` (your own, needs a token), `before` (cursor pages of published lists: pass the previous page's `nextBefore`).
         */
        get: {
            parameters: {
                query?: {
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description Articles to skip (default 0). */
                    offset?: number;
                    /** @description Folio extension: the `nextBefore` of the previous page. The page starts with the next older article, whatever was published meanwhile; `offset` counts from there. Published lists only (not with `q` or `status`). */
                    before?: string;
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
         * @description Answers 201 with the article. The slug comes from the title (made unique, so duplicate titles are fine). Folio extensions: `status` (draft, scheduled with `publishAt`) and `visibility`. Needs the permission `publish:article` (every member, unless ONLY_AUTHORS_PUBLISH=true: then authors, editors and admins). At most ARTICLE_CREATE_LIMIT_PER_HOUR (30) new articles per account per hour, drafts included: then 429 with `Retry-After`.
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
                /** @description Not allowed */
                403: {
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
         * Update an article (its author, or an editor)
         * @description A new title gives a new slug. Omitting `tagList` keeps the tags, `[]` clears them. Editors and admins (permission `edit:any-article`) may update any article they can read; that is audited (`article.update`) when it is someone else's.
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
         * Delete an article (its author, or an editor), with its comments and favorites
         * @description Answers 204 with no body. The author may delete their article; editors and admins (permission `delete:any-article`) may delete any article they can read, for moderation — audited (`article.delete`) when it is someone else's. Anyone else: 403 (404 when they cannot read it). Sends `article.deleted` for a published article.
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
         * @description Answers the whole article with `favorited: true` and the new `favoritesCount`. Favorites and unfavorites together: at most 300 an hour per account (429 with `Retry-After`).
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
        /**
         * Unfavorite an article (idempotent)
         * @description Answers the whole article with `favorited: false` and the new `favoritesCount`. Favorites and unfavorites together: at most 300 an hour per account (429 with `Retry-After`).
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
         * @description Idempotent. Following yourself answers 422. Follows and unfollows together: at most 200 an hour per account (429 with `Retry-After`).
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
        /**
         * Unfollow a user
         * @description Idempotent: unfollowing someone you do not follow is not an error. Follows and unfollows together: at most 200 an hour per account (429 with `Retry-After`).
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
         * @description Requires read access to the article; banned members get 403 `user`. Limited per user (see 429 and Retry-After).
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
    "/api/articles/{slug}/comments/{id}/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report a comment to the moderators
         * @description Reporting the same comment again is harmless (200 with the first report). 20 reports an hour per member.
         */
        post: {
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
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ReportCommentRequest"];
                };
            };
            responses: {
                /** @description Reported */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CommentReportResponse"];
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
    "/api/admin/users": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List and search accounts (newest first)
         * @description Permission `read:users`. `q` matches a username or email prefix. Keyset pagination with `cursor`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Prefix of the username or email */
                    q?: string;
                    /** @description Only accounts with this role. */
                    role?: "member" | "author" | "editor" | "admin";
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description `nextCursor` of the previous page */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of accounts */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminUserList"];
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
    "/api/admin/users/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One account
         * @description Permission `read:users`. With the number of active sessions and articles.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The account */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminUserDetail"];
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
    "/api/admin/users/{id}/role": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Set an account's role
         * @description Permission `manage:roles`. Revokes the account's sessions so the new role applies at once (other locations: within ~60 s). Your own role and the last admin's cannot change.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["SetRoleRequest"];
                };
            };
            responses: {
                /** @description Updated */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminUserResponse"];
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
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/users/{id}/ban": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Ban an account
         * @description Permission `ban:user`. Blocks login and commenting, and revokes every session. `until` omitted or null: permanent.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["BanRequest"];
                };
            };
            responses: {
                /** @description Banned */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminUserResponse"];
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
        /**
         * Lift a ban
         * @description Permission `ban:user`. The member can sign in again at once. Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Unbanned */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminUserResponse"];
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
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/users/{id}/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An account's active sessions
         * @description Permission `manage:sessions`. Newest first.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Active sessions */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminSessions"];
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
            };
        };
        put?: never;
        post?: never;
        /**
         * Revoke all of an account's sessions
         * @description Permission `manage:sessions`. Signs the account out everywhere. Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description How many were revoked */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminRevoked"];
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
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/users/{id}/sessions/{sessionId}": {
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
         * Revoke one of an account's sessions
         * @description Permission `manage:sessions`. Its KV copy is deleted (other locations: within ~60 s). Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                    /** @description The session id (from the account’s session list). */
                    sessionId: string;
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
    "/api/admin/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The comment reports queue
         * @description Permission `moderate:comment` (editors and admins). Oldest first; `cursor` is `nextCursor`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Which reports (default open). */
                    status?: "open" | "resolved";
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description `nextCursor` of the previous page. */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Reports */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ReportList"];
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
    "/api/admin/reports/{id}/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resolve a report
         * @description Permission `moderate:comment`. Resolving twice changes nothing. Audited.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The report id. */
                    id: number;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ResolveReportRequest"];
                };
            };
            responses: {
                /** @description Resolved */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ResolvedReport"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/comments/{id}/hide": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Hide a comment (only its author still sees it)
         * @description Permission `moderate:comment`. The comment disappears from the list for everyone but its author. Audited.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The comment id. */
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The comment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CommentVisibility"];
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
        /**
         * Show a hidden comment again
         * @description Permission `moderate:comment`. The comment is listed for everyone again. Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The comment id. */
                    id: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The comment */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CommentVisibility"];
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
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/message-reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The message reports queue
         * @description Permission `moderate:message` (editors and admins). Reports members filed on messages, with the body as reported. Oldest first; `cursor` is `nextCursor`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Which reports (default open). */
                    status?: "open" | "resolved";
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description `nextCursor` of the previous page. */
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Reports */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessageReportList"];
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
    "/api/admin/message-reports/{id}/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Resolve a message report
         * @description Permission `moderate:message`. Resolving twice changes nothing. Audited.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The message report id (`rpt_...`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ResolveReportRequest"];
                };
            };
            responses: {
                /** @description Resolved */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ResolvedMessageReport"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/messages/{id}": {
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
         * Remove a message
         * @description Permission `moderate:message`. The same tombstone as the sender's delete: the body goes for every participant, the conversation stays coherent (preview, unread counts), connected participants get `message.deleted`. Removing twice changes nothing. Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The message id (`msg_...`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Removed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RemovedMessage"];
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
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit log, newest first
         * @description Permission `read:audit`. Filter by `targetType` and `targetId`; `cursor` is `nextCursor`.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description `nextCursor` of the previous page. */
                    cursor?: string;
                    /** @description Only entries about this kind of target (user, comment, comment_report, webhook). */
                    targetType?: string;
                    /** @description Only entries about this target id. */
                    targetId?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Entries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AuditLog"];
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
    "/api/media": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Upload an image
         * @description The raw image bytes are the request body (not multipart). JPEG, PNG, GIF, WebP and AVIF are recognised by their content; the declared type and any file name are ignored. At most MEDIA_MAX_BYTES (10 MB by default) per file, MEDIA_QUOTA_BYTES per member, 30 uploads an hour.
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
                    "application/octet-stream": string;
                };
            };
            responses: {
                /** @description Stored */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MediaResponse"];
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
                /** @description Body too large */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description Unsupported media type */
                415: {
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
    "/api/media/{id}": {
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
         * Delete one of your uploads
         * @description Someone else's upload answers 404. Copies already cached by browsers or CDNs may live on.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The upload id. */
                    id: string;
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
    "/api/admin/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Webhook endpoints
         * @description Permission `manage:webhooks`. Newest first; secrets are never listed.
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
                /** @description Endpoints */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookList"];
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
            };
        };
        put?: never;
        /**
         * Register an endpoint
         * @description Answers with the signing secret, shown only here and on rotation. In production the URL must be https on the default port with a public host name (no IP literals, no localhost).
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
                    "application/json": components["schemas"]["NewWebhookRequest"];
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookResponse"];
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
    "/api/admin/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One endpoint
         * @description Permission `manage:webhooks`. Includes its failure count and why it was disabled, if it was.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The endpoint id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The endpoint */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookResponse"];
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
            };
        };
        /**
         * Update an endpoint
         * @description Permission `manage:webhooks`. Re-enabling resets its failure count; its pending deliveries resume. Audited.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The endpoint id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["UpdateWebhookRequest"];
                };
            };
            responses: {
                /** @description Updated */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookResponse"];
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
         * Delete an endpoint and its delivery log
         * @description Permission `manage:webhooks`. Pending deliveries are dropped. Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The endpoint id. */
                    id: string;
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
    "/api/admin/webhooks/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Rotate the signing secret
         * @description Returns the new secret once. For 24 hours every delivery is signed with both secrets.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The endpoint id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description New secret */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookResponse"];
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
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/webhooks/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a test event now
         * @description Delivers a `webhook.test` event to this endpoint at once and answers with the delivery.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The endpoint id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The attempt */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookDeliveryResponse"];
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
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An endpoint's delivery log, newest first
         * @description Permission `manage:webhooks`. Each delivery with its status, attempts, last HTTP status and error.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                    /** @description `nextCursor` of the previous page. */
                    cursor?: string;
                };
                header?: never;
                path: {
                    /** @description The endpoint id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Deliveries */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["WebhookDeliveries"];
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
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download everything Folio holds about you (JSON)
         * @description Profile, articles (drafts included), comments, favorites, follows, sessions, uploads and reports you filed. Once a day (429 with Retry-After otherwise).
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
                /** @description The archive */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["DataExport"];
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
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/conversations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List your conversations, newest activity first
         * @description Cursor pagination with `before` (a conversation `cursor`). Answers `ETag` from your inbox version: send it back in `If-None-Match` to get 304 for the cost of one single-row read when nothing changed (a changed inbox comes back in the same round trip).
         */
        get: {
            parameters: {
                query?: {
                    /** @description A conversation `cursor` from the previous page: the next (older) page. */
                    before?: string;
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of conversations */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConversationsResponse"];
                    };
                };
                /** @description Not modified (your inbox has not changed) */
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
         * Start a conversation (1:1 or group)
         * @description One other member makes a 1:1, more make a group (at most MESSAGE_MAX_PARTICIPANTS besides you). Starting a 1:1 that exists returns it (200, same id). Requires a verified email; refused (403, neutral) when a block stands either way or an invitee’s dmPolicy does not admit you.
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
                    "application/json": components["schemas"]["NewConversationRequest"];
                };
            };
            responses: {
                /** @description The existing 1:1 */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConversationResponse"];
                    };
                };
                /** @description Started */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConversationResponse"];
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
    "/api/conversations/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Get a conversation
         * @description Non-participants (and members who left) get 404, never 403.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The conversation */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConversationResponse"];
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
         * Rename a group conversation
         * @description Any participant may rename a group; `null` clears the title. Non-participants (and members who left) get 404, never 403.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ConversationTitleRequest"];
                };
            };
            responses: {
                /** @description Renamed */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConversationResponse"];
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
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/conversations/{id}/leave": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Leave a conversation
         * @description History stays for the others; you stop receiving and the conversation answers 404 for you. Non-participants (and members who left) get 404, never 403.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Left */
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/conversations/{id}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List messages
         * @description Newest first by default; `before` pages back, `after` catches up (oldest first). Cursors are message ids (exclusive). Non-participants (and members who left) get 404, never 403.
         */
        get: {
            parameters: {
                query?: {
                    /** @description A message id: the page of messages before it (exclusive), newest first. */
                    before?: string;
                    /** @description A message id: the messages after it (exclusive), oldest first (catching up). */
                    after?: string;
                    /** @description Page size, 1–100 (default 20). */
                    limit?: number;
                };
                header?: never;
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description A page of messages */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessagesResponse"];
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
        put?: never;
        /**
         * Send a message
         * @description 201 with the new message; a retry with the same `clientId` answers 200 with the first one. A block between you and another participant (either way) answers a neutral 403. Rate limited per sender (429 with Retry-After). Non-participants (and members who left) get 404, never 403.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Optional. 1-255 printable characters, e.g. a UUID. The same key with the same request within 24 h replays the first response (`Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the first is in flight: 409. */
                    "idempotency-key"?: string;
                };
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["NewMessageRequest"];
                };
            };
            responses: {
                /** @description Already sent (same clientId) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessageResponse"];
                    };
                };
                /** @description Sent */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessageResponse"];
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
    "/api/conversations/{id}/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Move your read marker
         * @description The marker never moves backwards; your unread count is recounted. Non-participants (and members who left) get 404, never 403.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["ReadMarkerRequest"];
                };
            };
            responses: {
                /** @description The conversation with your new unread count */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ConversationResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/conversations/{id}/messages/{messageId}": {
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
         * Delete your message
         * @description The body is removed and a tombstone stays, so the thread stays coherent. Idempotent. Someone else's message: 403. Non-participants (and members who left) get 404, never 403.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                    /** @description The message's `id` (e.g. `msg_…`). */
                    messageId: string;
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
    "/api/conversations/{id}/messages/{messageId}/report": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Report a message to the moderators
         * @description One report per member and message (a repeat answers 200 with the first). The body is kept as reported. Non-participants (and members who left) get 404, never 403.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Optional. 1-255 printable characters, e.g. a UUID. The same key with the same request within 24 h replays the first response (`Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the first is in flight: 409. */
                    "idempotency-key"?: string;
                };
                path: {
                    /** @description The conversation's `id` (random, e.g. `cnv_…`). */
                    id: string;
                    /** @description The message's `id` (e.g. `msg_…`). */
                    messageId: string;
                };
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": components["schemas"]["MessageReportRequest"];
                };
            };
            responses: {
                /** @description Already reported */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessageReportResponse"];
                    };
                };
                /** @description Reported */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessageReportResponse"];
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
    "/api/profiles/{username}/block": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Block a member
         * @description Idempotent. Stops new conversations and new messages between you, in either direction, in every shared conversation. History stays readable.
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
                /** @description Blocked */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BlockResponse"];
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
         * Unblock a member
         * @description Idempotent.
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
                /** @description Unblocked */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BlockResponse"];
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
    "/api/user/blocks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Members you blocked
         * @description Newest block first (at most 1000).
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
                /** @description Blocked members, newest block first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ProfilesResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/messaging": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your messaging settings
         * @description Currently `dmPolicy`: who may start a conversation with you.
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
                /** @description Settings */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessagingSettingsResponse"];
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
         * Set who may start conversations with you
         * @description `dmPolicy`: `everyone` (default), `following` (only people you follow) or `nobody`. Existing conversations are not affected (use blocks for that).
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
                    "application/json": components["schemas"]["MessagingSettingsRequest"];
                };
            };
            responses: {
                /** @description Saved */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MessagingSettingsResponse"];
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
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/realtime/ticket": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Get a WebSocket ticket
         * @description Browsers cannot send Authorization on a WebSocket: open `GET /api/realtime?ticket=...` within 60 seconds. Single use; the socket belongs to the session that asked (revoking it closes the socket).
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
                /** @description A ticket */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RealtimeTicketResponse"];
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
    "/api/realtime": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Open the real-time WebSocket
         * @description Upgrade with a ticket from POST /api/realtime/ticket (checked and consumed before the upgrade). Server events, as JSON text frames: `ready`, `message.created`, `message.deleted`, `conversation.read`, `conversation.updated`; send `{"type":"ping"}` for `{"type":"pong"}`. Closed with code 4001 when the session is revoked. Catch up after a reconnect with GET /api/conversations/{id}/messages?after=<last id>.
         */
        get: {
            parameters: {
                query?: {
                    /** @description From POST /api/realtime/ticket; single use. */
                    ticket?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Switching protocols (WebSocket) */
                101: {
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
                /** @description Not a WebSocket upgrade request */
                426: {
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
    "/api/tiers": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Membership tiers on offer (public)
         * @description Active tiers with monthly and yearly prices. No authentication.
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
                /** @description Active tiers, cheapest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TiersResponse"];
                    };
                };
            };
        };
        put?: never;
        /**
         * Create a membership tier (publication admins)
         * @description Admins are the usernames in ADMIN_USERNAMES until roles exist; anyone else gets 403.
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
                    "application/json": components["schemas"]["NewTierRequest"];
                };
            };
            responses: {
                /** @description Created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TierResponse"];
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
    "/api/billing/checkout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a checkout: a membership, one paid article, or a tip
         * @description Returns the gateway checkout page to send the browser to. Access is granted only when the gateway confirms the payment (webhook), never by the return URL. The same open checkout, or a retry with the same `Idempotency-Key`, returns the same session.
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
                    "application/json": components["schemas"]["CheckoutRequest"];
                };
            };
            responses: {
                /** @description The checkout already open for this purchase */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CheckoutResponse"];
                    };
                };
                /** @description A new checkout session */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CheckoutResponse"];
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
                /** @description The payment gateway failed */
                502: {
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
    "/api/billing/portal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * The gateway's customer portal (manage card, cancel)
         * @description A URL of the gateway's customer portal for the signed-in member. 404 `customer` before the first checkout.
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
                /** @description Portal URL */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["UrlResponse"];
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
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description The payment gateway failed */
                502: {
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
    "/api/billing/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Stripe webhook endpoint (public; Stripe-Signature verified over the raw body)
         * @description Bad, absent or stale signature → 400 and nothing changes. Unknown event types and duplicate deliveries → 200 with no effect.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Stripe-Signature: `t=<unix time>,v1=<HMAC-SHA256>` (one or more v1). */
                    "stripe-signature"?: string;
                };
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Accepted */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StripeWebhookAck"];
                    };
                };
                /** @description Malformed request (e.g. invalid JSON) */
                400: {
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
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/membership": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your membership (null if none)
         * @description Tier, status, interval, current period end, cancel-at-period-end and whether the status grants access.
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
                /** @description Membership */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MembershipResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/user/membership/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Cancel at the end of the paid period
         * @description Goes through the gateway; access is kept until the period ends. No membership → 404; not active (or not cancelled, for resume) → 422.
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
                /** @description Membership */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MembershipResponse"];
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
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description The payment gateway failed */
                502: {
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
    "/api/user/membership/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Undo a cancellation before the period ends
         * @description Goes through the gateway; access is kept until the period ends. No membership → 404; not active (or not cancelled, for resume) → 422.
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
                /** @description Membership */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["MembershipResponse"];
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
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description The payment gateway failed */
                502: {
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
    "/api/user/payments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your payments and refunds, newest first
         * @description Rows of the immutable ledger for the signed-in user: membership payments, article purchases, tips, and refunds (negative).
         */
        get: {
            parameters: {
                query?: {
                    /** @description Rows per page, 1–100 (default 20). */
                    limit?: number;
                    /** @description Rows to skip (default 0). */
                    offset?: number | null;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Ledger rows */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["PaymentsResponse"];
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
    "/api/billing/earnings": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your earnings as an author: tips and article sales per month
         * @description Totals per month (UTC) and currency for the signed-in author, refunds and platform fees included.
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
                /** @description Totals per month and currency, newest first */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["EarningsResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/billing/payments/{id}/refund": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Refund a payment, fully or partly (publication admins)
         * @description Goes through the gateway; the refund row is written when the gateway reports it (charge.refunded). A full refund of an article purchase revokes it.
         */
        post: {
            parameters: {
                query?: never;
                header?: {
                    /** @description Optional. 1-255 printable characters, e.g. a UUID. The same key with the same request within 24 h replays the first response (`Idempotent-Replayed: true`) without a second effect; with a different request: 422; while the first is in flight: 409. */
                    "idempotency-key"?: string;
                };
                path: {
                    /** @description Ledger row id of the payment. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["RefundRequest"];
                };
            };
            responses: {
                /** @description Refund created at the gateway */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RefundResponse"];
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
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description The payment gateway failed */
                502: {
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
    "/api/billing/checkout/{id}/sync": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Settle your checkout from the gateway now (for the success page)
         * @description Re-reads the session from the gateway and, when paid, applies it exactly as the webhook does (idempotent), so the success page need not wait for the event. Someone else's checkout → 404.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Checkout session id (from `POST /api/billing/checkout`). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The checkout status after the sync */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CheckoutStatusResponse"];
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
                /** @description Too many requests; see Retry-After */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["GenericErrorModel"];
                    };
                };
                /** @description The payment gateway failed */
                502: {
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
    "/api/tiers/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Update a tier: name, texts, prices, `active` (publication admins)
         * @description New prices apply to checkouts started afterwards; running subscriptions keep their price.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Tier id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["UpdateTierRequest"];
                };
            };
            responses: {
                /** @description Updated */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TierResponse"];
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/admin/users/{id}/membership": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Grant a complimentary membership
         * @description Permission `manage:memberships`. Grants (or extends) an active membership on the tier until `until`, without payment; it ends then (billing cron). A member paying through the gateway → 409 (cancel first). Audited.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompMembershipRequest"];
                };
            };
            responses: {
                /** @description The membership */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminMembershipResponse"];
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
            };
        };
        post?: never;
        /**
         * End a member's membership now
         * @description Permission `manage:memberships`. A paid membership is cancelled at the gateway immediately (no refund: refund the payment separately); a complimentary one ends locally. No membership with access → 404. Audited.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The account id (`id` in the admin user list). */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The membership, cancelled */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["AdminMembershipResponse"];
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
                /** @description The payment gateway failed */
                502: {
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
    "/api/admin/revenue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Revenue figures
         * @description Permission `read:revenue`. Per month and currency from the ledger (payments, refunds, memberships, tips, article sales, fees, net), MRR from paid memberships, and members per tier. One round trip.
         */
        get: {
            parameters: {
                query?: {
                    /** @description How many calendar months (UTC), this one included (1–36, default 12). */
                    months?: number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Revenue */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RevenueResponse"];
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
    "/media/{key}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An uploaded image
         * @description Served with `Cache-Control: public, max-age=31536000, immutable`: keys are never reused.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description The key from the upload’s URL. */
                    key: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The image */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/*": string;
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
    "/billing/test-checkout/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Test checkout page: amount, plan, Pay and Decline
         * @description Plain HTML page the test gateway's checkout URL points to. 404 unless GATEWAY=test.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Checkout session id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description HTML page */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/html": string;
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
    "/billing/test-checkout/{id}/pay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pay: the fake takes the payment and delivers Stripe's events to the webhook handler
         * @description Creates the payment (and the subscription, if any) in the fake gateway, delivers the signed events in process to the real webhook receiver, then redirects to the success URL. A checkout no longer open → 422.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Checkout session id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Redirect to the success URL (after the events were delivered) */
                303: {
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/billing/test-checkout/{id}/decline": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Decline: no payment; back to the cancel URL (the session stays open until it expires)
         * @description Nothing is charged and no event is sent.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Checkout session id. */
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Redirect to the cancel URL */
                303: {
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/billing/test-portal/{customer}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Test customer portal: the customer's subscriptions, cancel or resume
         * @description What `POST /api/billing/portal` points to with GATEWAY=test.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Gateway customer id. */
                    customer: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description HTML page */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/html": string;
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
    "/billing/test-portal/{customer}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Portal: cancel at period end
         * @description Updates the subscription in the fake gateway and delivers `customer.subscription.updated`.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Gateway customer id. */
                    customer: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Back to the portal page */
                303: {
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/billing/test-portal/{customer}/resume": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Portal: resume
         * @description Updates the subscription in the fake gateway and delivers `customer.subscription.updated`.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    /** @description Gateway customer id. */
                    customer: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Back to the portal page */
                303: {
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
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/billing/test-gateway/advance": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Move gateway time forward: renewals, failed payments and retries, cancellations at period end
         * @description Runs what falls due, in time order, and delivers the resulting events. Renewals fail while `failNextRenewal` is on (retried every 3 days, canceled after 4 attempts).
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
                    "application/json": components["schemas"]["TestGatewayAdvanceRequest"];
                };
            };
            responses: {
                /** @description Gateway time after the move, subscriptions processed and events delivered */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TestGatewayAdvanceResponse"];
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
    "/billing/test-gateway/clock": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Current gateway time
         * @description Real time plus all advances so far.
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
                /** @description Gateway time */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["TestGatewayClockResponse"];
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
        /** @description Either `{"user"}` (signed in) or `{"mfaRequired": true, "mfaToken"}` (two-factor on: one more step). */
        SignInResponse: components["schemas"]["UserResponse"] | components["schemas"]["MfaRequiredResponse"];
        /**
         * @description The first factor passed on an account with two-factor on: send a code to POST /api/users/login/mfa.
         * @example {
         *       "mfaRequired": true,
         *       "mfaToken": "dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBhbiBleGFtcGxl"
         *     }
         */
        MfaRequiredResponse: {
            /**
             * @description Always true: the second factor is needed.
             * @enum {boolean}
             */
            mfaRequired: true;
            /**
             * @description Single-use handle for POST /api/users/login/mfa, valid 5 minutes. Not an access token.
             * @example dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBhbiBleGFtcGxl
             */
            mfaToken: string;
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
         * @description Proof of identity for sensitive actions: `password`, or `code` / `recoveryCode` with two-factor on.
         * @example {
         *       "password": "correct horse battery"
         *     }
         */
        ReauthenticateRequest: {
            /**
             * @description The 6-digit code the authenticator app shows now.
             * @example 123456
             */
            code?: string;
            /**
             * @description One of the ten recovery codes (single use; case and dashes ignored).
             * @example k3m9-x2pq-7hrt-0vwa
             */
            recoveryCode?: string;
            /** @description The account password (accounts without two-factor). */
            password?: string;
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
         * @description Completes a sign-in: the `mfaToken` with either a TOTP `code` or a `recoveryCode`.
         * @example {
         *       "mfaToken": "dGhpcyBpcyBub3QgYSByZWFsIHRva2VuIGJ1dCBhbiBleGFtcGxl",
         *       "code": "123456"
         *     }
         */
        LoginMfaRequest: {
            /**
             * @description The 6-digit code the authenticator app shows now.
             * @example 123456
             */
            code?: string;
            /**
             * @description One of the ten recovery codes (single use; case and dashes ignored).
             * @example k3m9-x2pq-7hrt-0vwa
             */
            recoveryCode?: string;
            /** @description From the login answer. */
            mfaToken: string;
        };
        /** @description The account's two-factor state. */
        MfaStatusResponse: {
            /** @description Whether two-factor (TOTP) is on. */
            totp: boolean;
            /** @description Unused recovery codes. */
            recoveryCodesLeft: number;
        };
        /** @description A new TOTP secret, inactive until POST /api/user/mfa/totp/verify confirms a code. */
        TotpEnrolmentResponse: {
            /** @description Base32 secret, for typing into an authenticator app. */
            secret: string;
            /** @description `otpauth://` URI: draw it as a QR code. */
            uri: string;
        };
        /**
         * @description Two-factor is on: a new token for this (now two-factor) session and the recovery codes.
         * @example {
         *       "user": {
         *         "email": "jake@jake.jake",
         *         "token": "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJl",
         *         "username": "jake",
         *         "bio": null,
         *         "image": null,
         *         "emailVerified": true
         *       },
         *       "recoveryCodes": [
         *         "k3m9-x2pq-7hrt-0vwa"
         *       ]
         *     }
         */
        TotpActivatedResponse: components["schemas"]["UserResponse"] & {
            /** @description Ten single-use recovery codes, shown this once: ask the user to store them. */
            recoveryCodes: string[];
        };
        /**
         * @description The first code from the newly enrolled app.
         * @example {
         *       "code": "123456"
         *     }
         */
        TotpVerifyRequest: {
            /**
             * @description The 6-digit code the authenticator app shows now.
             * @example 123456
             */
            code: string;
        };
        /** @description New recovery codes; every earlier code no longer works. */
        RecoveryCodesResponse: {
            /** @description Ten single-use recovery codes, shown this once: ask the user to store them. */
            recoveryCodes: string[];
        };
        /** @description The configured social sign-in providers. */
        ProvidersResponse: {
            /** @description In configuration order. */
            providers: {
                /** @description Use in /api/auth/{provider}/start. */
                id: string;
                /** @description Display name for the button. */
                name: string;
                /**
                 * @description OpenID Connect issuer or GitHub.
                 * @enum {string}
                 */
                type: "oidc" | "github";
            }[];
        };
        /**
         * @description Trades the one-time code from the social sign-in callback (single use, 2 minutes).
         * @example {
         *       "code": "Q2hhbmdlIG1lOiB0aGlzIGlzIGFuIGV4YW1wbGUgY29kZQ"
         *     }
         */
        ExchangeCodeRequest: {
            /** @description The `code` query parameter the callback redirected to the front end with. */
            code: string;
        };
        /** @description Social identities linked to the account. */
        IdentitiesResponse: {
            /** @description Oldest first. */
            identities: {
                /** @description Identity id (use it to unlink). */
                id: string;
                /** @description Provider id. */
                provider: string;
                /** @description The email the provider reported, if any. */
                email: string | null;
                /**
                 * Format: date-time
                 * @description When it was linked.
                 */
                createdAt: string;
                /**
                 * Format: date-time
                 * @description Its last sign-in, if any.
                 */
                lastUsedAt: string | null;
            }[];
        };
        /** @description The provider URL that starts the link. */
        AuthorizationUrlResponse: {
            /** @description Send the browser here (a full-page navigation). */
            authorizationUrl: string;
        };
        /**
         * @description Where the browser returns after the provider (with `?linked=<provider>` or `?error=`).
         * @example {
         *       "redirectTo": "http://localhost:3000/settings"
         *     }
         */
        LinkIdentityRequest: {
            /**
             * @description Front-end URL to return to; its origin must be listed in AUTH_REDIRECT_ORIGINS.
             * @example http://localhost:3000/auth/callback
             */
            redirectTo: string;
        };
        /** @description PublicKeyCredential creation/request options as JSON: pass to the browser (challenge valid 5 minutes). */
        WebAuthnOptions: {
            [key: string]: unknown;
        };
        /** @description The passkey just registered. */
        PasskeyResponse: {
            passkey: components["schemas"]["Passkey"];
        };
        /** @description A registered passkey. */
        Passkey: {
            /** @description Credential id (use it to remove the passkey). */
            id: string;
            /** @description Its label. */
            name: string;
            /**
             * Format: date-time
             * @description When it was registered.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description Its last sign-in, if any.
             */
            lastUsedAt: string | null;
        };
        /** @description The JSON of what `navigator.credentials.create()` returned, with an optional name. */
        RegisterPasskeyRequest: {
            /**
             * @description A label for the list (default "Passkey").
             * @example MacBook Touch ID
             */
            name?: string;
            response: {
                /** @description Credential id, base64url. */
                id: string;
                /** @description Credential id, base64url (same as `id`). */
                rawId: string;
                /**
                 * @description Always `public-key`.
                 * @enum {string}
                 */
                type: "public-key";
                /**
                 * @description Extension outputs from the browser.
                 * @default {}
                 */
                clientExtensionResults: {
                    [key: string]: unknown;
                };
                /**
                 * @description Built-in or roaming authenticator.
                 * @enum {string}
                 */
                authenticatorAttachment?: "platform" | "cross-platform";
                response: {
                    /** @description Client data, base64url. */
                    clientDataJSON: string;
                    /** @description Attestation object (CBOR), base64url. */
                    attestationObject: string;
                    /** @description How the authenticator can be reached (usb, nfc, ble, internal, hybrid). */
                    transports?: string[];
                };
            };
        };
        /** @description The account's passkeys. */
        PasskeysResponse: {
            passkeys: components["schemas"]["Passkey"][];
        };
        /** @description The JSON of what `navigator.credentials.get()` returned. */
        PasskeyLoginRequest: {
            response: {
                /** @description Credential id, base64url. */
                id: string;
                /** @description Credential id, base64url (same as `id`). */
                rawId: string;
                /**
                 * @description Always `public-key`.
                 * @enum {string}
                 */
                type: "public-key";
                /**
                 * @description Extension outputs from the browser.
                 * @default {}
                 */
                clientExtensionResults: {
                    [key: string]: unknown;
                };
                /**
                 * @description Built-in or roaming authenticator.
                 * @enum {string}
                 */
                authenticatorAttachment?: "platform" | "cross-platform";
                response: {
                    /** @description Client data, base64url. */
                    clientDataJSON: string;
                    /** @description Authenticator data, base64url. */
                    authenticatorData: string;
                    /** @description Assertion signature, base64url. */
                    signature: string;
                    /** @description The user handle stored in the passkey, base64url. */
                    userHandle?: string;
                };
            };
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
         *           "price": null,
         *           "currency": null,
         *           "locked": false
         *         }
         *       ],
         *       "articlesCount": 1,
         *       "nextBefore": null
         *     }
         */
        MultipleArticlesResponse: {
            /** @description This page, newest first (best match first with `q`). */
            articles: components["schemas"]["ArticleListItem"][];
            /** @description Total matches across all pages. */
            articlesCount: number;
            /** @description Folio extension: pass as `before` for the next page (cheaper than `offset` deep in a list, and stable while new articles arrive); `null` when no page follows, and on search results and drafts. */
            nextBefore: string | null;
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
            /** @description Folio extension: price of the article alone (minor units). */
            price: number | null;
            /** @description Folio extension: ISO 4217 code of `price`. */
            currency: string | null;
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
         *         "price": null,
         *         "currency": null,
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
            /** @description Folio extension: price of the article alone (minor units). */
            price: number | null;
            /** @description Folio extension: ISO 4217 code of `price`. */
            currency: string | null;
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
                /**
                 * @description Folio extension: price of buying this `paid` article alone, in minor units of `currency` (e.g. 300 = 3.00). `null` clears it (members only).
                 * @example 300
                 */
                price?: number | null;
                /**
                 * @description Folio extension: ISO 4217 code of `price` (e.g. `USD`).
                 * @example USD
                 */
                currency?: string | null;
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
                /**
                 * @description Folio extension: price of buying this `paid` article alone, in minor units of `currency` (e.g. 300 = 3.00). `null` clears it (members only).
                 * @example 300
                 */
                price?: number | null;
                /**
                 * @description Folio extension: ISO 4217 code of `price` (e.g. `USD`).
                 * @example USD
                 */
                currency?: string | null;
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
            /**
             * @description Present only on your own comment that a moderator hid: nobody else sees it until it is unhidden.
             * @enum {boolean}
             */
            hidden?: true;
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
        /** @description The report (the first one, if you reported it before). */
        CommentReportResponse: {
            /** @description Your report. */
            report: {
                /** @description Report id. */
                id: number;
                /**
                 * @description open until a moderator resolves it.
                 * @enum {string}
                 */
                status: "open" | "resolved";
                /**
                 * Format: date-time
                 * @description When it was reported.
                 */
                createdAt: string;
            };
        };
        /**
         * @description Report a comment to the moderators.
         * @example {
         *       "report": {
         *         "reason": "Spam"
         *       }
         *     }
         */
        ReportCommentRequest: {
            /** @description The report. */
            report: {
                /**
                 * @description What is wrong with the comment (1–1000 characters).
                 * @example Spam
                 */
                reason: string;
            };
        };
        /** @description A page of accounts. */
        AdminUserList: {
            /** @description Newest first. */
            users: components["schemas"]["AdminUser"][];
            /** @description How many accounts match, over all pages. */
            usersCount: number;
            /** @description Pass as `cursor` for the next page; null on the last. */
            nextCursor: string | null;
        };
        /** @description An account as admins see it. */
        AdminUser: {
            /** @description Stable account id. */
            id: string;
            /** @description Current username. */
            username: string;
            /** @description Current email address. */
            email: string;
            /**
             * @description Stored role (ADMIN_USERNAMES may raise it to admin at sign-in).
             * @enum {string}
             */
            role: "member" | "author" | "editor" | "admin";
            /** @description Profile bio. */
            bio: string | null;
            /** @description Profile image URL. */
            image: string | null;
            /** @description Whether the email address is confirmed. */
            emailVerified: boolean;
            /**
             * Format: date-time
             * @description When the account was registered.
             */
            createdAt: string;
            /** @description The latest ban, or null if never banned (or lifted). */
            ban: {
                /**
                 * Format: date-time
                 * @description When the ban was set.
                 */
                at: string;
                /**
                 * Format: date-time
                 * @description When it ends; null: permanent.
                 */
                until: string | null;
                /** @description Why (shown to admins only). */
                reason: string | null;
                /** @description Whether the ban is in force now. */
                active: boolean;
            } | null;
            /**
             * Format: date-time
             * @description When the member deleted the account (it is anonymised); null otherwise.
             */
            deletedAt: string | null;
        };
        /** @description One account. */
        AdminUserDetail: {
            /** @description The account with its activity counts. */
            user: {
                /** @description Stable account id. */
                id: string;
                /** @description Current username. */
                username: string;
                /** @description Current email address. */
                email: string;
                /**
                 * @description Stored role (ADMIN_USERNAMES may raise it to admin at sign-in).
                 * @enum {string}
                 */
                role: "member" | "author" | "editor" | "admin";
                /** @description Profile bio. */
                bio: string | null;
                /** @description Profile image URL. */
                image: string | null;
                /** @description Whether the email address is confirmed. */
                emailVerified: boolean;
                /**
                 * Format: date-time
                 * @description When the account was registered.
                 */
                createdAt: string;
                /** @description The latest ban, or null if never banned (or lifted). */
                ban: {
                    /**
                     * Format: date-time
                     * @description When the ban was set.
                     */
                    at: string;
                    /**
                     * Format: date-time
                     * @description When it ends; null: permanent.
                     */
                    until: string | null;
                    /** @description Why (shown to admins only). */
                    reason: string | null;
                    /** @description Whether the ban is in force now. */
                    active: boolean;
                } | null;
                /**
                 * Format: date-time
                 * @description When the member deleted the account (it is anonymised); null otherwise.
                 */
                deletedAt: string | null;
                /** @description Sessions currently signed in. */
                activeSessions: number;
                /** @description Articles credited to the account, drafts included. */
                articlesCount: number;
            };
        };
        /** @description The account after the change. */
        AdminUserResponse: {
            user: components["schemas"]["AdminUser"];
        };
        /**
         * @description Set an account’s role.
         * @example {
         *       "user": {
         *         "role": "editor"
         *       }
         *     }
         */
        SetRoleRequest: {
            /** @description The new role. */
            user: {
                /**
                 * @description member < author < editor < admin.
                 * @enum {string}
                 */
                role: "member" | "author" | "editor" | "admin";
            };
        };
        /**
         * @description Ban an account.
         * @example {
         *       "ban": {
         *         "reason": "Spam",
         *         "until": "2026-12-31T00:00:00.000Z"
         *       }
         *     }
         */
        BanRequest: {
            /** @description The ban. */
            ban: {
                /** @description Why (kept with the account and in the audit log). */
                reason: string;
                /**
                 * Format: date-time
                 * @description Omit or null for a permanent ban
                 */
                until?: string | null;
            };
        };
        /** @description An account’s active sessions. */
        AdminSessions: {
            /** @description Active sessions, newest first. */
            sessions: {
                /** @description Session id. */
                id: string;
                /**
                 * Format: date-time
                 * @description When it signed in.
                 */
                createdAt: string;
                /**
                 * Format: date-time
                 * @description Last use (updated at most every 5 minutes).
                 */
                lastSeenAt: string;
                /**
                 * Format: date-time
                 * @description When it ends unless refreshed.
                 */
                expiresAt: string;
                /** @description Client user agent at sign-in. */
                userAgent: string | null;
                /** @description Country at sign-in (Cloudflare). */
                country: string | null;
            }[];
        };
        /** @description The outcome of revoking sessions. */
        AdminRevoked: {
            /** @description How many sessions were revoked. */
            revoked: number;
        };
        /** @description A page of the comment reports queue. */
        ReportList: {
            /** @description Oldest first. */
            reports: {
                /** @description Report id. */
                id: number;
                /** @description What the reporter wrote. */
                reason: string;
                /**
                 * @description open or resolved.
                 * @enum {string}
                 */
                status: "open" | "resolved";
                /** @description dismissed or actioned, once resolved. */
                resolution: string | null;
                /** @description Username of the reporter. */
                reporter: string | null;
                /**
                 * Format: date-time
                 * @description When it was reported.
                 */
                createdAt: string;
                /**
                 * Format: date-time
                 * @description When it was resolved.
                 */
                resolvedAt: string | null;
                /** @description The reported comment. */
                comment: {
                    /** @description Comment id. */
                    id: number;
                    /** @description Comment text. */
                    body: string;
                    /** @description Whether moderators hid it. */
                    hidden: boolean;
                    /** @description Username of its author. */
                    author: string;
                    /** @description Slug of its article. */
                    article: string;
                };
            }[];
            /** @description Pass as `cursor` for the next page; null on the last. */
            nextCursor: string | null;
        };
        /** @description The resolved report. */
        ResolvedReport: {
            /** @description The report. */
            report: {
                /** @description Report id. */
                id: number;
                /**
                 * @description resolved.
                 * @enum {string}
                 */
                status: "open" | "resolved";
                /** @description The resolution. */
                resolution: string | null;
                /**
                 * Format: date-time
                 * @description When it was resolved.
                 */
                resolvedAt: string | null;
            };
        };
        /**
         * @description Resolve a report.
         * @example {
         *       "report": {
         *         "resolution": "actioned"
         *       }
         *     }
         */
        ResolveReportRequest: {
            /** @description The resolution. */
            report: {
                /**
                 * @description dismissed (nothing wrong) or actioned (e.g. the comment was hidden).
                 * @enum {string}
                 */
                resolution: "dismissed" | "actioned";
            };
        };
        /** @description A comment’s visibility after the change. */
        CommentVisibility: {
            /** @description The comment. */
            comment: {
                /** @description Comment id. */
                id: number;
                /** @description Whether it is hidden now. */
                hidden: boolean;
            };
        };
        /** @description A page of the message reports queue. */
        MessageReportList: {
            /** @description Oldest first. */
            reports: {
                /** @description Report id. */
                id: string;
                /** @description What the reporter wrote (optional). */
                reason: string | null;
                /**
                 * @description open or resolved.
                 * @enum {string}
                 */
                status: "open" | "resolved";
                /** @description dismissed or actioned, once resolved. */
                resolution: string | null;
                /** @description Username of the reporter (null: account deleted). */
                reporter: string | null;
                /**
                 * Format: date-time
                 * @description When it was reported.
                 */
                createdAt: string;
                /**
                 * Format: date-time
                 * @description When it was resolved.
                 */
                resolvedAt: string | null;
                /** @description The reported message. */
                message: {
                    /** @description Message id. */
                    id: string;
                    /** @description Its conversation. */
                    conversationId: string;
                    /** @description The body as it was when reported. */
                    reportedBody: string | null;
                    /** @description Whether the message is deleted now (by its sender or a moderator). */
                    removed: boolean;
                    /** @description Username of its sender (null: account deleted). */
                    sender: string | null;
                    /**
                     * Format: date-time
                     * @description When it was sent.
                     */
                    sentAt: string;
                };
            }[];
            /** @description Pass as `cursor` for the next page; null on the last. */
            nextCursor: string | null;
        };
        /** @description The resolved message report. */
        ResolvedMessageReport: {
            /** @description The report. */
            report: {
                /** @description Report id. */
                id: string;
                /**
                 * @description resolved.
                 * @enum {string}
                 */
                status: "open" | "resolved";
                /** @description The resolution. */
                resolution: string | null;
                /**
                 * Format: date-time
                 * @description When it was resolved.
                 */
                resolvedAt: string | null;
            };
        };
        /** @description The message after removal. */
        RemovedMessage: {
            /** @description The message. */
            message: {
                /** @description Message id. */
                id: string;
                /** @description Its conversation. */
                conversationId: string;
                /** @description Always true: the message is a tombstone now. */
                removed: boolean;
            };
        };
        /** @description A page of the audit log. */
        AuditLog: {
            /** @description Newest first. */
            entries: {
                /** @description Entry id (increasing). */
                id: number;
                /** @description Who acted. */
                actor: {
                    /** @description Account id of who acted. */
                    id: string;
                    /** @description Their current username. */
                    username: string | null;
                };
                /** @description What was done, e.g. user.ban, comment.hide. */
                action: string;
                /** @description What it was done to. */
                target: {
                    /** @description Kind of target. */
                    type: string;
                    /** @description Target id. */
                    id: string;
                };
                /** @description The relevant state before (JSON), if any. */
                before?: unknown;
                /** @description The relevant state after (JSON), if any. */
                after?: unknown;
                /** @description The X-Request-Id of the request that did it. */
                requestId: string;
                /**
                 * Format: date-time
                 * @description When.
                 */
                createdAt: string;
            }[];
            /** @description Pass as `cursor` for the next page; null on the last. */
            nextCursor: string | null;
        };
        /** @description The stored upload. */
        MediaResponse: {
            media: components["schemas"]["Media"];
        };
        /** @description An uploaded image. */
        Media: {
            /** @description Upload id (for DELETE /api/media/{id}). */
            id: string;
            /**
             * @description Where the image is served.
             * @example https://api.folio.example/media/3kF...Q.png
             */
            url: string;
            /** @description The type found in the bytes. */
            contentType: string;
            /** @description Bytes. */
            size: number;
            /**
             * Format: date-time
             * @description When it was uploaded.
             */
            createdAt: string;
        };
        /** @description The registered endpoints. */
        WebhookList: {
            /** @description Newest first. */
            webhooks: components["schemas"]["WebhookEndpoint"][];
        };
        /** @description A webhook endpoint. */
        WebhookEndpoint: {
            /** @description Endpoint id. */
            id: string;
            /** @description Where deliveries are POSTed. */
            url: string;
            /** @description A note for admins. */
            description: string | null;
            /** @description Event types it receives: article.published, article.updated, article.deleted, member.created, comment.created, membership.updated, payment.succeeded. */
            events: ("article.published" | "article.updated" | "article.deleted" | "member.created" | "comment.created" | "membership.updated" | "payment.succeeded")[];
            /** @description Disabled endpoints receive nothing (and get no new events). */
            enabled: boolean;
            /** @description Failed attempts in a row (10 disables it). */
            consecutiveFailures: number;
            /** @description Why it was disabled automatically, if it was. */
            disabledReason: string | null;
            /**
             * Format: date-time
             * @description When it was registered.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When it last changed.
             */
            updatedAt: string;
            /** @description Only in the answers to create and rotate-secret */
            secret?: string;
        };
        /** @description One webhook endpoint. */
        WebhookResponse: {
            webhook: components["schemas"]["WebhookEndpoint"];
        };
        /**
         * @description Register a webhook endpoint.
         * @example {
         *       "webhook": {
         *         "url": "https://hooks.example.com/folio",
         *         "events": [
         *           "article.published"
         *         ]
         *       }
         *     }
         */
        NewWebhookRequest: {
            /** @description The endpoint. */
            webhook: {
                /** @description https URL with a public host name (development also allows http and localhost). */
                url: string;
                /** @description Event types to receive: article.published, article.updated, article.deleted, member.created, comment.created, membership.updated, payment.succeeded. */
                events: ("article.published" | "article.updated" | "article.deleted" | "member.created" | "comment.created" | "membership.updated" | "payment.succeeded")[];
                /** @description A note for admins. */
                description?: string | null;
                /** @description Whether it receives events (default true). */
                enabled?: boolean;
            };
        };
        /**
         * @description Change a webhook endpoint.
         * @example {
         *       "webhook": {
         *         "enabled": true
         *       }
         *     }
         */
        UpdateWebhookRequest: {
            /** @description Fields to change; omitted ones stay. */
            webhook: {
                /** @description https URL with a public host name (development also allows http and localhost). */
                url?: string;
                /** @description Event types to receive: article.published, article.updated, article.deleted, member.created, comment.created, membership.updated, payment.succeeded. */
                events?: ("article.published" | "article.updated" | "article.deleted" | "member.created" | "comment.created" | "membership.updated" | "payment.succeeded")[];
                /** @description A note for admins. */
                description?: string | null;
                /** @description Whether it receives events (default true). */
                enabled?: boolean;
            };
        };
        /** @description The test delivery. */
        WebhookDeliveryResponse: {
            delivery: components["schemas"]["WebhookDelivery"];
        };
        /** @description One event for one endpoint, with its delivery state. */
        WebhookDelivery: {
            /** @description Delivery id. */
            id: string;
            /** @description The `webhook-id` header: the same on every retry. */
            eventId: string;
            /** @description Event type. */
            eventType: string;
            /**
             * @description pending (waiting or retrying), sending, delivered, or failed (gave up).
             * @enum {string}
             */
            status: "pending" | "sending" | "delivered" | "failed";
            /** @description Attempts so far (at most 8). */
            attempts: number;
            /** @description HTTP status of the last attempt (0: no answer). */
            lastStatus: number | null;
            /** @description What went wrong last, if anything. */
            lastError: string | null;
            /**
             * Format: date-time
             * @description When it is tried next (if pending).
             */
            nextAttemptAt: string;
            /**
             * Format: date-time
             * @description When the event happened.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description When it was delivered.
             */
            deliveredAt: string | null;
        };
        /** @description A page of an endpoint’s delivery log. */
        WebhookDeliveries: {
            /** @description Newest first. */
            deliveries: components["schemas"]["WebhookDelivery"][];
            /** @description Pass as `cursor` for the next page; null on the last. */
            nextCursor: string | null;
        };
        /** @description The archive: `format`, `exportedAt`, then one key per section (profile, articles, comments, favorites, following, followers, sessions, media, commentReports). */
        DataExport: {
            [key: string]: unknown;
        };
        /**
         * @description Confirm the deletion.
         * @example {
         *       "password": "jakejake1"
         *     }
         */
        DeleteAccountRequest: {
            /** @description Your current password (a fresh re-authentication). */
            password: string;
        };
        /** @description One conversation. */
        ConversationResponse: {
            conversation: components["schemas"]["Conversation"];
            message?: components["schemas"]["Message"];
        };
        /** @description A conversation as you see it. */
        Conversation: {
            /** @description Conversation id (random, unguessable). */
            id: string;
            /**
             * @description `direct` (1:1) or `group`.
             * @enum {string}
             */
            kind: "direct" | "group";
            /** @description Group title; `null` for a 1:1 or an untitled group. */
            title: string | null;
            /** @description Current participants, you included. */
            participants: components["schemas"]["Profile"][];
            /** @description The newest message; `null` before the first. */
            lastMessage: {
                /** @description Id of the newest message. */
                id: string;
                /** @description Its first characters; `null` if it was deleted. */
                preview: string | null;
                /** @description Its sender's username. */
                sender: string | null;
                /** @description Whether it was deleted. */
                deleted: boolean;
            } | null;
            /** @description Messages from others after your read marker. */
            unreadCount: number;
            /**
             * Format: date-time
             * @description When it was started.
             */
            createdAt: string;
            /**
             * Format: date-time
             * @description Last activity (the list is sorted by it).
             */
            updatedAt: string;
            /** @description Pass as `before` to list the conversations after this one. */
            cursor: string;
        };
        /** @description One message of a conversation. */
        Message: {
            /** @description Message id (random); the cursor of `before` / `after`. */
            id: string;
            /** @description The conversation it belongs to. */
            conversationId: string;
            /** @description The sender's profile; `null` if the account is gone. */
            sender: {
                /** @description The sender's username. */
                username: string;
                /** @description `null` when not set. */
                bio: string | null;
                /** @description Avatar URL; `null` when not set. */
                image: string | null;
            } | null;
            /** @description `null` once deleted (a tombstone). */
            body: string | null;
            /** @description Whether the sender deleted it. */
            deleted: boolean;
            /** @description The sender's `clientId` (the message id when none was sent). */
            clientId: string;
            /**
             * Format: date-time
             * @description When it was sent.
             */
            createdAt: string;
            /** @description When it was deleted; `null` otherwise. */
            deletedAt: string | null;
            /** @description Usernames of the other participants whose read marker reached this message. */
            readBy: string[];
        };
        /**
         * @description Start a 1:1 (one other member) or a group (two or more).
         * @example {
         *       "participants": [
         *         "jake"
         *       ],
         *       "message": "Loved your last piece!"
         *     }
         */
        NewConversationRequest: {
            /**
             * @description Usernames besides yourself: one for a 1:1, more for a group.
             * @example [
             *       "jake"
             *     ]
             */
            participants: string[];
            /** @description Group title (ignored for a 1:1), up to 100 characters. */
            title?: string | null;
            /**
             * @description An optional first message.
             * @example Loved your last piece!
             */
            message?: string;
            /** @description Optional, the sender's own id for the message (1–100 characters): a retry with the same one returns the first message. */
            clientId?: string;
        };
        /** @description A page of your conversations. */
        ConversationsResponse: {
            /** @description Newest activity first. */
            conversations: components["schemas"]["Conversation"][];
            /** @description `before` for the next page; `null` on the last. */
            nextBefore: string | null;
        };
        /** @description A group's new title. */
        ConversationTitleRequest: {
            /** @description New title, up to 100 characters; `null` or "" clears it. */
            title: string | null;
        };
        /** @description A page of messages. */
        MessagesResponse: {
            /** @description The page, in `order`. */
            messages: components["schemas"]["Message"][];
            /**
             * @description `desc` (newest first) by default and with `before`; `asc` with `after`.
             * @enum {string}
             */
            order: "asc" | "desc";
            /** @description Whether more messages lie beyond this page in that direction. */
            hasMore: boolean;
        };
        /** @description One message. */
        MessageResponse: {
            message: components["schemas"]["Message"];
        };
        /**
         * @description A new message.
         * @example {
         *       "body": "Loved your last piece!",
         *       "clientId": "9f1c2d3e-client-1"
         *     }
         */
        NewMessageRequest: {
            /**
             * @description Text, not blank, at most MESSAGE_MAX_BODY_CHARS (4000 by default) characters.
             * @example Loved your last piece!
             */
            body: string;
            /** @description Optional, the sender's own id for the message (1–100 characters): a retry with the same one returns the first message. */
            clientId?: string;
        };
        /** @description Move your read marker forward. */
        ReadMarkerRequest: {
            /** @description The id of the newest message you have read. */
            upTo: string;
        };
        /** @description Your report on a message. */
        MessageReportResponse: {
            /** @description Your report. */
            report: {
                /** @description Report id. */
                id: string;
                /** @description `open` until a moderator handles it. */
                status: string;
                /**
                 * Format: date-time
                 * @description When it was filed.
                 */
                createdAt: string;
            };
        };
        /** @description A report to the moderators (the body may be empty). */
        MessageReportRequest: {
            /** @description Optional note for the moderators, up to 500 characters. */
            reason?: string;
        };
        /** @description A profile and whether you block it. */
        BlockResponse: {
            /** @description The profile, with your block state. */
            profile: components["schemas"]["Profile"] & {
                /** @description Whether you block this member now. */
                blocked: boolean;
            };
        };
        /** @description Profiles. */
        ProfilesResponse: {
            /** @description Newest block first. */
            profiles: components["schemas"]["Profile"][];
        };
        /** @description Your messaging settings. */
        MessagingSettingsResponse: {
            /** @description Messaging settings. */
            messaging: {
                /**
                 * @description Who may start a conversation with you: everyone, only people you follow, or nobody.
                 * @enum {string}
                 */
                dmPolicy: "everyone" | "following" | "nobody";
            };
        };
        /**
         * @description Your messaging settings.
         * @example {
         *       "messaging": {
         *         "dmPolicy": "following"
         *       }
         *     }
         */
        MessagingSettingsRequest: {
            /** @description Messaging settings. */
            messaging: {
                /**
                 * @description Who may start a conversation with you: everyone, only people you follow, or nobody.
                 * @enum {string}
                 */
                dmPolicy: "everyone" | "following" | "nobody";
            };
        };
        /** @description A WebSocket ticket. */
        RealtimeTicketResponse: {
            /** @description Single-use ticket, valid about 60 seconds. */
            ticket: string;
            /**
             * Format: date-time
             * @description When the ticket stops working.
             */
            expiresAt: string;
            /** @description Path to open the WebSocket with (append to the API origin, ws/wss). */
            url: string;
        };
        /** @description The membership tiers on offer. */
        TiersResponse: {
            /** @description Active tiers, cheapest first. */
            tiers: components["schemas"]["Tier"][];
        };
        /** @description A membership tier. */
        Tier: {
            /**
             * @description Tier id, used in checkout.
             * @example tier_supporter
             */
            id: string;
            /**
             * @description Display name.
             * @example Supporter
             */
            name: string;
            /** @description What the tier is about. */
            description: string;
            /** @description Benefits, in display order. */
            benefits: string[];
            /**
             * @description Price per month, minor units of `currency`.
             * @example 500
             */
            monthlyPrice: number;
            /**
             * @description Price per year, minor units of `currency`.
             * @example 5000
             */
            yearlyPrice: number;
            /**
             * @description ISO 4217 currency code, upper case.
             * @example USD
             */
            currency: string;
        };
        /**
         * @description A checkout session to send the buyer to.
         * @example {
         *       "id": "cs_test_a1b2",
         *       "url": "http://localhost:8787/billing/test-checkout/cs_test_a1b2"
         *     }
         */
        CheckoutResponse: {
            /**
             * @description The gateway checkout session id.
             * @example cs_test_a1b2
             */
            id: string;
            /**
             * @description Send the browser here: Stripe Checkout, or the test checkout page with GATEWAY=test.
             * @example http://localhost:8787/billing/test-checkout/cs_test_a1b2
             */
            url: string;
        };
        /**
         * @description What to pay for — exactly one of `{tierId, interval}` (membership), `{articleSlug}` (one paid article) or `{tip: {author, amount}}`.
         * @example {
         *       "tierId": "tier_supporter",
         *       "interval": "month"
         *     }
         */
        CheckoutRequest: {
            /**
             * @description Membership: the tier to subscribe to (see `GET /api/tiers`).
             * @example tier_supporter
             */
            tierId?: string;
            /**
             * @description Membership: billed every `month` or every `year` (required with `tierId`).
             * @enum {string}
             */
            interval?: "month" | "year";
            /**
             * @description Buy one `paid` article that has a price.
             * @example how-to-train-your-dragon
             */
            articleSlug?: string;
            /** @description A one-time tip to an author. */
            tip?: {
                /**
                 * @description Username of the author to tip.
                 * @example jake
                 */
                author: string;
                /**
                 * @description Tip in minor units of TIP_CURRENCY, within TIP_MIN_AMOUNT..TIP_MAX_AMOUNT.
                 * @example 500
                 */
                amount: number;
            };
        };
        /** @description A page to send the browser to. */
        UrlResponse: {
            /** @description The gateway's customer portal page for this member. */
            url: string;
        };
        /** @description Acknowledgement to Stripe. */
        StripeWebhookAck: {
            /**
             * @description Always true on 200.
             * @enum {boolean}
             */
            received: true;
            /**
             * @description Applied now, already applied earlier, or an event type Folio does not handle.
             * @enum {string}
             */
            outcome: "processed" | "duplicate" | "ignored";
        };
        /** @description Your membership. */
        MembershipResponse: {
            membership: components["schemas"]["Membership"];
        };
        /** @description `null` when the user never subscribed. */
        Membership: {
            /** @description The tier subscribed to. */
            tier: {
                /** @description Tier id. */
                id: string;
                /** @description Tier name. */
                name: string;
            };
            /**
             * @description Stripe subscription status: active, trialing, past_due, canceled, unpaid, incomplete, ...
             * @example active
             */
            status: string;
            /**
             * @description Billing interval.
             * @enum {string}
             */
            interval: "month" | "year";
            /**
             * Format: date-time
             * @description End of the paid period (renewal, or the end when cancelled).
             */
            currentPeriodEnd: string;
            /** @description True when cancelled: access lasts until the period ends. */
            cancelAtPeriodEnd: boolean;
            /** @description Whether this status grants access to paid articles. */
            access: boolean;
        } | null;
        /** @description Your payments and refunds. */
        PaymentsResponse: {
            /** @description Newest first. */
            payments: components["schemas"]["Payment"][];
        };
        /** @description One row of the immutable money ledger. */
        Payment: {
            /** @description Ledger row id (refund it with `POST /api/billing/payments/{id}/refund`). */
            id: string;
            /**
             * @description What the money was for; `refund` rows are negative.
             * @enum {string}
             */
            kind: "membership" | "article" | "tip" | "refund";
            /**
             * @description Minor units; negative for refunds.
             * @example 500
             */
            amount: number;
            /**
             * @description ISO 4217 currency code, upper case.
             * @example USD
             */
            currency: string;
            /** @description For refunds: the ledger row refunded. */
            refundOf: string | null;
            /** @description For membership payments: the tier. */
            tierId: string | null;
            /** @description Slug of the article bought. */
            article: string | null;
            /** @description Username of the author tipped or sold to. */
            author: string | null;
            /**
             * Format: date-time
             * @description When the gateway reported it.
             */
            createdAt: string;
        };
        /** @description An author's earnings per month and currency. */
        EarningsResponse: {
            /** @description Newest month first. */
            months: {
                /**
                 * @description Calendar month (UTC).
                 * @example 2026-11
                 */
                month: string;
                /**
                 * @description ISO 4217 currency code, upper case.
                 * @example USD
                 */
                currency: string;
                /** @description Tips received (minor units). */
                tips: number;
                /** @description Article sales (minor units). */
                articleSales: number;
                /** @description Refunds of those (negative, minor units). */
                refunds: number;
                /** @description Platform fees kept (minor units). */
                fees: number;
                /** @description Tips + sales + refunds - fees. */
                net: number;
                /** @description Number of payments (refunds not counted). */
                payments: number;
            }[];
        };
        /** @description A refund created at the gateway. */
        RefundResponse: {
            /** @description The refund the gateway created; the ledger row follows from its webhook. */
            refund: {
                /** @description Gateway refund id. */
                id: string;
                /** @description The ledger row refunded. */
                paymentId: string;
                /** @description Refunded, minor units. */
                amount: number;
                /**
                 * @description ISO 4217 currency code, upper case.
                 * @example USD
                 */
                currency: string;
                /** @description Gateway refund status (`succeeded`, `pending`, ...). */
                status: string | null;
            };
        };
        /**
         * @description How much to refund.
         * @example {
         *       "amount": 100
         *     }
         */
        RefundRequest: {
            /**
             * @description Omit for a full refund (of what is left).
             * @example 500
             */
            amount?: number;
        };
        /** @description Where a checkout stands. */
        CheckoutStatusResponse: {
            /** @description The checkout after the sync. */
            checkout: {
                /** @description Checkout session id. */
                id: string;
                /**
                 * @description `complete` once paid and applied; `open` while unpaid.
                 * @enum {string}
                 */
                status: "open" | "complete" | "expired";
            };
        };
        /** @description One tier. */
        TierResponse: {
            tier: components["schemas"]["Tier"];
        };
        /**
         * @description A new membership tier (admins).
         * @example {
         *       "tier": {
         *         "name": "Patron",
         *         "monthlyPrice": 2000,
         *         "yearlyPrice": 20000,
         *         "currency": "USD"
         *       }
         *     }
         */
        NewTierRequest: {
            /** @description The new tier. */
            tier: {
                /** @description Display name, at most 100 characters. */
                name: string;
                /**
                 * @description At most 2000 characters.
                 * @default
                 */
                description: string;
                /**
                 * @description At most 20 benefits of at most 200 characters.
                 * @default []
                 */
                benefits: string[];
                /**
                 * @description Monthly price in minor units.
                 * @example 500
                 */
                monthlyPrice: number;
                /**
                 * @description Yearly price in minor units.
                 * @example 500
                 */
                yearlyPrice: number;
                /**
                 * @description ISO 4217 code.
                 * @example USD
                 */
                currency: string;
                /** @description Offered in `GET /api/tiers` and checkout. */
                active?: boolean;
            };
        };
        /**
         * @description Changes to a tier (admins).
         * @example {
         *       "tier": {
         *         "active": false
         *       }
         *     }
         */
        UpdateTierRequest: {
            /** @description Only the fields sent change. */
            tier: {
                /** @description Display name, at most 100 characters. */
                name?: string;
                /** @description At most 2000 characters. */
                description?: string;
                /** @description At most 20 benefits of at most 200 characters. */
                benefits?: string[];
                /**
                 * @description Monthly price in minor units.
                 * @example 500
                 */
                monthlyPrice?: number;
                /**
                 * @description Yearly price in minor units.
                 * @example 500
                 */
                yearlyPrice?: number;
                /**
                 * @description ISO 4217 code.
                 * @example USD
                 */
                currency?: string;
                /** @description Offered in `GET /api/tiers` and checkout. */
                active?: boolean;
            };
        };
        /** @description The member's membership after the change. */
        AdminMembershipResponse: {
            /** @description The membership after the change. */
            membership: {
                /** @description The tier subscribed to. */
                tier: {
                    /** @description Tier id. */
                    id: string;
                    /** @description Tier name. */
                    name: string;
                };
                /**
                 * @description Stripe subscription status: active, trialing, past_due, canceled, unpaid, incomplete, ...
                 * @example active
                 */
                status: string;
                /**
                 * @description Billing interval.
                 * @enum {string}
                 */
                interval: "month" | "year";
                /**
                 * Format: date-time
                 * @description End of the paid period (renewal, or the end when cancelled).
                 */
                currentPeriodEnd: string;
                /** @description True when cancelled: access lasts until the period ends. */
                cancelAtPeriodEnd: boolean;
                /** @description Whether this status grants access to paid articles. */
                access: boolean;
            };
        };
        /**
         * @description Grant a membership without payment.
         * @example {
         *       "membership": {
         *         "tierId": "tier_supporter",
         *         "until": "2027-01-01T00:00:00Z"
         *       }
         *     }
         */
        CompMembershipRequest: {
            /** @description The complimentary membership. */
            membership: {
                /**
                 * @description The tier to grant.
                 * @example tier_supporter
                 */
                tierId: string;
                /**
                 * Format: date-time
                 * @description When the complimentary membership ends (ISO date-time, in the future).
                 */
                until: string;
            };
        };
        /** @description Revenue figures from the ledger and memberships. */
        RevenueResponse: {
            /**
             * Format: date-time
             * @description Start of the first month counted.
             */
            since: string;
            /** @description Newest month first; months without ledger rows are left out. */
            months: {
                /**
                 * @description Calendar month, UTC.
                 * @example 2026-11
                 */
                month: string;
                /**
                 * @description ISO 4217 currency code, upper case.
                 * @example USD
                 */
                currency: string;
                /**
                 * @description Money received (memberships, tips, article sales), minor units.
                 * @example 500
                 */
                payments: number;
                /**
                 * @description Refunded (negative), minor units.
                 * @example 500
                 */
                refunds: number;
                /**
                 * @description Of which membership payments.
                 * @example 500
                 */
                memberships: number;
                /**
                 * @description Of which tips.
                 * @example 500
                 */
                tips: number;
                /**
                 * @description Of which single-article sales.
                 * @example 500
                 */
                articleSales: number;
                /**
                 * @description Gateway fees.
                 * @example 500
                 */
                fees: number;
                /**
                 * @description Payments plus refunds.
                 * @example 500
                 */
                net: number;
            }[];
            /** @description From paid memberships that are active or past_due (complimentary ones excluded). */
            mrr: {
                /**
                 * @description ISO 4217 currency code, upper case.
                 * @example USD
                 */
                currency: string;
                /**
                 * @description Monthly recurring revenue: monthly prices, yearly prices / 12 (rounded).
                 * @example 500
                 */
                mrr: number;
                /** @description Paid memberships counted. */
                payingMembers: number;
            }[];
            /** @description Tiers with at least one member with access. */
            tiers: {
                /** @description Tier id. */
                tierId: string;
                /** @description Tier name. */
                name: string;
                /** @description Members whose membership grants access now. */
                members: number;
                /** @description Of which complimentary. */
                complimentary: number;
            }[];
        };
        /** @description JSON Web Key Set (RFC 7517) for verifying access tokens elsewhere. */
        JWKS: {
            /** @description Public Ed25519 keys (JWK), identified by `kid`. */
            keys: {
                [key: string]: string;
            }[];
        };
        /** @description What the clock move did. */
        TestGatewayAdvanceResponse: {
            /**
             * Format: date-time
             * @description Gateway time after the move.
             */
            now: string;
            /** @description Renewals, retries and cancellations run. */
            processed: number;
            /** @description Events delivered to the webhook handler. */
            delivered: number;
            /** @description The switch, as it stands now. */
            failNextRenewal: boolean;
        };
        /**
         * @description Move the test gateway clock.
         * @example {
         *       "days": 31
         *     }
         */
        TestGatewayAdvanceRequest: {
            /** @description Days to move gateway time forward (0 only applies the switch). */
            days: number;
            /** @description Switch kept until changed: while true, renewals and their retries fail. */
            failNextRenewal?: boolean;
        };
        /** @description The test gateway clock. */
        TestGatewayClockResponse: {
            /**
             * Format: date-time
             * @description Current gateway time (real time plus the advances).
             */
            now: string;
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
