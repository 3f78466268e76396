import { Controller, Get, Headers, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiCookieAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  type AuthenticatedSession,
  CacheableSession,
  CurrentSession,
  SESSION_DATA_MAX_DEPTH,
  type SessionData,
  SessionDataConflictError,
  SessionDataService,
  SessionGuard,
  WithSessionData,
} from '@kura/session';
import * as z from 'zod/mini';
import { deferred, described } from '../openapi/schema-meta.js';
import { ApiBodyProblems, ApiDefect, ApiProblem, CROSS_SITE } from '../http/problem.schema.js';
import { etagOf, preconditionOf } from '../http/etag.js';
import { ACCEPT_PATCH_HEADER, ETAG, RETRY_AFTER, SESSION_CACHE, WWW_AUTHENTICATE } from '../openapi/response-headers.js';
import { ResponseHeaders, type ResponseHeaderWriter } from '../http/response-headers.decorator.js';
import { ValidBody } from '../http/valid-body.js';

const MergePatch = deferred(() =>
  z
    .record(z.string(), z.unknown())
    .register(z.globalRegistry, { id: 'SessionDataPatch', description: 'An RFC 7396 JSON merge patch: keys to set, `null` to remove.' }),
);
const SessionDataResponse = deferred(() =>
  z
    .object({
      data: described(z.record(z.string(), z.unknown()), 'Any JSON object, at most KURA_SESSION_DATA_LIMIT bytes (8 KiB by default).'),
      version: z.int().check(z.minimum(0), z.meta({ format: 'int64' })),
    })
    .register(z.globalRegistry, { id: 'SessionData' }),
);

/** `If-Match` and `If-None-Match`: `*`, or a list of entity tags (RFC 9110, sections 13.1.1 and 13.1.2). */
const ENTITY_TAGS = { type: 'string', maxLength: 1024, pattern: '^(\\*|(W/)?"[^"]*"( *, *(W/)?"[^"]*")*)$' } as const;

/**
 * A small JSON document per session (a cart, a form in progress), shared by every replica and safe under
 * concurrent writes.
 */
@ApiTags('session data')
@ApiCookieAuth()
@ApiBearerAuth()
@ApiDefect()
@ApiProblem(401, 'No valid session.', WWW_AUTHENTICATE)
@ApiProblem(503, 'The store is unavailable, or the data is under heavy contention; try again after Retry-After.', RETRY_AFTER)
@UseGuards(SessionGuard)
@WithSessionData()
@Controller('session/data')
export class SessionDataController {
  constructor(private readonly data: SessionDataService) {}

  @Get()
  @CacheableSession()
  @ApiOperation({
    summary: "This session's data and its version (also as ETag)",
    description: 'Starts as `{}` at version 0. It belongs to the login: a re-authenticated session keeps it.',
  })
  @ApiHeader({ name: 'If-None-Match', required: false, description: '304 if one is current.', schema: ENTITY_TAGS })
  @ApiHeader({ name: 'If-Match', required: false, description: '412 unless one is current.', schema: ENTITY_TAGS })
  @ApiOkResponse({ description: 'The data and its version.', standardSchema: SessionDataResponse, headers: { ...ETAG, ...SESSION_CACHE } })
  @ApiResponse({ status: 304, description: 'If-None-Match named the current ETag.', headers: { ...ETAG, ...SESSION_CACHE } })
  @ApiProblem(412, 'If-Match named no current ETag.', ETAG)
  async read(
    @CurrentSession() session: AuthenticatedSession,
    @Headers('if-match') ifMatch: string | undefined,
    @ResponseHeaders() headers: ResponseHeaderWriter,
  ) {
    const data = await this.data.read(session.record, session.data);
    if (preconditionOf(ifMatch, undefined)?.(data.version) === false) throw new SessionDataConflictError(data.version);
    // If-None-Match turns this 200 into a 304 as it is sent: notModifiedAnswer (http/etag.ts).
    return tagged(data, headers);
  }

  @Patch()
  @ApiOperation({
    summary: 'Merge a patch into the data, atomically',
    description:
      'With `If-Match: "<version>"` the patch applies only to that version (412 otherwise). Without it, the server ' +
      'merges again on the newest version until the write lands: concurrent patches never lose each other. A patch ' +
      'that changes nothing writes nothing.',
  })
  @ApiConsumes('application/merge-patch+json', 'application/json')
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'ETags (strong) of the versions this patch may apply to, or `*`. Any other value: 412.',
    schema: ENTITY_TAGS,
  })
  @ApiHeader({
    name: 'If-None-Match',
    required: false,
    description: 'ETags of versions this patch may not apply to, or `*` (any: 412).',
    schema: ENTITY_TAGS,
  })
  @ApiOkResponse({ description: 'The merged data and its new version.', standardSchema: SessionDataResponse, headers: ETAG })
  @ApiBodyProblems(
    'Or the patch is not a JSON object, uses a key no object may have (`constructor`, `prototype`, at any depth), ' +
      `holds a number no double can (\`1e400\`), or nests objects and arrays more than ${SESSION_DATA_MAX_DEPTH} levels deep: nothing is written.`,
    ACCEPT_PATCH_HEADER,
    'or the data would exceed KURA_SESSION_DATA_LIMIT bytes (8 KiB by default; `session-data-too-large`)',
  )
  @ApiProblem(403, CROSS_SITE)
  @ApiProblem(412, 'If-Match named no current ETag, or If-None-Match named it; ETag names it.', ETAG)
  async patch(
    @CurrentSession() session: AuthenticatedSession,
    @ValidBody(MergePatch) patch: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @ResponseHeaders() headers: ResponseHeaderWriter,
  ) {
    return tagged(await this.data.patch(session.record, patch, preconditionOf(ifMatch, ifNoneMatch), session.data), headers);
  }
}

function tagged(data: SessionData, headers: ResponseHeaderWriter): SessionData {
  headers.set('etag', etagOf(data.version));
  return data;
}
