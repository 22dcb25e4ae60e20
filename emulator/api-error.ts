/**
 * Errors in the Gemini API's envelope: `{"error": {code, message, status, details}}`. Messages follow the real
 * API's wording (see shared/gemini-wire.md §6) so that code matching on them behaves the same on both.
 */
export interface RpcStatus {
  httpStatus: number;
  status: string;
  message: string;
  details?: unknown[];
}

/** google.rpc.Code numbers, used where the real API writes a Status rather than an HTTP error (batch lines, LROs). */
export const rpcCodeByStatus: Readonly<Record<string, number>> = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
};

export function toErrorEnvelope(error: RpcStatus): { error: Record<string, unknown> } {
  return {
    error: {
      code: error.httpStatus,
      message: error.message,
      status: error.status,
      ...(error.details && error.details.length > 0 ? { details: error.details } : {}),
    },
  };
}

/**
 * The Status written on a batch output line: `{"code": 13, "message": ...}` in google.rpc numbering, as seen on real
 * lines (python-genai#1341), without the `status` name that HTTP error bodies carry: readers must not need it.
 */
export function toLineStatus(error: RpcStatus): { code: number; message: string } {
  return { code: rpcCodeByStatus[error.status] ?? 2, message: error.message };
}

export function invalidArgument(message: string, details?: unknown[]): RpcStatus {
  return { httpStatus: 400, status: 'INVALID_ARGUMENT', message, ...(details ? { details } : {}) };
}

export function notFound(message = 'Requested entity was not found.'): RpcStatus {
  return { httpStatus: 404, status: 'NOT_FOUND', message };
}

export function missingApiKey(): RpcStatus {
  return {
    httpStatus: 403,
    status: 'PERMISSION_DENIED',
    message:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  };
}

export function invalidApiKey(): RpcStatus {
  const message = 'API key not valid. Please pass a valid API key.';
  return invalidArgument(message, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_INVALID',
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
  ]);
}

export function fileAccessDenied(fileId: string): RpcStatus {
  return {
    httpStatus: 403,
    status: 'PERMISSION_DENIED',
    message: `You do not have permission to access the File ${fileId} or it may not exist.`,
  };
}

/**
 * The quota 429 as a user pasted it from the real API (RooCodeInc/Roo-Code#3883): QuotaFailure (metric, id,
 * dimensions, value), Help, then RetryInfo, in that order.
 */
export function resourceExhausted(options: { retryDelaySeconds: number; message?: string; model?: string }): RpcStatus {
  return {
    httpStatus: 429,
    status: 'RESOURCE_EXHAUSTED',
    message:
      options.message ??
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
            quotaDimensions: { location: 'global', ...(options.model !== undefined ? { model: options.model } : {}) },
            quotaValue: '1000',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${options.retryDelaySeconds}s` },
    ],
  };
}

export function unavailable(): RpcStatus {
  return { httpStatus: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' };
}

export function internalError(): RpcStatus {
  return {
    httpStatus: 500,
    status: 'INTERNAL',
    message:
      'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  };
}
