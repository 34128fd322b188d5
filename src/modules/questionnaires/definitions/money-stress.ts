import type { QuestionnaireDefinition, ScaleOption } from '../questionnaire.definition.js';

const PAST_MONTH: readonly ScaleOption[] = [
  { value: 1, label: 'Never' },
  { value: 2, label: 'Rarely' },
  { value: 3, label: 'Sometimes' },
  { value: 4, label: 'Often' },
  { value: 5, label: 'Very often' },
];

/**
 * A short self-check written for Mingus, not a validated clinical instrument. Higher means MORE money stress (the
 * opposite direction of financial-wellbeing). Items 3 and 6 are positively worded and reverse-scored. The optional
 * free-text item is never scored and is stored only inside the encrypted answers.
 */
export const moneyStress: QuestionnaireDefinition = {
  slug: 'money-stress',
  version: 1,
  title: 'Money stress check',
  description: 'Six quick questions about how money has weighed on you over the past month. Takes under a minute.',
  scoring:
    'Each answer counts 1 to 5; for statements 3 and 6 (feeling in control, feeling prepared) the count is reversed. ' +
    'The six counts are summed (6 to 30) and rescaled linearly to 0–100, rounded to the nearest whole number. ' +
    'Higher means more money stress. The free-text question is optional and not scored.',
  questions: [
    {
      id: 'q1',
      kind: 'scale',
      text: 'In the past month, how often did you worry about being able to pay your regular bills?',
      options: PAST_MONTH,
      reverse: false,
    },
    {
      id: 'q2',
      kind: 'scale',
      text: 'In the past month, how often did thinking about money keep you from sleeping well?',
      options: PAST_MONTH,
      reverse: false,
    },
    {
      id: 'q3',
      kind: 'scale',
      text: 'In the past month, how often did you feel in control of your finances?',
      options: PAST_MONTH,
      reverse: true,
    },
    {
      id: 'q4',
      kind: 'scale',
      text: 'In the past month, how often did money cause tension with a partner, family member or friend?',
      options: PAST_MONTH,
      reverse: false,
    },
    {
      id: 'q5',
      kind: 'scale',
      text: 'In the past month, how often did you avoid looking at your bank balance or your bills?',
      options: PAST_MONTH,
      reverse: false,
    },
    {
      id: 'q6',
      kind: 'scale',
      text: 'In the past month, how often did you feel ready to handle a surprise expense?',
      options: PAST_MONTH,
      reverse: true,
    },
    {
      id: 'q7',
      kind: 'text',
      text: 'Is there something specific about money weighing on you right now? (optional, private)',
      maxLength: 1000,
    },
  ],
  bands: [
    {
      id: 'low',
      label: 'Low stress',
      min: 0,
      max: 24,
      recommendations: [
        'Keep what works: a short weekly money check-in keeps small issues small.',
        'Use this calm stretch to automate savings toward your next goal.',
      ],
    },
    {
      id: 'moderate',
      label: 'Moderate stress',
      min: 25,
      max: 49,
      recommendations: [
        'Pick the one bill or debt that worries you most and write down the next concrete step for it.',
        'Schedule 15 minutes a week to look at your accounts, so money stays a task rather than a worry.',
        'Set reminders for due dates so nothing slips through.',
      ],
    },
    {
      id: 'high',
      label: 'High stress',
      min: 50,
      max: 74,
      recommendations: [
        'Talk about it with someone you trust; money stress shrinks when it is shared.',
        'Call creditors before a payment is missed: hardship plans and due-date changes are common.',
        'Protect your sleep and routines; decisions made exhausted cost more.',
      ],
    },
    {
      id: 'severe',
      label: 'Severe stress',
      min: 75,
      max: 100,
      recommendations: [
        'Contact a nonprofit credit counselor (NFCC member agencies offer free sessions) this week.',
        'If money worries affect your health or safety, reach out to a doctor or call or text 988 (Suicide & Crisis Lifeline, US).',
        'Focus on essentials first — housing, utilities, food — and let the rest wait until you have a plan.',
      ],
    },
  ],
};
