export { createHttpCheckVerify, HTTP_CHECK_KINDS, type HttpCheckDeps, type HttpCheckKind } from './verify';
