-- A monthly reminder due on the 31st falls on Feb 28 once clamped; the series must then return to the 31st (Mar 31),
-- not drift to the 28th. The day the user chose is kept here and carried from one occurrence to the next.
ALTER TABLE "reminder_schedules" ADD COLUMN "anchor_day" SMALLINT;
UPDATE "reminder_schedules" SET "anchor_day" = EXTRACT(DAY FROM "due_date");
ALTER TABLE "reminder_schedules" ALTER COLUMN "anchor_day" SET NOT NULL;
ALTER TABLE "reminder_schedules"
    ADD CONSTRAINT "reminder_schedules_anchor_day_check" CHECK ("anchor_day" BETWEEN 1 AND 31);
