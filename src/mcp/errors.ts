import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isBatonError } from '../core/errors.js';

export interface ToolError {
  code: string;
  message: string;
}

/**
 * The `{code, message}` of a refusal raised by the core (BatonError). Anything else is a bug:
 * `internal`, reported through `onInternal` and never shown in detail.
 */
export function describeError(err: unknown, onInternal?: (err: unknown) => void): ToolError {
  if (isBatonError(err)) {
    if (err.code === 'internal') onInternal?.(err.cause ?? err);
    return { code: err.code, message: err.message };
  }
  onInternal?.(err);
  return { code: 'internal', message: 'internal error' };
}

/** A refused call: `isError`, text `CODE: message`, structuredContent `{error}`. */
export function errorResult(e: ToolError): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${e.code}: ${e.message}` }], structuredContent: { error: { code: e.code, message: e.message } } };
}

/**
 * A JSON-RPC error whose message goes on the wire as written. The SDK's McpError puts
 * "MCP error <code>: " in front of its message, and the receiving SDK adds its own again.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}
