/** zod validation of request bodies and params with `{detail}` 400s that name the field. */
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';

export function describeIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

/** Returns the parsed value, or sends a 400 and returns undefined. */
export function parseBody<T extends z.ZodTypeAny>(reply: FastifyReply, schema: T, body: unknown): z.infer<T> | undefined {
  const r = schema.safeParse(body ?? {});
  if (r.success) return r.data;
  reply.code(400).send({ detail: `invalid request: ${describeIssues(r.error)}` });
  return undefined;
}
