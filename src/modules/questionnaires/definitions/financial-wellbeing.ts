import type { QuestionnaireDefinition, ScaleOption } from '../questionnaire.definition.js';

const DESCRIBES_ME: readonly ScaleOption[] = [
  { value: 1, label: 'Not at all' },
  { value: 2, label: 'Very little' },
  { value: 3, label: 'Somewhat' },
  { value: 4, label: 'Very well' },
  { value: 5, label: 'Completely' },
];

const HOW_OFTEN: readonly ScaleOption[] = [
  { value: 1, label: 'Never' },
  { value: 2, label: 'Rarely' },
  { value: 3, label: 'Sometimes' },
  { value: 4, label: 'Often' },
  { value: 5, label: 'Always' },
];

/**
 * The ten items and their direction follow the CFPB Financial Well-Being Scale: Consumer Financial Protection Bureau,
 * "Measuring financial well-being: A guide to using the CFPB Financial Well-Being Scale", December 2015 (a US
 * government work). Items 3, 5, 6, 7, 9 and 10 are negatively worded and reverse-scored, as in the guide.
 *
 * The scoring is NOT the CFPB's: the official score comes from item-response-theory lookup tables (by response mode
 * and age group) and runs from about 14 to 95. We use a transparent linear rescaling instead — reverse the negative
 * items, sum, map the possible range of the sum onto 0–100 — so a user can check their score by hand. Our numbers
 * are therefore not comparable with published CFPB scores or their national averages.
 */
export const financialWellbeing: QuestionnaireDefinition = {
  slug: 'financial-wellbeing',
  version: 1,
  title: 'Financial well-being',
  description:
    'Ten statements about your money situation, in the spirit of the CFPB Financial Well-Being Scale. Takes about two minutes.',
  scoring:
    'Each answer counts 1 to 5; for the six negatively worded statements (3, 5, 6, 7, 9, 10) the count is reversed ' +
    '(5 becomes 1). The ten counts are summed (10 to 50) and rescaled linearly to 0–100, rounded to the nearest ' +
    'whole number. Higher means greater financial well-being. This is not the official CFPB score, which uses ' +
    'IRT lookup tables; the two are not comparable.',
  questions: [
    {
      id: 'q1',
      kind: 'scale',
      text: 'I could handle a major unexpected expense.',
      options: DESCRIBES_ME,
      reverse: false,
    },
    { id: 'q2', kind: 'scale', text: 'I am securing my financial future.', options: DESCRIBES_ME, reverse: false },
    {
      id: 'q3',
      kind: 'scale',
      text: 'Because of my money situation, I feel like I will never have the things I want in life.',
      options: DESCRIBES_ME,
      reverse: true,
    },
    {
      id: 'q4',
      kind: 'scale',
      text: 'I can enjoy life because of the way I am managing my money.',
      options: DESCRIBES_ME,
      reverse: false,
    },
    { id: 'q5', kind: 'scale', text: 'I am just getting by financially.', options: DESCRIBES_ME, reverse: true },
    {
      id: 'q6',
      kind: 'scale',
      text: 'I am concerned that the money I have or will save will not last.',
      options: DESCRIBES_ME,
      reverse: true,
    },
    {
      id: 'q7',
      kind: 'scale',
      text: 'Giving a gift for a wedding, birthday or other occasion would put a strain on my finances for the month.',
      options: HOW_OFTEN,
      reverse: true,
    },
    {
      id: 'q8',
      kind: 'scale',
      text: 'I have money left over at the end of the month.',
      options: HOW_OFTEN,
      reverse: false,
    },
    { id: 'q9', kind: 'scale', text: 'I am behind with my finances.', options: HOW_OFTEN, reverse: true },
    { id: 'q10', kind: 'scale', text: 'My finances control my life.', options: HOW_OFTEN, reverse: true },
  ],
  bands: [
    {
      id: 'very-low',
      label: 'Very low',
      min: 0,
      max: 19,
      recommendations: [
        'List every bill and debt with its due date, then call the lenders you are behind with: most offer hardship plans before an account goes to collections.',
        'Book a free session with a nonprofit credit counselor (NFCC member agencies) to build a plan you can keep.',
        'Cover essentials first — housing, utilities, food, transport to work — before any other payment.',
      ],
    },
    {
      id: 'low',
      label: 'Low',
      min: 20,
      max: 39,
      recommendations: [
        'Track every expense for the next 30 days to see where your money really goes.',
        'Start a starter emergency fund: even $25 a paycheck, moved automatically on payday.',
        'Pay at least the minimum on every debt on time, then put anything extra on the highest-interest one.',
      ],
    },
    {
      id: 'medium',
      label: 'Medium',
      min: 40,
      max: 59,
      recommendations: [
        'Build your emergency fund toward one month of essential expenses.',
        'Set up automatic transfers to savings right after each paycheck lands.',
        'Review subscriptions and recurring charges; cancel what you no longer use.',
      ],
    },
    {
      id: 'high',
      label: 'High',
      min: 60,
      max: 79,
      recommendations: [
        'Grow your emergency fund toward three to six months of expenses.',
        'Make sure you capture any employer retirement match, then raise your contribution by 1% each year.',
        'Set one concrete goal for the next 12 months (a down payment, a debt paid off) and automate it.',
      ],
    },
    {
      id: 'very-high',
      label: 'Very high',
      min: 80,
      max: 100,
      recommendations: [
        'Keep your habits: review your budget and goals once a quarter.',
        'Look at long-term investing beyond retirement accounts, and at your insurance coverage.',
        'Consider a fee-only fiduciary advisor for bigger decisions such as buying a home or starting a business.',
      ],
    },
  ],
};
