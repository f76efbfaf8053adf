/** Shared by the slack-emulator-* tests: the tokens, a quiet logger for Bolt and WebClient, and one emulator per test file. */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { LogLevel } from '@slack/bolt';
import { startSlackEmulator, type SlackEmulator } from './support/slack/index.js';

export const BOT_TOKEN = 'xoxb-emulated-bot-token';
export const APP_TOKEN = 'xapp-1-emulated-app-token';
export const SIGNING_SECRET = 'emulated-signing-secret';

/** Bolt/WebClient logger that stays quiet in test output. */
export const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

/** The emulator of the running test file (a live binding: set by useSlackEmulator's beforeAll). */
export let slack: SlackEmulator;

/** Starts the emulator before the file's tests, resets it after each test and closes it after the last. */
export function useSlackEmulator(): void {
  beforeAll(async () => {
    slack = await startSlackEmulator({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
  });
  afterAll(async () => {
    await slack.close();
  });
  afterEach(() => {
    slack.reset();
  });
}
