// Preloaded with `node --require`: any attempt to load Prisma or the Neo4j driver fails the process.
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/^(@prisma\/client|\.prisma\/client|neo4j-driver)(\/|$)/.test(request)) throw new Error(`forbidden module loaded: ${request}`);
  return load.call(this, request, ...rest);
};
