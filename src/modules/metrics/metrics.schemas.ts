import { z } from 'zod';

/**
 * Every label set is bounded (route templates, never raw URLs; methods; statuses), so the exposition stays far
 * below a mebibyte; 16 MiB is the ceiling a scraper can plan for.
 */
const MAX_EXPOSITION_CHARS = 16 * 1024 * 1024;

export const MetricsExposition = z
  .string()
  .max(MAX_EXPOSITION_CHARS)
  .meta({
    id: 'MetricsExposition',
    description: 'Prometheus text exposition format 0.0.4',
    example:
      '# HELP mingus_http_request_duration_seconds Time from the first byte of a request to the last byte of its answer\n' +
      '# TYPE mingus_http_request_duration_seconds histogram\n' +
      'mingus_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health",status="200"} 12\n',
  });
