import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DurinModuleOptions } from './interfaces/durin-module-options.interface';

/**
 * `forRoot` / `forRootAsync` come from Nest's builder; `isGlobal` is the one extra that only shapes
 * the module definition. See {@link DurinModule} for what is added on top.
 */
export const {
  ConfigurableModuleClass: DurinConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: DURIN_MODULE_OPTIONS,
  OPTIONS_TYPE: DURIN_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: DURIN_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<DurinModuleOptions>({ moduleName: 'Durin' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createDurinOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
