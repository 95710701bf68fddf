/**
 * What the workflow bundle gets for zod's `locales` (workers/workflow-bundle.ts): English only.
 * zod's entry point re-exports all of its ~60 locales, and webpack cannot drop what CommonJS
 * exports; they were 0.4 MB of the bundle's 2.3 MB of code that every worker thread and every
 * replay compiles and maps, and no workflow reads a message in another language.
 */
export { default as en } from 'zod/v4/locales/en.cjs';
