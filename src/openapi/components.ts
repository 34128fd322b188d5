import { z } from 'zod';
import { PROBLEM_BASE } from '../http/problem.js';
import { MAX_FIELD_ERRORS } from '../http/validate.js';

/** RFC 9457 problem details, exactly as src/http/problem.ts writes them. */
export const Problem = z
  .object({
    type: z
      .string()
      .max(200)
      .meta({
        description: `\`${PROBLEM_BASE}/<code>\` (codes in docs/errors.md), or \`about:blank\` for an unexpected error`,
        example: `${PROBLEM_BASE}/validation-failed`,
      }),
    title: z
      .string()
      .max(100)
      .meta({ description: "The status code's reason phrase", example: 'Unprocessable Entity' }),
    status: z.number().int().min(400).max(599).meta({ format: 'int32', example: 422 }),
    detail: z.string().max(1_000).meta({ example: 'The request has invalid fields' }),
    instance: z
      .string()
      .max(8_192)
      .meta({ description: 'The path and query of the request', example: '/api/v1/checkins' }),
    requestId: z.string().max(64).meta({ example: '3f0c1c9e-5d8a-4a53-9e8f-2f4b8c1e7a10' }),
    errors: z
      .array(z.object({ path: z.string().max(1_000), message: z.string().max(1_000) }))
      .max(MAX_FIELD_ERRORS)
      .optional()
      .meta({ description: 'One entry per invalid field (400 and 422 only)' }),
  })
  .meta({ id: 'Problem', description: 'An error, as RFC 9457 application/problem+json' });
