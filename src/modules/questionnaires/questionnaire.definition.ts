/**
 * The shape of a questionnaire, written in code (one file per definition under `definitions/`). A definition never
 * changes in place once released: a change to its questions, scoring or bands bumps `version`, and each submission
 * keeps the version, score, band and recommendations it was given.
 */
export interface ScaleOption {
  value: number;
  label: string;
}

export interface ScaleQuestion {
  id: string;
  kind: 'scale';
  text: string;
  /** Consecutive whole numbers, lowest first. */
  options: readonly ScaleOption[];
  /** Scored as (lowest + highest − value): a negatively worded item, where agreeing means a worse outcome. */
  reverse: boolean;
}

/** Optional free text, never scored; stored only inside the encrypted answers. */
export interface TextQuestion {
  id: string;
  kind: 'text';
  text: string;
  maxLength: number;
}

export type Question = ScaleQuestion | TextQuestion;

/** A score range (both ends included) with what we suggest to someone in it. */
export interface Band {
  id: string;
  label: string;
  min: number;
  max: number;
  recommendations: readonly string[];
}

export interface QuestionnaireDefinition {
  slug: string;
  version: number;
  title: string;
  description: string;
  /** How the 0–100 score is computed and what a high score means, in words a user can check. */
  scoring: string;
  questions: readonly Question[];
  /** Contiguous and non-overlapping, covering 0..100. */
  bands: readonly Band[];
}

/** Answers by question id: a scale value, or the text of a free-text question. */
export type Answers = Record<string, number | string>;
