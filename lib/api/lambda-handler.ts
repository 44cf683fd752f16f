import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import type { Env, Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/**
 * The app as API Gateway's Lambda handler (payload format 2.0). A GET or HEAD that arrives with a body keeps only
 * the request: content in a GET means nothing (RFC 9110 9.3.1), and the Fetch API the app runs on refuses to build
 * such a request, which hono's adapter would answer with a bare text 400 that names nothing.
 */
export function lambdaHandler<E extends Env>(app: Hono<E>): ApiHandler {
  const handler = handle(app) as unknown as ApiHandler;
  return (event, context) => {
    const method = event.requestContext.http.method.toUpperCase();
    if ((method === 'GET' || method === 'HEAD') && event.body !== undefined) {
      const { body: _body, ...rest } = event;
      return handler({ ...rest, isBase64Encoded: false }, context);
    }
    return handler(event, context);
  };
}
