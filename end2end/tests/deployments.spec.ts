import { test, expect, type Page } from "@playwright/test";
import { createHmac } from "node:crypto";

// The second server (see playwright.config.ts) deploys for real: Docker, nginx and a fixture
// repository on loopback. One flow, in order, as a person would go through it.
test.describe.configure({ mode: "serial" });
test.use({ baseURL: `http://${process.env.E2E_DEPLOY_ADDR ?? "127.0.0.1:8101"}` });

const ADMIN = { login: "grace", password: "compiler on a harvard mark" };
const REPO = `http://127.0.0.1:${process.env.E2E_GIT_PORT ?? "8102"}/app.git`;
const DEPLOY = 120_000;

async function hydrated(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

async function signIn(page: Page) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username or email").fill(ADMIN.login);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-menu")).toBeVisible();
}

async function shoot(page: Page, name: string) {
  await page.screenshot({ path: `docs/screenshots/${name}-desktop.png`, fullPage: true });
  const size = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: `docs/screenshots/${name}-phone.png`, fullPage: true });
  if (size) await page.setViewportSize(size);
}

test("deploy through the form, follow it live, change it and delete it", async ({ page }) => {
  test.setTimeout(6 * 60_000);
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  await signIn(page);

  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("empty-state")).toBeVisible();
  await page.getByTestId("empty-state").getByRole("link").click();
  await expect(page).toHaveURL(/\/deployments\/new$/);
  await hydrated(page);

  // An invalid subdomain is refused next to the field before anything is sent.
  await page.getByLabel("Subdomain").fill("Bad_Name!");
  await expect(page.locator('[data-error-for="subdomain"]')).not.toBeEmpty();
  await page.getByLabel("Subdomain").fill("e2e-app");
  await expect(page.locator('[data-error-for="subdomain"]')).toBeEmpty();
  await expect(page.getByTestId("url-preview")).toContainText("e2e-app.");

  await page.getByLabel("Git repository URL").fill(REPO);
  await page.getByTestId("add-env").click();
  await page.getByLabel("Name", { exact: true }).fill("GREETING");
  await page.getByLabel("Value", { exact: true }).fill("hello");
  await expect(page.getByLabel("Value", { exact: true })).toHaveAttribute("type", "password");
  await shoot(page, "new-deployment");
  await page.getByTestId("deploy").click();

  // The deployment page streams the build while it runs.
  await expect(page).toHaveURL(/\/deployments\/[0-9a-f-]{36}$/);
  const buildLog = page.getByTestId("build-log");
  await expect(buildLog).toContainText("build step 1 of 6", { timeout: DEPLOY });
  await expect(page.getByTestId("state").first()).toHaveAttribute("data-state", /queued|cloning|building/);
  await expect(buildLog).toContainText("build step 6 of 6", { timeout: DEPLOY });
  await expect(page.getByTestId("state").first()).toHaveAttribute("data-state", "running", { timeout: DEPLOY });
  await expect(buildLog).toContainText("is live");
  // How long each step took is on the timeline.
  await expect(page.getByTestId("timeline").getByTestId("step-duration").first()).toHaveText(/\d+(\.\d)?s/);
  await shoot(page, "deployment");

  // The app's own output, colours rendered.
  await page.getByRole("tab", { name: "Runtime log" }).click();
  const runtime = page.getByTestId("runtime-log");
  await expect(runtime).toContainText("greeting of 5 letters: ••••", { timeout: 30_000 });
  await expect(runtime).not.toContainText("hello"); // a variable's value is masked
  await expect(runtime).toContainText("tick");
  await expect(runtime.locator("span.text-emerald-400").first()).toHaveText("ok");

  // A new value redeploys, and the new release greets with it.
  await page.getByRole("tab", { name: "Environment" }).click();
  await expect(page.getByTestId("env-keys")).toContainText("GREETING");
  // A value stays hidden until its owner asks for it.
  const greeting = page.locator('[data-testid="env-key"][data-key="GREETING"]');
  await expect(greeting.getByTestId("env-value")).toHaveText("••••••");
  await greeting.getByRole("button", { name: "Reveal" }).click();
  await expect(greeting.getByTestId("env-value")).toHaveText("hello");
  await greeting.getByRole("button", { name: "Hide" }).click();
  await expect(greeting.getByTestId("env-value")).toHaveText("••••••");
  await page.locator("#env-name").fill("GREETING");
  await page.locator("#env-value").fill("bonjour");
  await page.getByTestId("save-env").click();
  await page.getByRole("tab", { name: "Releases" }).click();
  await expect(page.getByTestId("releases")).toContainText("#2", { timeout: DEPLOY });
  await page.getByRole("tab", { name: "Runtime log" }).click();
  await expect(page.getByTestId("runtime-log")).toContainText("greeting of 7 letters", { timeout: DEPLOY });

  // Settings: a bad value is named next to its field; a good one deploys release #3.
  await page.getByRole("tab", { name: "Settings" }).click();
  await page.getByLabel("Memory (MiB)").fill("1");
  await page.getByTestId("save-settings").click();
  await expect(page.locator('[data-error-for="memory_mb"]')).not.toBeEmpty();
  await page.getByLabel("Memory (MiB)").fill("128");
  await page.getByLabel("Health check path").fill("/");
  await page.getByTestId("save-settings").click();
  await expect(page.getByTestId("toast").getByText("Saved", { exact: true })).toBeVisible();
  await page.getByRole("tab", { name: "Releases" }).click();
  await expect(page.getByTestId("releases")).toContainText("#3", { timeout: DEPLOY });
  await expect(page.getByTestId("state").first()).toHaveAttribute("data-state", "running", { timeout: DEPLOY });

  // The push webhook: turned on, its secret shown once; a signed ping and a forged push are
  // listed with their outcomes; after a reload the secret is nowhere on the page.
  await page.getByRole("tab", { name: "Webhook" }).click();
  await page.getByTestId("webhook-enable").click();
  const secret = (await page.getByTestId("webhook-secret").textContent())!.trim();
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
  const hookUrl = (await page.getByTestId("webhook-url").textContent())!.trim();
  const ping = JSON.stringify({ zen: "Design for failure.", hook_id: 1 });
  const signature = "sha256=" + createHmac("sha256", secret).update(ping).digest("hex");
  const signed = await page.request.post(hookUrl, {
    data: ping,
    headers: { "content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "e2e-ping", "x-hub-signature-256": signature },
  });
  expect(signed.status()).toBe(200);
  const forged = await page.request.post(hookUrl, {
    data: JSON.stringify({ ref: "refs/heads/main", after: "0".repeat(40) }),
    headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "e2e-forged", "x-hub-signature-256": "sha256=" + "0".repeat(64) },
  });
  expect(forged.status()).toBe(401);
  await page.getByTestId("deliveries-refresh").click();
  await expect(page.locator('[data-testid="delivery"][data-outcome="pong"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="delivery"][data-outcome="refused"]')).toHaveCount(1);
  await page.reload();
  await hydrated(page);
  await page.getByRole("tab", { name: "Webhook" }).click();
  await expect(page.getByTestId("webhook-url")).toBeVisible();
  expect(await page.content()).not.toContain(secret);

  // The dashboard card follows a redeploy through its states without a reload.
  await page.goto("/");
  await hydrated(page);
  const card = page.getByTestId("deployment-card").filter({ hasText: "e2e-app" });
  await expect(card.getByTestId("state")).toHaveAttribute("data-state", "running");
  await shoot(page, "dashboard");
  await card.getByTestId("redeploy").click();
  await expect(card.getByTestId("state")).toHaveAttribute("data-state", /queued|cloning|building|starting|checking_health/);
  await expect(page.getByTestId("deployment-card").filter({ hasText: "e2e-app" }).getByTestId("state"))
    .toHaveAttribute("data-state", "running", { timeout: DEPLOY });

  // Delete through the dialog; the card goes away by itself.
  await page.getByTestId("deployment-card").filter({ hasText: "e2e-app" }).getByTestId("delete").click();
  const dialog = page.getByTestId("delete-dialog");
  await expect(dialog).toContainText("e2e-app");
  // The keyboard reaches it at once: Escape closes it, nothing deleted.
  await expect(dialog).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("deployment-card")).toHaveCount(1);
  await page.getByTestId("deployment-card").filter({ hasText: "e2e-app" }).getByTestId("delete").click();
  await dialog.getByTestId("confirm-delete").click();
  await expect(page.getByTestId("deployment-card")).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId("empty-state")).toBeVisible();
  expect(errors).toEqual([]);
});
