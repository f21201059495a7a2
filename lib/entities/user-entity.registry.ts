import { EntityClass } from '../interfaces/durin-module-options.interface';

/**
 * The app's user entity, known before TypeORM builds its metadata.
 *
 * The token → user relation has to point at a class the library cannot import. TypeORM resolves a
 * relation's target lazily (when the data source initialises), so the relation reads it from here.
 * `DurinModule.forRoot()` sets it while the module is imported, which is always before any data
 * source initialises. An app that builds a DataSource outside Nest (the TypeORM CLI running the
 * migrations) calls `registerDurinUserEntity(User)` first.
 */
let userEntity: EntityClass | undefined;

/** Tells nestjs-durin which entity its tokens belong to. One user entity per process. */
export function registerDurinUserEntity(entity: EntityClass): void {
  if (typeof entity !== 'function') {
    throw new TypeError('nestjs-durin: registerDurinUserEntity() needs an entity class');
  }
  userEntity = entity;
}

/** @internal The relation target of `AbstractAuthToken.user`. */
export function getDurinUserEntity(): EntityClass {
  if (!userEntity) {
    throw new Error(
      'nestjs-durin: the user entity is not known yet. Pass `userEntity` to DurinModule.forRoot(), ' +
        'or next to `useFactory` in DurinModule.forRootAsync({ userEntity, useFactory }); outside Nest ' +
        '(TypeORM CLI) call registerDurinUserEntity(User) before the DataSource is created.',
    );
  }
  return userEntity;
}
