/** The Domus version (package.json's, kept in step by scripts/build.mjs's check). */
export const DOMUS_VERSION = '0.1.0';
