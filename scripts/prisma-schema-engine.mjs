#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, which the CLI downloads on first use and therefore cannot get
// offline (air-gapped CI, locked-down Docker builds). prisma.config.ts points PRISMA_SCHEMA_ENGINE_BINARY here. This
// script runs the engine compiled to WebAssembly (@prisma/schema-engine-wasm, pinned in package.json next to the CLI
// it is known to work with) over a `pg` connection, and speaks the binary's protocol to the CLI:
//   --version                                print the engine version
//   --datasource <json> cli <command>        can-connect-to-database | create-database | drop-database
//   [--datamodels <file>]… --datasource <json>   JSON-RPC 2.0 on stdin/stdout, one message per line
// Why each piece exists, and how to delete this file: docs/adr/0001-prisma-offline-schema-engine.md.
// Rule: never fail quietly. A shim that dies without a word makes `migrate diff --exit-code` print nothing and exit
// 0, so the drift check would pass on nothing. Every failure reaches the CLI as an error and a non-zero exit.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory, ColumnTypeEnum } from '@prisma/driver-adapter-utils';
import pg from 'pg';

const WASM_GLUE = '@prisma/schema-engine-wasm/schema_engine_bg';
const CONNECT_TIMEOUT_MS = 10_000;
// PostgreSQL type oids: the one-byte "char" type (pg_catalog columns such as pg_constraint.contype), and text.
const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
// The native engine answers every failed request with this code; the CLI reads the details from `data`.
const RPC_ENGINE_ERROR = 4466;
// Requests the wasm engine serves under the same name (getDatabaseVersion and createDatabase are answered here).
const ENGINE_METHODS = new Set([
  'applyMigrations',
  'createMigration',
  'dbExecute',
  'debugPanic',
  'devDiagnostic',
  'diagnoseMigrationHistory',
  'diff',
  'ensureConnectionValidity',
  'evaluateDataLoss',
  'introspect',
  'introspectSql',
  'markMigrationApplied',
  'markMigrationRolledBack',
  'reset',
  'schemaPush',
]);

class ShimError extends Error {
  /** @param {string} message @param {string} [errorCode] Prisma's P-code, which the CLI shows and acts upon. */
  constructor(message, errorCode) {
    super(message);
    this.name = 'ShimError';
    this.code = errorCode;
  }
}

// ---- process plumbing -------------------------------------------------------------------------------------------

/** One JSON log line on stderr, in the binary's format: the CLI keeps the message of the last ERROR line. */
function logLine(level, message, errorCode) {
  const fields = errorCode ? { error_code: errorCode, message } : { message };
  process.stderr.write(`${JSON.stringify({ level, target: 'schema_engine::logger', fields })}\n`);
}

// Temporary shadow databases not yet dropped. The engine drops each one when it is done with it; after a crash or a
// panic it never will, so the exit path does.
const shadowCleanups = new Set();

let exiting;
/**
 * Exits once stdout and stderr are flushed (the CLI must see the last answer), whatever pools are still open. The
 * first call decides the exit code: a later "stdin closed, exit 0" must not hide a panic's 101.
 */
function exit(code) {
  exiting ??= (async () => {
    process.exitCode = code;
    if (shadowCleanups.size > 0) {
      const giveUp = new Promise((resolve) => setTimeout(resolve, CONNECT_TIMEOUT_MS).unref());
      await Promise.race([Promise.allSettled([...shadowCleanups].map((cleanup) => cleanup())), giveUp]);
    }
    const flush = (stream) => new Promise((resolve) => stream.write('', resolve));
    await Promise.all([flush(process.stdout), flush(process.stderr)]);
    process.exit(code);
  })();
  return exiting;
}

/** Only Prisma's own codes (P1001…) go to the CLI, which prints and acts on them; not ECONNREFUSED and the like. */
const prismaCode = (error) => (/^P\d{4}$/.test(error?.code ?? '') ? error.code : undefined);

function die(error, exitCode = 1) {
  logLine('ERROR', error instanceof Error ? error.message : String(error), prismaCode(error));
  exit(exitCode);
}

// ---- connection strings -----------------------------------------------------------------------------------------

