/**
 * What the admin API and the command line refuse, each with a stable code: the API answers
 * `{"error": code, "message"}` with `status`, the command line prints the message and exits 1
 * (or 64 for bad input).
 */
export class AdminError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
    this.status = status;
  }
}

/** Input an operator got wrong: a filter, a cursor, a body field. */
export class AdminInputError extends AdminError {
  constructor(message: string, code = 'bad_request') {
    super(code, 400, message);
  }
}
