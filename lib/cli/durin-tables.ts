import { DataSource, EntityMetadata, Repository } from 'typeorm';
import { AbstractAuthToken } from '../entities/abstract-auth-token.entity';
import { ClientEntity } from '../entities/client.entity';
import { EntityClass } from '../interfaces/durin-module-options.interface';
import { CliError } from './cli-error';

/** The durin entities of an initialized DataSource. */
export interface DurinTables {
  clients: Repository<ClientEntity>;
  tokens: Repository<AbstractAuthToken>;
  /** The target of the tokens' `user` relation: `resolveDurinOptions` wants it. */
  userEntity: EntityClass;
}

/**
 * Finds ClientEntity and the token entity (AuthTokenEntity or the app's own subclass of
 * AbstractAuthToken) among the DataSource's entities, by class: the same classes this command's
 * units were written against.
 */
export function durinTables(dataSource: DataSource): DurinTables {
  const metadatas = dataSource.entityMetadatas;
  const client = metadatas.find((metadata) => metadata.target === ClientEntity);
  const tokens = metadatas.filter(isTokenEntity);
  if (client === undefined || tokens.length === 0) {
    // A table of ours under a class that is not ours: two installed copies of nestjs-durin.
    const foreign = metadatas.some((metadata) => metadata.tableName === 'auth_client');
    throw new CliError(
      foreign
        ? 'the DataSource uses the entities of another copy of nestjs-durin than this durin command: run the one installed with the app (npx durin)'
        : 'the DataSource lacks the nestjs-durin entities: add ClientEntity and the token entity (AuthTokenEntity or your own) to its entities',
    );
  }
  // Named DurinModule instances map subclasses onto one table; more tables would be ambiguous.
  const tables = new Set(tokens.map((metadata) => metadata.tableName));
  if (tables.size > 1) {
    throw new CliError(
      `the DataSource has several token tables (${[...tables].join(', ')}); give the durin command a DataSource with one`,
    );
  }
  const user = tokens[0].findRelationWithPropertyPath('user')?.inverseEntityMetadata.target;
  if (typeof user !== 'function') {
    throw new CliError('the token entity has no user relation: is registerDurinUserEntity called?');
  }
  return {
    clients: dataSource.getRepository(ClientEntity),
    tokens: dataSource.getRepository<AbstractAuthToken>(tokens[0].target),
    userEntity: user as EntityClass,
  };
}

function isTokenEntity(metadata: EntityMetadata): boolean {
  const target = metadata.target;
  return typeof target === 'function' && target.prototype instanceof AbstractAuthToken;
}
