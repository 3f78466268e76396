import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata } from '@nestjs/common';
import { type Clock, systemClock } from '@kura/common';
import { AccountService } from './account.service.js';
import type { LoginAttemptStore } from './login-attempt-store.port.js';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';
import { PasswordHasher, type PasswordHashingOptions } from './password-hasher.js';
import { PasswordPolicy, type PasswordPolicyOptions } from './password-policy.js';
import { USER_STORE, type UserStore } from './user-store.port.js';

export interface AccountsModuleOptions {
  /** Where users live. */
  store: UserStore;
  /** Password hashing cost; see {@link PasswordHashingOptions}. */
  passwordHashing?: PasswordHashingOptions;
  /**
   * Which new passwords are refused; see {@link PasswordPolicyOptions}.
   * @default the commonly used passwords, and the account's own words
   */
  passwordPolicy?: PasswordPolicyOptions;
  /**
   * Failed-login counting; see {@link LoginThrottleOptions}.
   * @default no throttling
   */
  loginThrottle?: { store: LoginAttemptStore } & LoginThrottleOptions;
  /**
   * Source of the current time.
   * @default the system clock
   */
  clock?: Clock;
}

export interface AccountsModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  inject?: InjectionToken[];
  useFactory: (...args: any[]) => AccountsModuleOptions | Promise<AccountsModuleOptions>;
}

const OPTIONS = Symbol('kura:accounts-options');

/** Registration and login checks (`AccountService`) on a `UserStore`, available everywhere (global). */
@Module({})
export class AccountsModule {
  static forRootAsync(options: AccountsModuleAsyncOptions): DynamicModule {
    return {
      module: AccountsModule,
      global: true,
      imports: options.imports ?? [],
      providers: [
        { provide: OPTIONS, inject: options.inject ?? [], useFactory: options.useFactory },
        { provide: USER_STORE, inject: [OPTIONS], useFactory: (o: AccountsModuleOptions) => o.store },
        {
          provide: AccountService,
          inject: [OPTIONS],
          useFactory: (o: AccountsModuleOptions) =>
            new AccountService(
              o.store,
              new PasswordHasher(o.passwordHashing),
              o.clock ?? systemClock,
              o.loginThrottle && new LoginThrottle(o.loginThrottle.store, o.loginThrottle, o.clock ?? systemClock),
              new PasswordPolicy(o.passwordPolicy),
            ),
        },
      ],
      exports: [AccountService, USER_STORE],
    };
  }

  static forRoot(options: AccountsModuleOptions): DynamicModule {
    return AccountsModule.forRootAsync({ useFactory: () => options });
  }
}
