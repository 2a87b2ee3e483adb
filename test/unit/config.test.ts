import { describe, expect, it } from 'vitest';
import { ConfigError, holdMaxLifetimeSeconds, loadConfig } from '../../src/config.js';

const noDotenv = '/nonexistent/.env';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({}, noDotenv);
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      HOLD_TTL_SECONDS: 120,
      MAX_SEATS_PER_BOOKING: 10,
      DATA_DIR: './.data',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });
  it('reads numbers from strings and treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '8080', HOLD_TTL_SECONDS: '2', REDIS_URL: '' }, noDotenv);
    expect(config.PORT).toBe(8080);
    expect(config.HOLD_TTL_SECONDS).toBe(2);
    expect(config.REDIS_URL).toBeUndefined();
  });
  it('names the bad key', () => {
    expect(() => loadConfig({ HOLD_TTL_SECONDS: 'soon' }, noDotenv)).toThrow(/HOLD_TTL_SECONDS/);
    expect(() => loadConfig({ PORT: '70000' }, noDotenv)).toThrow(ConfigError);
  });
  it('defaults the hold lifetime to 600 s, or to the hold length when that is longer', () => {
    expect(holdMaxLifetimeSeconds(loadConfig({}, noDotenv))).toBe(600);
    expect(holdMaxLifetimeSeconds(loadConfig({ HOLD_TTL_SECONDS: '3600' }, noDotenv))).toBe(3600);
    expect(holdMaxLifetimeSeconds(loadConfig({ HOLD_MAX_LIFETIME_SECONDS: '900' }, noDotenv))).toBe(900);
  });
  it('refuses a hold lifetime shorter than a hold', () => {
    expect(() => loadConfig({ HOLD_TTL_SECONDS: '300', HOLD_MAX_LIFETIME_SECONDS: '200' }, noDotenv)).toThrow(
      /HOLD_MAX_LIFETIME_SECONDS must be at least HOLD_TTL_SECONDS/,
    );
  });
  it('refuses to poll for show changes as seldom as a cached read may live', () => {
    expect(() => loadConfig({ SHOW_CACHE_MAX_AGE_MS: '1000', SHOW_CHANGES_POLL_MS: '1000' }, noDotenv)).toThrow(
      /SHOW_CHANGES_POLL_MS must be less than SHOW_CACHE_MAX_AGE_MS/,
    );
    expect(
      loadConfig({ SHOW_CACHE_MAX_AGE_MS: '0', SHOW_CHANGES_POLL_MS: '5000' }, noDotenv).SHOW_CACHE_MAX_AGE_MS,
    ).toBe(0);
  });
  it('requires an admin key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' }, noDotenv)).toThrow(/ADMIN_API_KEY/);
  });
});
