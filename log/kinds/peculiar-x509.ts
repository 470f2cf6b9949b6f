// peculiar-x509.ts is the one way log code imports @peculiar/x509. The library resolves its
// services through tsyringe, which throws at load unless the Reflect metadata polyfill was loaded
// first; ES modules evaluate imports in order, so loading both here, in this order, makes every
// importer safe whatever it imported before.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
