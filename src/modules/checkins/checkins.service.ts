import { randomUUID } from 'node:crypto';
import { dateWindow } from '../../http/date-window.js';
import { NotFoundError, UnprocessableError } from '../../http/errors.js';
import type { Cursors, DatedPosition } from '../../http/pagination.js';
import type { RequestContext } from '../../http/request-context.js';
import { addDays, type LocalDate, localDate } from '../../platform/calendar.js';
import type { FieldCipher } from '../../platform/crypto.js';
import type { Db } from '../../platform/db-handle.js';
import type { AuditLog } from '../audit/audit.port.js';
import type { ProfilesService } from '../profiles/profiles.service.js';
import { changesOf, decodeCheckin, encodeCheckin } from './checkins.codec.js';
import {
  type CheckinRow,
  deleteCheckin,
  findCheckin,
  insertCheckinAudited,
  listCheckins,
  lockCheckin,
  summarize,
  updateCheckin,
} from './checkins.repo.js';
import {
  type Checkin,
  type CheckinListQuery,
  type CheckinSummary,
  type CheckinSummaryQuery,
  type CreateCheckinBody,
  DEFAULT_SUMMARY_DAYS,
  MAX_SUMMARY_DAYS,
  METRICS,
  type Metric,
  type UpdateCheckinBody,
} from './checkins.schemas.js';

export interface CheckinsServiceDeps {
  db: Db;
  /** Where the service records what it changed (the audit module's port). */
  auditLog: AuditLog;
  cipher: FieldCipher;
  cursors: Cursors;
  profiles: Pick<ProfilesService, 'timezoneOf'>;
  now: () => Date;
}

export type CheckinsService = ReturnType<typeof createCheckinsService>;

/** The list's own names for the shared (date, id) position. */
const afterDated = (position: DatedPosition | undefined) => position && { checkinDate: position.date, id: position.id };

export function createCheckinsService(deps: CheckinsServiceDeps) {
  const { db, auditLog, cipher, cursors, profiles, now } = deps;
  const decode = (userId: string) => (row: CheckinRow) => decodeCheckin(cipher, userId, row);
  const audit = (ctx: RequestContext) => ({ ip: ctx.ip, requestId: ctx.requestId });

  /** The user's today: at 02:00 UTC it is already tomorrow in Kiritimati and still yesterday in Los Angeles. */
  async function todayOf(userId: string): Promise<LocalDate> {
    return localDate(now(), await profiles.timezoneOf(userId));
  }

  async function refuseFuture(userId: string, date: LocalDate): Promise<void> {
    const today = await todayOf(userId);
    if (date > today) {
      throw new UnprocessableError('checkin-date-in-future', 'A check-in cannot be for a day after today', [
        { path: 'body.checkinDate', message: `is after today (${today}) in your time zone` },
      ]);
    }
  }

  return {
    async create(userId: string, body: CreateCheckinBody, ctx: RequestContext): Promise<Checkin> {
      await refuseFuture(userId, body.checkinDate);
      const audited = auditLog.ofInsert({ action: 'checkin.create', targetType: 'checkin', ...audit(ctx) });
      // The id is made here, not by the database: the notes are encrypted bound to it before the row exists.
      const id = randomUUID();
      const row = await insertCheckinAudited(db, userId, id, encodeCheckin(cipher, userId, id, body), audited);
      return decodeCheckin(cipher, userId, row);
    },

    async get(userId: string, id: string): Promise<Checkin> {
      const row = await findCheckin(db, userId, id);
      if (!row) throw new NotFoundError('not-found', 'No such check-in');
      return decodeCheckin(cipher, userId, row);
    },

    async list(userId: string, query: CheckinListQuery): Promise<{ data: Checkin[]; nextCursor: string | null }> {
      const rows = await listCheckins(db, userId, {
        from: query.from,
        to: query.to,
        after: afterDated(cursors.decodeDated(query.cursor)),
        take: query.limit + 1,
      });
      return cursors.page(rows, query.limit, (row) => ({ key: row.checkinDate, id: row.id }), decode(userId));
    },

    /** Only what differs is written and audited; a PATCH that changes nothing writes nothing. */
    async update(userId: string, id: string, patch: UpdateCheckinBody, ctx: RequestContext): Promise<Checkin> {
      if (patch.checkinDate !== undefined) await refuseFuture(userId, patch.checkinDate);
      return db.transaction(async (tx) => {
        const locked = await lockCheckin(tx, userId, id);
        if (!locked) throw new NotFoundError('not-found', 'No such check-in');
        const current = decodeCheckin(cipher, userId, locked);
        const { fields, data } = changesOf(cipher, userId, current, patch);
        if (fields.length === 0) return current;
        const updated = await updateCheckin(tx, id, data);
        await auditLog.record(tx, {
          action: 'checkin.update',
          userId,
          targetType: 'checkin',
          targetId: id,
          fields,
          ...audit(ctx),
        });
        return decodeCheckin(cipher, userId, updated);
      });
    },

    async remove(userId: string, id: string, ctx: RequestContext): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await deleteCheckin(tx, userId, id))) throw new NotFoundError('not-found', 'No such check-in');
        await auditLog.record(tx, {
          action: 'checkin.delete',
          userId,
          targetType: 'checkin',
          targetId: id,
          ...audit(ctx),
        });
      });
    },

    async summary(userId: string, query: CheckinSummaryQuery): Promise<CheckinSummary> {
      const today = await todayOf(userId);
      const { from, to } = dateWindow(query, today, { defaultDays: DEFAULT_SUMMARY_DAYS, maxDays: MAX_SUMMARY_DAYS });
      const row = await summarize(db, userId, { from, to, today });
      const means = (window: 'range' | 'current' | 'previous' | 'change') =>
        Object.fromEntries(METRICS.map((m) => [m, row[`${window}_${m}`]])) as Record<Metric, number | null>;
      return {
        from,
        to,
        count: row.rangeCount,
        averages: means('range'),
        streak: { days: row.streakDays, endsOn: row.streakEndsOn },
        weekOverWeek: {
          current: { from: addDays(to, -6), to, count: row.currentCount, averages: means('current') },
          previous: {
            from: addDays(to, -13),
            to: addDays(to, -7),
            count: row.previousCount,
            averages: means('previous'),
          },
          change: means('change'),
        },
      };
    },
  };
}