function parseUrl(url) {
  if (!url) {
    throw new ShimError(
      'The datasource URL is empty: set DATABASE_URL (prisma.config.ts reads it) to a postgresql:// URL.',
      'P1012',
    );
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    throw new ShimError('The datasource URL is not a valid URL.', 'P1013');
  }
  if (parsed.protocol !== 'postgresql:' && parsed.protocol !== 'postgres:') {
    throw new ShimError(`This schema engine shim only supports PostgreSQL, not "${parsed.protocol}" URLs.`, 'P1013');
  }
  const database = decodeURIComponent(parsed.pathname.slice(1));
  const server = `${parsed.hostname || 'localhost'}:${parsed.port || 5432}`;
  return { parsed, database, server, schema: parsed.searchParams.get('schema') ?? undefined };
}

/** The same server, another database (for CREATE/DROP DATABASE, which cannot run in the target itself). */
function withDatabase(parsed, database) {
  const other = new URL(parsed.href);
  other.pathname = `/${encodeURIComponent(database)}`;
  return other.href;
}

/** pg errors → the P-codes the CLI understands (it creates a missing database on P1003, for instance). */
function toShimError(error, { database, server, parsed }) {
  switch (error?.code) {
    case '3D000':
      return new ShimError(`Database \`${database}\` does not exist on the database server at \`${server}\`.`, 'P1003');
    case '42P04':
      return new ShimError(`Database \`${database}\` already exists on the database server at \`${server}\``, 'P1009');
    case '28P01':
    case '28000':
      return new ShimError(
        `Authentication failed against database server at \`${server}\`, the provided database credentials for \`${decodeURIComponent(parsed.username)}\` are not valid.`,
        'P1000',
      );
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return new ShimError(`Can't reach database server at \`${server}\`: ${error.message}`, 'P1001');
  }
  if (/timeout/i.test(error?.message ?? '')) {
    return new ShimError(`Can't reach database server at \`${server}\`: ${error.message}`, 'P1001');
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs one statement in the database of `url`; pg's errors become the P-codes the CLI understands. */
async function runIn(url, sql, target = parseUrl(url)) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // A client whose socket drops emits 'error'; without a listener that would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw Object.assign(toShimError(error, target), { connecting: true });
  }
  try {
    return await client.query(sql);
  } catch (error) {
    throw toShimError(error, target);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Runs one statement from the first of `databases` on the target's server that exists. CREATE and DROP DATABASE
 * cannot run inside the database they create or drop: by default a maintenance database, as the native engine.
 */
async function onServer(target, sql, databases = ['postgres', 'template1']) {
  let missing;
  for (const database of databases) {
    try {
      return await runIn(withDatabase(target.parsed, database), sql, target);
    } catch (error) {
      if (!(error.connecting && error.code === 'P1003')) throw error;
      missing = error;
    }
  }
  throw new ShimError(`None of the databases ${databases.join(', ')} exists on \`${target.server}\`.`, missing?.code);
}

const db = {
  async canConnect(url) {
    await runIn(url, 'SELECT 1');
  },
  async create(url) {
    const target = parseUrl(url);
    await onServer(target, `CREATE DATABASE ${pg.escapeIdentifier(target.database)}`);
    return target.database;
  },
  async drop(url) {
    const target = parseUrl(url);
    await onServer(target, `DROP DATABASE ${pg.escapeIdentifier(target.database)}`);
  },
  async version(url) {
    const { rows } = await runIn(url, 'SELECT version() AS v');
    return rows[0].v;
  },
};

// ---- `cli <command>` mode ----------------------------------------------------------------------------------------

async function runCliCommand(datasource, command) {
  // The CLI discards the first stderr line and parses every later one as JSON (errors carry the P-code).
  logLine('INFO', `schema engine shim: cli ${command}`);
  const url = datasource.url;
  switch (command) {
    case 'can-connect-to-database':
      await db.canConnect(url);
      break;
    case 'create-database':
      await db.create(url);
      break;
    case 'drop-database':
      await db.drop(url);
      break;
    default:
      throw new ShimError(`Unknown cli command \`${command}\`.`);
  }
  exit(0);
}

// ---- the wasm engine ---------------------------------------------------------------------------------------------

let panicMessage;

async function loadEngineModule() {
  // The package's main entry imports the .wasm file as an ES module, which Node 20 refuses
  // (ERR_UNKNOWN_FILE_EXTENSION). So: import the JS glue, instantiate the .wasm next to it by hand.
  const glueUrl = import.meta.resolve(WASM_GLUE);
  const glue = await import(glueUrl);
  const bytes = await readFile(new URL('./schema_engine_bg.wasm', glueUrl));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  // The engine reports a panic's message here before it traps; without this object the panic itself crashes us.
  globalThis.PRISMA_WASM_PANIC_REGISTRY = {
    set_message(message) {
      panicMessage = message;
    },
  };
  return glue;
}

/**
 * Fixes two behaviours of @prisma/adapter-pg that differ from the native engine. It reaches into the adapter's
 * internals, so it checks them first and refuses to run against an adapter it does not recognise.
 */
function patchAdapter(adapter) {
  for (const member of ['performIO', 'queryRaw', 'onError', 'startTransaction', 'client', 'dispose']) {
    if (!(member in adapter)) {
      throw new ShimError(`@prisma/adapter-pg changed (no \`${member}\`): revisit scripts/prisma-schema-engine.mjs.`);
    }
  }
  const patchQueryable = (queryable) => {
    // Introspection reads pg_catalog columns of PostgreSQL's one-byte "char" type (pg_constraint.contype…), and the
    // adapter throws on oid 18 ("Column type 'char' could not be deserialized", prisma/orm#27403) — on any database
    // with a CHECK constraint, for instance. The engine wants these columns as Character, not Text. So: let the
    // adapter map them as text (pg hands the value over as a string either way), remember which columns they were
    // (keyed by the rows array, which queryRaw passes through untouched), and correct their type afterwards.
    const charColumns = new WeakMap();
    const performIO = queryable.performIO.bind(queryable);
    queryable.performIO = async (query) => {
      const result = await performIO(query);
      const indexes = [];
      result.fields.forEach((field, i) => {
        if (field.dataTypeID === PG_CHAR_OID) {
          field.dataTypeID = PG_TEXT_OID;
          indexes.push(i);
        }
      });
      if (indexes.length > 0) charColumns.set(result.rows, indexes);
      return result;
    };
    const queryRaw = queryable.queryRaw.bind(queryable);
    queryable.queryRaw = async (query) => {
      const result = await queryRaw(query);
      for (const i of charColumns.get(result.rows) ?? []) result.columnTypes[i] = ColumnTypeEnum.Character;
      return result;
    };
    return queryable;
  };
  patchQueryable(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => patchQueryable(await startTransaction(isolationLevel));
  // The adapter splits scripts on every ";" and runs the pieces one by one: a ";" inside a string, a comment or a
  // function body breaks the migration, and a failure leaves the earlier statements applied. The native engine
  // sends the whole script as one simple query, which PostgreSQL runs as one implicit transaction. Do the same.
  adapter.executeScript = async (script) => {
    try {
      await adapter.client.query(script);
    } catch (error) {
      adapter.onError(error);
    }
  };
  return adapter;
}

function adapterFactory(url) {
  // Without a URL, say so when the engine first connects: pg would silently use its defaults (localhost, the OS
  // user's database). The wasm engine connects for every command that reaches it, even a schema-to-schema diff.
  const target = () => parseUrl(url);
  const pgAdapter = (connectionString) =>
    new PrismaPg(
      { connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS },
      target().schema ? { schema: target().schema } : undefined,
    ).connect();
  return {
    provider: 'postgres',
    adapterName: '@prisma/adapter-pg',
    connect: async () => patchAdapter(await pgAdapter(url)),
    // Not PrismaPg's own connectToShadowDb: built from a connection string, its "shadow" pool connects to the MAIN
    // database (pg lets the string's database win over the `database` option), so `migrate dev` and the drift
    // check would apply the migrations to — and reset — the real database. A temporary database on the same server
    // instead, created from the main database (as the native engine does) or a maintenance one, dropped after use.
    connectToShadowDb: async () => {
      const main = target();
      const name = `prisma_migrate_shadow_db_${randomUUID()}`;
      const quoted = pg.escapeIdentifier(name);
      await onServer(main, `CREATE DATABASE ${quoted}`, [main.database, 'postgres', 'template1']);
      const drop = () => onServer(main, `DROP DATABASE IF EXISTS ${quoted}`);
      shadowCleanups.add(drop);
      let shadow;
      try {
        shadow = patchAdapter(await pgAdapter(withDatabase(main.parsed, name)));
      } catch (error) {
        await drop().catch(() => {});
        shadowCleanups.delete(drop);
        throw error;
      }
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose(); // closes the pool first: PostgreSQL refuses to drop a database with open sessions
        await drop();
        shadowCleanups.delete(drop);
      };
      return shadow;
    },
  };
}

// ---- JSON-RPC mode -----------------------------------------------------------------------------------------------

async function serveRpc({ datamodels, datasource }) {
  const adapters = bindMigrationAwareSqlAdapterFactory(adapterFactory(datasource.url));
  // Built on the first request that needs it, so that a setup failure is that request's answer: if this process
  // exited before the CLI registered its request, the CLI would wait for an answer that never comes.
  let enginePromise;
  const engine = () => {
    enginePromise ??= (async () => {
      if (datasource.shadowDatabaseUrl) {
        // The wasm engine takes its shadow database from the adapter factory, which creates a temporary one.
        // Using the configured one would need the native engine's reset logic: refuse rather than ignore it.
        throw new ShimError(
          'shadowDatabaseUrl is not supported by the schema engine shim: remove it from prisma.config.ts.',
        );
      }
      const files = await Promise.all(datamodels.map(async (path) => [path, await readFile(path, 'utf8')]));
      // The engine panics on an empty file list (`migrate diff` passes none); a bare datasource is all it needs.
      if (files.length === 0) files.push(['schema.prisma', 'datasource db {\n  provider = "postgresql"\n}\n']);
      const glue = await loadEngineModule();
      return glue.SchemaEngine.new(
        { datamodels: files },
        // The engine's logs are JSON lines already; the CLI reads them from stderr (errors, migration progress).
        (line) => process.stderr.write(line.endsWith('\n') ? line : `${line}\n`),
        adapters,
      );
    })();
    return enginePromise;
  };

  const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
  const awaitingReply = new Map();
  let nextRequestId = 1;
  /** Asks the CLI to print (the engine's output for `migrate diff`) and waits until it has. */
  const print = (content) =>
    new Promise((resolve) => {
      const id = nextRequestId++;
      awaitingReply.set(id, resolve);
      send({ jsonrpc: '2.0', id, method: 'print', params: { content } });
    });

  const urlOf = (params) => (params?.datasource?.tag === 'ConnectionString' ? params.datasource.url : datasource.url);

  async function call(method, params) {
    if (method === 'getDatabaseVersion') return db.version(urlOf(params)); // also works after an engine failure
    if (method === 'createDatabase') return { databaseName: await db.create(urlOf(params)) };
    if (!ENGINE_METHODS.has(method)) {
      throw new ShimError(`The schema engine shim does not support the \`${method}\` request.`);
    }
    const instance = await engine();
    try {
      return await instance[method](params);
    } catch (error) {
      // The wasm engine obtains shadow databases through `devDiagnostic`; in `migrate dev` these two calls can
      // still fail for want of one (seen: createMigration right after evaluateDataLoss, with migrations pending).
      // Another devDiagnostic run provides it; retry once.
      if (
        (method === 'evaluateDataLoss' || method === 'createMigration') &&
        /shadow DB must be provided through an external factory/i.test(error?.message ?? '')
      ) {
        await instance.devDiagnostic({ migrationsList: params.migrationsList, filters: params.filters });
        return await instance[method](params);
      }
      throw error;
    }
  }

  let inFlight; // the request being served, so a crash can still be answered
  async function handle(request) {
    inFlight = request;
    try {
      let result = await call(request.method, request.params);
      if (request.method === 'diff' && typeof result?.stdout === 'string') {
        await print(result.stdout);
        result = { ...result, stdout: null };
      }
      send({ jsonrpc: '2.0', id: request.id, result: result ?? null });
    } catch (error) {
      replyWithError(request, error);
      // After a panic the wasm instance is unusable: stop, with the binary's panic exit code.
      if (error instanceof WebAssembly.RuntimeError) exit(101);
    } finally {
      inFlight = undefined;
    }
  }

  function replyWithError(request, thrown) {
    // An error thrown in our adapter code (not a database error) reaches the engine only as "External error id#N";
    // the original, with its message and P-code, waits in the registry under that id.
    const externalId = /External error id#(\d+)/.exec(thrown?.message ?? '')?.[1];
    const error = (externalId && adapters.errorRegistry.consumeError(Number(externalId))?.error) || thrown;
    const isPanic = error instanceof WebAssembly.RuntimeError;
    const message =
      (isPanic ? `${panicMessage ?? 'the schema engine panicked'} (${error.message})` : error?.message) ||
      String(error);
    send({
      jsonrpc: '2.0',
      id: request.id,
      error: {
        code: RPC_ENGINE_ERROR,
        // The CLI shows `message` for panics and `data.message` otherwise.
        message,
        data: {
          is_panic: isPanic,
          message,
          ...(prismaCode(error) ? { error_code: prismaCode(error) } : {}),
          ...(error?.meta ? { meta: error.meta } : {}),
        },
      },
    });
  }

  // The wasm glue throws some errors (bad parameters, a poisoned instance) from a microtask instead of rejecting
  // the call's promise. Answer the request being served, then stop: the instance cannot be trusted any more.
  const crash = (error) => {
    if (inFlight) replyWithError(inFlight, error);
    die(error, error instanceof WebAssembly.RuntimeError ? 101 : 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  // Requests run one at a time, as the binary does; replies to our own `print` requests bypass the queue.
  let queue = Promise.resolve();
  const lines = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let message;
    try {
      message = JSON.parse(line);
    } catch {
      send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      return;
    }
    if (message.method === undefined && awaitingReply.has(message.id)) {
      awaitingReply.get(message.id)();
      awaitingReply.delete(message.id);
      return;
    }
    if (typeof message.method !== 'string' || message.id === undefined) {
      send({ jsonrpc: '2.0', id: message.id ?? null, error: { code: -32600, message: 'Invalid Request' } });
      return;
    }
    queue = queue.then(() => handle(message));
  });
  // The CLI closes stdin when it is done (or gone: then nobody will answer a pending `print` either). Pools would
  // keep the process alive, so leave explicitly.
  lines.on('close', () => {
    for (const resolve of awaitingReply.values()) resolve();
    queue.then(() => exit(0));
  });
}

// ---- entry -------------------------------------------------------------------------------------------------------

function engineVersion() {
  // "7.10.0-7.<engine commit hash>": the binary prints the hash. package.json is not exported, so read it from disk.
  const packageJson = join(dirname(fileURLToPath(import.meta.resolve(WASM_GLUE))), 'package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8'));
  return version.slice(version.lastIndexOf('.') + 1);
}

async function main() {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    allowPositionals: true,
    options: {
      version: { type: 'boolean', short: 'V' },
      datamodels: { type: 'string', multiple: true, default: [] },
      datasource: { type: 'string' },
      'enabled-preview-features': { type: 'string' },
      'extension-types': { type: 'string' },
    },
  });
  if (values.version) {
    process.stdout.write(`schema-engine-cli ${engineVersion()}\n`);
    return;
  }
  const extensionTypes = values['extension-types'] ? JSON.parse(values['extension-types']) : undefined;
  if (extensionTypes?.types?.length) {
    throw new ShimError('Extension types are not supported by the schema engine shim.');
  }
  const datasource = values.datasource ? JSON.parse(values.datasource) : {};
  if (positionals[0] === 'cli') {
    if (positionals.length !== 2) throw new ShimError(`Usage: --datasource <json> cli <command>`);
    // The first stderr line is discarded by the CLI: make sure an error is never that line.
    return runCliCommand(datasource, positionals[1]).catch((error) => {
      die(error);
    });
  }
  if (positionals.length > 0) throw new ShimError(`Unexpected arguments: ${positionals.join(' ')}`);
  return serveRpc({ datamodels: values.datamodels, datasource });
}

main().catch((error) => {
  // For `cli` mode the CLI drops the first stderr line; an extra line keeps the error visible either way.
  logLine('INFO', 'schema engine shim: failed to start');
  die(error);
});
