/** A whole PUT /api/v1/profile body (the route takes every field), as the empty profile has them: spread and override. */
export const EMPTY_PROFILE_BODY = {
  monthlyIncomeCents: null,
  currentSavingsCents: null,
  currentDebtCents: null,
  householdSize: null,
  dependents: null,
  city: null,
  state: null,
  zipCode: null,
  employmentStatus: null,
  ageRange: null,
  timezone: 'UTC',
  reminderHour: 9,
  goals: [],
};
