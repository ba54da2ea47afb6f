/**
 * Headless Chromium for the tests that render pages for real (dashboard, flows views, workshop diagrams and deck).
 * `.ci/run` installs Debian's chromium; where it is missing those tests are skipped with the reason in their name.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/**
 * Chromium as this machine needs it: headless, no sandbox (root), no GPU, and none of the background networking
 * that a closed network refuses (it would slow every start).
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** The reason a Chromium test is skipped on a machine without it. */
export const NO_CHROMIUM = `${CHROMIUM} is missing on this machine (apt-get install chromium)`;
