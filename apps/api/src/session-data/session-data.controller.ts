import { Body, Controller, Get, Headers, Patch, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConsumes,
  ApiCookieAuth,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiPreconditionFailedResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type AuthenticatedSession, CacheableSession, CurrentSession, type SessionData, SessionDataService, SessionGuard } from '@kura/session';
import * as z from 'zod';
import { problem } from '../http/problem.schema.js';
import { etagOf, versionFromIfMatch } from '../http/etag.js';
import { ResponseHeaders, type ResponseHeaderWriter } from '../http/response-headers.decorator.js';

const MergePatch = z
  .record(z.string(), z.unknown())
  .meta({ id: 'SessionDataPatch', description: 'An RFC 7396 JSON merge patch: keys to set, `null` to remove.' });
const SessionDataResponse = z
  .object({ data: z.record(z.string(), z.unknown()), version: z.int().min(0) })
  .meta({ id: 'SessionData' });

/**
 * A small JSON document per session (a cart, a form in progress), shared by every replica and safe under
 * concurrent writes.
 */
@ApiTags('session data')
@ApiCookieAuth()
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No valid session.', ...problem })
@ApiServiceUnavailableResponse({ description: 'The store is unavailable or the data is under heavy contention; see Retry-After.', ...problem })
@UseGuards(SessionGuard)
@Controller('session/data')
export class SessionDataController {
  constructor(private readonly data: SessionDataService) {}

  @Get()
  @CacheableSession()
  @ApiOperation({ summary: "This session's data and its version (also as ETag)" })
  @ApiOkResponse({ standardSchema: SessionDataResponse })
  async read(@CurrentSession() session: AuthenticatedSession, @ResponseHeaders() headers: ResponseHeaderWriter) {
    return tagged(await this.data.read(session.record), headers);
  }

  @Patch()
  @ApiOperation({
    summary: 'Merge a patch into the data, atomically',
    description:
      'With `If-Match: "<version>"` the patch applies only to that version (412 otherwise). Without it, the server ' +
      'merges again on the newest version until the write lands: concurrent patches never lose each other.',
  })
  @ApiConsumes('application/merge-patch+json', 'application/json')
  @ApiHeader({ name: 'If-Match', required: false, description: 'The ETag of the version this patch is based on.' })
  @ApiOkResponse({ standardSchema: SessionDataResponse })
  @ApiPreconditionFailedResponse({ description: 'If-Match named a version that is no longer current.', ...problem })
  @ApiPayloadTooLargeResponse({ description: 'The data would exceed its size limit.', ...problem })
  async patch(
    @CurrentSession() session: AuthenticatedSession,
    @Body({ schema: MergePatch }) patch: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @ResponseHeaders() headers: ResponseHeaderWriter,
  ) {
    const version = versionFromIfMatch(ifMatch);
    return tagged(await this.data.patch(session.record, patch, version === null ? -1 : version), headers);
  }
}

function tagged(data: SessionData, headers: ResponseHeaderWriter): SessionData {
  headers.set('etag', etagOf(data.version));
  return data;
}
