import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  describeNeeding,
  findSystemBinary,
  missingBinaryMessage,
  type SystemBinary,
} from './system-binary';

const TOOL = 'durin-test-tool';
const OVERRIDE = 'DURIN_TEST_TOOL';
const INSTALL = 'apt-get install durin-test-tool';

describe('system binaries', () => {
  let dir: string;
  let saved: NodeJS.ProcessEnv;

  function place(sub: string, mode: number): string {
    mkdirSync(join(dir, sub), { recursive: true });
    const path = join(dir, sub, TOOL);
    writeFileSync(path, '#!/bin/sh\n');
    chmodSync(path, mode);
    return path;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'durin-system-binary-'));
    saved = { ...process.env };
    delete process.env[OVERRIDE];
    delete process.env.CI;
  });

  afterEach(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the first executable match on PATH, passing over files that cannot run', () => {
    place('a', 0o644);
    const wanted = place('b', 0o755);
    place('c', 0o755);
    process.env.PATH = ['a', 'b', 'c'].map((sub) => join(dir, sub)).join(delimiter);
    expect(findSystemBinary(TOOL, OVERRIDE, INSTALL).path).toBe(wanted);
  });

  it('prefers the override variable to PATH', () => {
    place('on-path', 0o755);
    const chosen = place('chosen', 0o755);
    process.env.PATH = join(dir, 'on-path');
    process.env[OVERRIDE] = chosen;
    expect(findSystemBinary(TOOL, OVERRIDE, INSTALL)).toEqual({
      name: TOOL,
      path: chosen,
      override: OVERRIDE,
      install: INSTALL,
    });
  });

  it('refuses an override that names no executable file instead of skipping tests', () => {
    process.env[OVERRIDE] = join(dir, 'missing');
    expect(() => findSystemBinary(TOOL, OVERRIDE, INSTALL)).toThrow(
      `${OVERRIDE}=${join(dir, 'missing')} is not an executable file`,
    );
    process.env[OVERRIDE] = dir;
    expect(() => findSystemBinary(TOOL, OVERRIDE, INSTALL)).toThrow(/is not an executable file/);
  });

  it('reports a program found nowhere as missing', () => {
    process.env.PATH = dir;
    expect(findSystemBinary(TOOL, OVERRIDE, INSTALL).path).toBeUndefined();
  });

  it('fails the file under CI=true when the program is missing', () => {
    const missing: SystemBinary = {
      name: TOOL,
      path: undefined,
      override: OVERRIDE,
      install: INSTALL,
    };
    process.env.CI = 'true';
    const register = describeNeeding(missing);
    expect(() => register('needs the tool', () => undefined)).toThrow(
      missingBinaryMessage(missing),
    );
    expect(missingBinaryMessage(missing)).toMatch(
      /^durin-test-tool not found \(searched DURIN_TEST_TOOL, PATH and .*\): apt-get install durin-test-tool, or set DURIN_TEST_TOOL; its tests are required when CI=true$/,
    );
  });
});
