import { defineConfig, devices } from "@playwright/test";

const addr = process.env.E2E_ADDR ?? "127.0.0.1:8100";
const baseURL = `http://${addr}`;
const deployAddr = process.env.E2E_DEPLOY_ADDR ?? "127.0.0.1:8101";
const oauthAddr = process.env.E2E_OAUTH_ADDR ?? "127.0.0.1:8103";
const providerBase = `http://127.0.0.1:${process.env.E2E_OAUTH_PORT ?? "8104"}`;

// Chromium comes from Debian; these flags keep it off the network this machine does not have.
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

// A Slipway server of the debug build, run from the repository root (where the site root,
// target/site, is relative to).
function slipway(listen: string, env: Record<string, string>) {
  return {
    command: "target/debug/slipway",
    cwd: "..",
    url: `http://${listen}/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: { LEPTOS_SITE_ADDR: listen, LEPTOS_SITE_ROOT: "target/site", LOG_LEVEL: "warn", ...env },
  };
}

export default defineConfig({
  testDir: "./tests",
  outputDir: "./test-results",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: chromiumArgs,
        },
      },
    },
  ],
  webServer: [
    slipway(addr, {
      DATABASE_URL: process.env.E2E_DATABASE_URL ?? "",
      DATA_DIR: process.env.E2E_DATA_DIR ?? ".data/e2e",
      NGINX_SITES_DIR: `${process.env.E2E_DATA_DIR ?? ".data/e2e"}/nginx-sites`,
    }),
    // Deploys for real: Docker, the project's nginx, a fixture repository on loopback.
    slipway(deployAddr, {
      DATABASE_URL: process.env.E2E_DEPLOY_DATABASE_URL ?? "",
      DATA_DIR: process.env.E2E_DEPLOY_DATA_DIR ?? ".data/e2e-deploy",
      REDIS_KEY_PREFIX: "e2e-deploy:",
      ADMIN_USERNAME: "grace",
      ADMIN_EMAIL: "grace@example.com",
      ADMIN_PASSWORD: "compiler on a harvard mark",
      NGINX_CONF: process.env.E2E_NGINX_CONF ?? "",
      NGINX_SITES_DIR: process.env.E2E_NGINX_SITES_DIR ?? "",
      GIT_ALLOWED_HOSTS: "127.0.0.1",
      GIT_ALLOW_HTTP: "true",
      PORT_RANGE: "25000-25019",
      REDEPLOY_DRAIN_SECS: "1",
    }),
    // The GitHub and Discord stand-in, with consent pages a person clicks through.
    {
      command: "node end2end/standins/oauth-provider.mjs",
      cwd: "..",
      url: `${providerBase}/health`,
      reuseExistingServer: false,
      timeout: 30_000,
      env: { E2E_OAUTH_PORT: process.env.E2E_OAUTH_PORT ?? "8104" },
    },
    // Signs in through those providers.
    slipway(oauthAddr, {
      DATABASE_URL: process.env.E2E_OAUTH_DATABASE_URL ?? "",
      DATA_DIR: process.env.E2E_OAUTH_DATA_DIR ?? ".data/e2e-oauth",
      NGINX_SITES_DIR: `${process.env.E2E_OAUTH_DATA_DIR ?? ".data/e2e-oauth"}/nginx-sites`,
      REDIS_KEY_PREFIX: "e2e-oauth:",
      ADMIN_USERNAME: "hedy",
      ADMIN_EMAIL: "hedy@example.com",
      ADMIN_PASSWORD: "frequency hopping spread spectrum",
      GITHUB_CLIENT_ID: "e2e-github-client",
      GITHUB_CLIENT_SECRET: "e2e-github-Secret-0a1b",
      GITHUB_BASE_URL: `${providerBase}/github`,
      GITHUB_API_BASE: `${providerBase}/github-api`,
      DISCORD_CLIENT_ID: "e2e-discord-client",
      DISCORD_CLIENT_SECRET: "e2e-discord-Secret-2c3d",
      DISCORD_API_BASE: `${providerBase}/discord/api/v10`,
    }),
  ],
});
