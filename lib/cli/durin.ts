#!/usr/bin/env node
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { parseCliArgs, USAGE } from './cli-args';
import { CliError, firstLine } from './cli-error';
import { loadDataSource } from './load-data-source';
import { runCommand } from './run-command';

/**
 * The `durin` command: clients and token cleanup without writing code, as django-rest-durin's
 * `create_client` management command. See "Clients from the command line" in the README.
 */
async function main(argv: readonly string[]): Promise<number> {
  let dataSource: DataSource | undefined;
  try {
    const command = parseCliArgs(argv);
    if (command.kind === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    dataSource = await loadDataSource(command.dataSource, process.cwd());
    if (!dataSource.isInitialized) {
      try {
        await dataSource.initialize();
      } catch (error) {
        throw new CliError(`cannot initialize the DataSource: ${firstLine(error)}`);
      }
    }
    process.stdout.write(await runCommand(command, dataSource));
    return 0;
  } catch (error) {
    return report(error);
  } finally {
    if (dataSource?.isInitialized) {
      await dataSource.destroy().catch(() => undefined);
    }
  }
}

function report(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`durin: ${error.message}\n`);
    if (error.exitCode === 2) process.stderr.write(`\n${USAGE}`);
    return error.exitCode;
  }
  process.stderr.write(`durin: ${firstLine(error)}\n`);
  return 1;
}

/** Exits once the output is written: a driver's idle pool must not keep the process alive. */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

// A driver may fail outside any awaited call (an 'error' event of a pool): still one line.
process.on('uncaughtException', (error) => exit(report(error)));
process.on('unhandledRejection', (error) => exit(report(error)));

void main(process.argv.slice(2)).then(exit);
