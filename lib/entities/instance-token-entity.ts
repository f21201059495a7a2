import { Entity, getMetadataArgsStorage, ManyToOne } from 'typeorm';
import { EntityClass } from '../interfaces/durin-module-options.interface';
import { AbstractAuthToken } from './abstract-auth-token.entity';

/**
 * The token entity of a named instance. `AbstractAuthToken.user` points at the one user entity
 * registered for the process (the default instance's), which a second instance with its own users
 * cannot share. So each named instance gets a subclass of its token model whose `user` relation
 * targets that instance's user entity; TypeORM lets a subclass's relation of the same property
 * replace the parent's type and keeps the parent's join column (`user_id`), indices and options.
 * The table keeps the model's name (`auth_token`), so DURIN_MIGRATIONS serve every data source.
 *
 * Cached per (user entity, model, name): building the same instance again (a test app per test)
 * must hand TypeORM the same class, not a second entity for the same table.
 */
const built = new WeakMap<
  EntityClass,
  WeakMap<EntityClass, Map<string, EntityClass<AbstractAuthToken>>>
>();

/** @internal */
export function instanceTokenEntity(
  name: string,
  userEntity: EntityClass,
  model: EntityClass<AbstractAuthToken>,
): EntityClass<AbstractAuthToken> {
  let byModel = built.get(userEntity);
  if (byModel === undefined) {
    byModel = new WeakMap();
    built.set(userEntity, byModel);
  }
  let byName = byModel.get(model);
  if (byName === undefined) {
    byName = new Map();
    byModel.set(model, byName);
  }
  const known = byName.get(name);
  if (known !== undefined) return known;

  const table =
    getMetadataArgsStorage().tables.find((args) => args.target === model)?.name ?? 'auth_token';
  class InstanceAuthToken extends model {}
  Object.defineProperty(InstanceAuthToken, 'name', { value: `${model.name}(${name})` });
  ManyToOne(() => userEntity, { nullable: false, onDelete: 'CASCADE' })(
    InstanceAuthToken.prototype,
    'user',
  );
  Entity(table)(InstanceAuthToken);
  byName.set(name, InstanceAuthToken);
  return InstanceAuthToken;
}
