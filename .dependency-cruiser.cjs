/**
 * The layering of docs/architecture.md, enforced: `npm run lint` fails on an import that breaks it. Each rule names
 * what it protects; test/architecture/layering.test.ts proves that each one fails on a deliberately wrong import.
 */
/** Where the database is opened: repositories and the platform's database files. */
const REPOSITORY = '\\.repo\\.ts$';
const PLATFORM_DB = '^src/platform/db(-access|-errors|-handle)?\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'routes-reach-no-database',
      comment: 'Routes parse, call a service and pick a status: no repository, no Prisma, no SQL driver.',
      severity: 'error',
      from: { path: '\\.routes\\.ts$' },
      to: { path: [REPOSITORY, PLATFORM_DB, '^src/generated/', 'node_modules/(@prisma|pg)/'] },
    },
    {
      name: 'services-know-no-http-framework',
      comment:
        'Services and the rest of a module hold the rules; Express (req, res, routers, middleware) belongs to routes and src/http. The entitlements file builds the plan-gating middleware routes mount.',
      severity: 'error',
      from: {
        path: '^src/modules/',
        pathNot: ['\\.routes\\.ts$', '^src/modules/subscriptions/subscriptions\\.entitlements\\.ts$'],
      },
      to: { path: 'node_modules/(express|@types/express)/' },
    },
    {
      name: 'modules-hold-only-the-database-handle',
      comment:
        'Modules and middleware hold the database as platform/db-handle.ts describes it; platform/db.ts (the pool and the Prisma client) is for entry points, tools and tests.',
      severity: 'error',
      from: { path: '^src/(modules|http)/' },
      to: { path: '^src/platform/db\\.ts$' },
    },
    {
      name: 'modules-reach-redis-through-its-guard',
      comment:
        'Modules and middleware send Redis commands through platform/redis-guard.ts (a deadline and a circuit breaker, ADR 0016); platform/redis.ts (the client) is for entry points, tools and tests.',
      severity: 'error',
      from: { path: '^src/(modules|http)/' },
      to: { path: '^src/platform/redis\\.ts$' },
    },
    {
      name: 'platform-and-http-import-no-module',
      comment: 'src/platform and src/http serve every module and know none of them.',
      severity: 'error',
      from: { path: '^src/(platform|http)/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'modules-meet-through-services-and-ports',
      comment:
        "A module reaches another only through its service, its port or its schemas (the contract's shapes), never its repository or internals.",
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '\\.(service|port|schemas)\\.ts$'] },
    },
    {
      name: 'only-repositories-open-the-database',
      comment:
        'Prisma (its generated client and its packages) and the repository helpers are opened by repositories and platform/db alone.',
      severity: 'error',
      from: { path: '^src/', pathNot: [REPOSITORY, PLATFORM_DB, '^src/generated/'] },
      to: { path: ['^src/generated/', '^src/platform/db-access\\.ts$', 'node_modules/@prisma/'] },
    },
    {
      name: 'only-repositories-speak-sql',
      comment:
        'The SQL driver is used by repositories and platform/db; embedded-postgres creates the development database on a server before any repository can run, and migrations hands a pool to its repository.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [REPOSITORY, PLATFORM_DB, '^src/platform/embedded-postgres\\.ts$', '^src/platform/migrations\\.ts$'],
      },
      to: { path: 'node_modules/(pg|@types/pg)/' },
    },
    {
      name: 'entry-points-are-imported-by-no-one',
      comment:
        'app.ts is built by api-process.ts (loaded by main.ts once tracing is set up) and tests; main.ts, worker.ts and the CLI commands by no one: importing one would start it.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main|api-process)\\.ts$' },
      to: { path: ['^src/(app|main|worker)\\.ts$', '^src/cli/(?!cli-database\\.ts$)(?!.*\\.repo\\.ts$)[^/]+\\.ts$'] },
    },
    {
      name: 'no-cycles',
      comment: 'An import cycle hides an order of initialisation and two modules that should be one.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    // Reached, so rules can name them, but not walked into.
    doNotFollow: { path: ['node_modules', '^src/generated/'] },
    // Type-only imports are dependencies too: a service typed with Prisma's client is coupled to it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
