import { createSecretKey } from 'node:crypto';
import bcrypt from 'bcrypt';
import express, { type Express, type Request } from 'express';
import jwt from 'jsonwebtoken';
import type pg from 'pg';

/** What a baseline may use of the running bench: the app's own database, JWT settings and bench account. */
export interface BaselineContext {
  /** A pool of its own on the app's database, as large as the app's (DATABASE_POOL_MAX). */
  pool: pg.Pool;
  /** The app's JWT_SECRET, issuer and audience, so that the baseline verifies the app's real access tokens. */
  jwt: { secret: string; issuer: string; audience: string };
  /** A bcrypt hash of the bench account's password, at the app's BCRYPT_COST. */
  passwordHash: string;
  /** An account of the baseline's own, whose check-ins cannot collide with those the app writes for the bench account. */
  baselineUserId: string;
}

/**
 * Express 5 with the app's two settings that are not middleware (no ETag, no X-Powered-By), so that what a ratio
 * measures is our middleware stack, not a hash of each body.
 */
function bare(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  return app;
}

/**
 * The app's check of an access token with the least code: HS256 pinned, issuer and audience checked. The secret is
 * handed to jsonwebtoken as a KeyObject made once, its cheapest correct use: given a string, jsonwebtoken 9 first
 * tries to parse it as a public key, a failed parse that costs more than the verification itself
 * (auth0/node-jsonwebtoken#1046; docs/performance.md).
 */
function bearerClaims(settings: BaselineContext['jwt']): (req: Request) => jwt.JwtPayload {
  const key = createSecretKey(Buffer.from(settings.secret, 'utf8'));
  const options: jwt.VerifyOptions = {
    algorithms: ['HS256'],
    issuer: settings.issuer,
    audience: settings.audience,
  };
  return (req) => jwt.verify(req.headers.authorization?.replace(/^Bearer /i, '') ?? '', key, options) as jwt.JwtPayload;
}

function bareJson(): Express {
  const app = bare();
  app.get('/json', (_req, res) => {
    res.json({ status: 'ok' });
  });
  return app;
}

/** An authenticated read's unavoidable work: verify the HS256 token (`bearerClaims`), read the account by key. */
function jwtSelect({ pool, jwt: settings }: BaselineContext): Express {
  const verify = bearerClaims(settings);
  const app = bare();
  app.get('/me', async (req, res) => {
    const claims = verify(req);
    const { rows } = await pool.query(
      'SELECT id, email, name, role, status, created_at AS "createdAt" FROM users WHERE id = $1',
      [claims.sub],
    );
    res.json(rows[0]);
  });
  return app;
}

/**
 * Reference servers measured in the same run as the app, so its figures read as ratios rather than as absolute
 * numbers that depend on the machine. Each is the least code that does the same job as the app's route it is
 * compared with.
 */
export const baselines = {
  'bare-json': bareJson,
  /** Informational: `bare-json` served as the app is (ADR 0013), the reference for the probes on equal terms. */
  'bare-json-app-server': bareJson,

  /** A login's unavoidable work: parse the JSON body, one bcrypt.compare at the app's cost. */
  'bcrypt-compare': ({ passwordHash }: BaselineContext) => {
    const app = bare();
    app.use(express.json());
    app.post('/login', async (req, res) => {
      const { password } = req.body as { password?: unknown };
      const valid = typeof password === 'string' && (await bcrypt.compare(password, passwordHash));
      res.status(valid ? 200 : 401).json({ valid });
    });
    return app;
  },

  'jwt-select': jwtSelect,
  /**
   * Informational: `jwt-select` served as the app is (`createHttpServer`, ADR 0013) instead of by `app.listen`, so
   * that neither side pays Express's per-request prototype change: what our middleware and route cost by themselves.
   */
  'jwt-select-app-server': jwtSelect,

  /**
   * A history page's least code: verify the token, the same keyset SELECT of 21 rows on the (user_id, checkin_date)
   * index as the app, the rows as JSON. No decryption (notes go out as stored) and no session check or rate limit.
   * Shown next to the list for information: how much of the list's cost is twenty rows themselves.
   */
  'jwt-page': ({ pool, jwt: settings }: BaselineContext) => {
    const verify = bearerClaims(settings);
    const app = bare();
    app.get('/checkins', async (req, res) => {
      const claims = verify(req);
      const { rows } = await pool.query(
        `SELECT id, to_char(checkin_date, 'YYYY-MM-DD') AS "checkinDate", stress_level AS "stressLevel",
           mood_rating AS "moodRating", relationships_rating AS "relationshipsRating",
           sleep_hours::float8 AS "sleepHours", physical_activity_minutes AS "physicalActivityMinutes",
           mindfulness_minutes AS "mindfulnessMinutes", notes_enc AS "notes", created_at AS "createdAt",
           updated_at AS "updatedAt"
         FROM user_health_checkins WHERE user_id = $1 ORDER BY checkin_date DESC, id DESC LIMIT 21`,
        [claims.sub],
      );
      res.json({ data: rows.slice(0, 20), nextCursor: rows.length > 20 ? rows[19].id : null });
    });
    return app;
  },

  /**
   * A write's unavoidable work: verify the token, parse the JSON body, one INSERT of the check-in's columns (the
   * app adds validation, the user's time zone, encryption of the notes and its audit row).
   */
  'jwt-insert': ({ pool, jwt: settings, baselineUserId }: BaselineContext) => {
    const verify = bearerClaims(settings);
    const app = bare();
    app.use(express.json());
    app.post('/checkins', async (req, res) => {
      verify(req);
      const b = req.body as Record<string, unknown>;
      const { rows } = await pool.query(
        `INSERT INTO user_health_checkins (user_id, checkin_date, stress_level, mood_rating, relationships_rating,
           sleep_hours, physical_activity_minutes, mindfulness_minutes, notes_enc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, created_at AS "createdAt"`,
        [
          baselineUserId,
          b.checkinDate,
          b.stressLevel,
          b.moodRating,
          b.relationshipsRating,
          b.sleepHours,
          b.physicalActivityMinutes,
          b.mindfulnessMinutes,
          b.notes,
        ],
      );
      res.status(201).json({ ...rows[0], ...b });
    });
    return app;
  },
} satisfies Record<string, (ctx: BaselineContext) => Express>;

export type BaselineName = keyof typeof baselines;

/** The baselines served by the app's own server; the others listen as bare Express does (`app.listen`). */
export const SERVED_LIKE_THE_APP: ReadonlySet<BaselineName> = new Set([
  'bare-json-app-server',
  'jwt-select-app-server',
]);
