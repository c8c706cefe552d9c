/**
 * A refusal or failure from Ladder's API as a client sees it: the HTTP status, the API's
 * error code and the failing fields. Used by the host-backend client and the dashboard.
 * @example throw new LadderError(404, 'account_not_found', 'No account "acme".', [{ path: 'account_id', message: 'not found' }])
 */
export class LadderError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}
