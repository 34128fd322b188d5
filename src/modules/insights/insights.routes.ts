import type { RequestHandler } from 'express';
import { type ApiRouter, createApiRouter } from '../../http/api-router.js';
import { principalOf, requireAuth } from '../../http/authenticate.js';
import { validate } from '../../http/validate.js';
import { json, operation } from '../../openapi/operation.js';
import {
  DEFAULT_INSIGHT_DAYS,
  MAX_INSIGHT_DAYS,
  MIN_CORRELATION_DAYS,
  MoneyAndMood,
  MoneyAndMoodQuery,
} from './insights.schemas.js';
import type { InsightsService } from './insights.service.js';

export interface InsightsRoutesDeps {
  /** The plan's wellness-insights entitlement. */
  entitled: RequestHandler;
}

const MONEY_AND_MOOD = operation({
  operationId: 'getMoneyAndMood',
  tag: 'Insights',
  summary: 'Your spending and income beside your stress, mood and sleep, week by week',
  description:
    `\`from\` to \`to\` spans at most ${MAX_INSIGHT_DAYS} days; by default the ${DEFAULT_INSIGHT_DAYS / 7} weeks ` +
    'ending today in your time zone. Counts posted transactions of your linked accounts, not pending ones, nor ' +
    'transfers between your own accounts. The correlation of daily spending with stress needs ' +
    `${MIN_CORRELATION_DAYS} days holding both. API keys may call it.`,
  replies: { 200: json('The insight', MoneyAndMood) },
});

export function insightsRoutes(svc: InsightsService, deps: InsightsRoutesDeps): ApiRouter {
  const r = createApiRouter();
  r.use(requireAuth());

  const moneyAndMood = validate({ query: MoneyAndMoodQuery });
  r.get('/money-and-mood', MONEY_AND_MOOD, deps.entitled, moneyAndMood, async (req, res) => {
    res.json(await svc.moneyAndMood(principalOf(req).userId, moneyAndMood.input(req).query));
  });

  return r;
}
