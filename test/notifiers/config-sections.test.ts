import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { notifierDefinitions } from '../../notifiers/index.js';
import { parseConfig } from '../../src/config.js';
import { ConfigError, parseBoolean } from '../../src/config/section.js';
import { deliveryJobName } from '../../src/notify/delivery.js';
import { loadConfig, registry } from '../../src/registry.js';

/** The config read against a registry with these notifiers (and every job). */
const withNotifiers = (env: Record<string, string>, notifiers: typeof registry.notifiers) => parseConfig(env, { jobs: registry.jobs, notifiers });

describe('config sections', () => {
  test('one boolean parser: true/false/1/0/yes/no/on/off, blank is the default', () => {
    for (const s of ['true', 'TRUE', ' 1 ', 'yes', 'on']) assert.equal(parseBoolean(s, false), true, s);
    for (const s of ['false', '0', 'No', 'off']) assert.equal(parseBoolean(s, true), false, s);
    assert.equal(parseBoolean(undefined, true), true);
    assert.equal(parseBoolean('  ', false), false);
    assert.equal(parseBoolean('maybe', true), undefined);
  });

  test('issues of every section are merged as data, each naming its key', () => {
    const env = { PORT: 'eighty', SMTP_URL: 'smtp://h.test', NOTIFY_ADMINS: 'pager:ops', NOTIFY_CONSOLE_FALLBACK: 'sometimes', S3_FORCE_PATH_STYLE: 'nah' };
    assert.throws(
      () => loadConfig(env),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.deepEqual([...new Set(err.issues.map((i) => i.key))].sort(), [
          'MAIL_FROM',
          'NOTIFY_ADMINS',
          'NOTIFY_CONSOLE_FALLBACK',
          'PORT',
          'S3_FORCE_PATH_STYLE',
        ]);
        for (const i of err.issues) assert.ok(err.message.includes(`${i.key}: ${i.message}`));
        return true;
      },
    );
  });

  test('the channels config knows are the registry handed in', () => {
    const config = loadConfig({ NOTIFY_ADMINS: 'webhook:ops' });
    assert.deepEqual(
      config.notify.channels,
      notifierDefinitions.map((d) => d.name),
    );
    assert.deepEqual(
      config.notifiers.map((n) => n.name),
      ['console'],
    );
    assert.equal(config.notify.fallbackChannel, 'console');
    // Without a registry there is no channel at all: no default admin, and none may be named.
    assert.deepEqual(withNotifiers({}, []).notify.admins, []);
    assert.throws(() => withNotifiers({ NOTIFY_ADMINS: 'console:admin' }, []), /NOTIFY_ADMINS/);
    assert.equal(deliveryJobName('email'), 'deliver-email');
  });
});
