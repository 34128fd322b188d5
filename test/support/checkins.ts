/** A valid check-in body for `checkinDate`, without notes: for tests of what surrounds the check-ins route. */
export const checkinOn = (checkinDate: string) => ({
  checkinDate,
  stressLevel: 5,
  moodRating: 6,
  relationshipsRating: 7,
  sleepHours: 7,
  physicalActivityMinutes: 20,
  mindfulnessMinutes: 5,
});
