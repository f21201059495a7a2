/**
 * `nestjs-durin/testing`: helpers for the tests of apps that use the library. A separate entry so
 * production code never loads them.
 */
export { issueTestToken } from './issue-test-token';
export type { IssueTestTokenOptions, TestTokenSet } from './issue-test-token';
export { ActingAsGuard, actingAs, actingAsAnonymous } from './acting-as.guard';
export { createTestAuthToken } from './test-auth-token';
export type { TestAuthTokenOptions } from './test-auth-token';
