import { test, expect, type Page, type Browser } from "@playwright/test";

// The third server (see playwright.config.ts) signs in through a GitHub and Discord stand-in
// whose consent pages are clicked through like the real ones. The steps build on each other.
test.describe.configure({ mode: "serial" });
test.use({ baseURL: `http://${process.env.E2E_OAUTH_ADDR ?? "127.0.0.1:8103"}` });

const ADMIN = { login: "hedy", password: "frequency hopping spread spectrum" };
const PERSON = { id: "4242", login: "ada-gh", email: "ada.lovelace@example.org" };

async function hydrated(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

async function signInWithPassword(page: Page, login: string, password: string) {
  await page.goto("/login");
  await hydrated(page);
  await page.getByLabel("Username or email").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("user-menu")).toBeVisible();
  // The router leaves the sign-in page on its own: let it, before going anywhere else.
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
}

/// At the stand-in's consent page: say who we are and authorize.
async function consent(page: Page, provider: string, person = PERSON) {
  await expect(page).toHaveTitle(new RegExp(`${provider} stand-in`));
  await page.getByLabel("Account id").fill(person.id);
  await page.getByLabel("Username").fill(person.login);
  await page.getByLabel("Email").fill(person.email);
  await page.getByRole("button", { name: "Authorize" }).click();
}

async function adminPage(browser: Browser): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await signInWithPassword(page, ADMIN.login, ADMIN.password);
  return page;
}

test("a newcomer signs up with GitHub through the real redirect chain and links Discord", async ({ page, browser }) => {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  // Registration is the admin's call.
  const admin = await adminPage(browser);
  const policy = await admin.request.put("/api/v1/settings/registration", { data: { policy: "open" } });
  expect(policy.status()).toBe(200);

  await page.goto("/login?next=/account");
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with GitHub" }).click();
  // The browser really left for the provider, with PKCE and a state.
  await expect(page).toHaveURL(/\/github\/login\/oauth\/authorize\?.*code_challenge_method=S256/);
  await consent(page, "GitHub");
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("user-name")).toHaveText(PERSON.login);
  const methods = page.getByTestId("sign-in-methods");
  await expect(methods.getByTestId("identity")).toHaveCount(1);
  await expect(methods.getByTestId("identity").first()).toContainText("GitHub");
  // The only way in cannot be unlinked.
  await expect(methods.getByRole("button", { name: "Unlink" })).toBeDisabled();

  // Link a second provider from the account page (the sign-in a moment ago confirms it is us).
  await hydrated(page);
  await methods.getByRole("link", { name: "Link Discord" }).click();
  await consent(page, "Discord", { id: "80351110224678912", login: "ada-dc", email: "ada@discord.example" });
  await expect(page).toHaveURL(/\/account$/);
  await expect(methods.getByTestId("identity")).toHaveCount(2);
  await expect(methods.locator('[data-provider="discord"]')).toContainText("Discord");

  // Now GitHub can go, and Discord alone signs back in to the same account.
  await hydrated(page);
  await methods.locator('[data-provider="github"]').getByRole("button", { name: "Unlink" }).click();
  await expect(methods.getByTestId("identity")).toHaveCount(1);
  await page.getByTestId("user-menu").getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with Discord" }).click();
  await consent(page, "Discord", { id: "80351110224678912", login: "ada-dc", email: "ada@discord.example" });
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("user-name")).toHaveText(PERSON.login);
  expect(errors).toEqual([]);
});

test("a refused sign-in comes back to the sign-in page with a plain sentence", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Continue with GitHub" }).click();
  await expect(page).toHaveTitle(/GitHub stand-in/);
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page).toHaveURL(/\/login\?oauth_error=access_denied/);
  await expect(page.getByTestId("oauth-error")).toHaveText("You cancelled the sign-in at the provider.");
  // A callback this browser never started.
  await page.goto("/auth/github/callback?code=stolen&state=made-up");
  await expect(page.getByTestId("oauth-error")).toContainText("not valid any more");
  await expect(page.getByTestId("user-menu")).toHaveCount(0);
});

test("an admin adds, switches off and deletes a provider", async ({ browser }) => {
  const page = await adminPage(browser);
  await page.goto("/admin/providers");
  await hydrated(page);
  await expect(page.locator('[data-testid="provider"][data-slug="github"]')).toContainText("from the environment");

  const form = page.getByTestId("provider-form");
  await form.getByLabel("Kind").selectOption("oidc");
  await form.getByLabel("Slug (names its URLs)").fill("corp");
  await expect(page.getByTestId("redirect-preview")).toHaveText(/\/auth\/corp\/callback$/);
  await form.getByLabel("Display name").fill("Corp SSO");
  await form.getByLabel("Client ID").fill("corp-client");
  await form.getByLabel("Client secret").fill("corp-Secret-never-shown");
  await form.getByLabel("Discovery URL (or issuer)").fill("http://127.0.0.1:9/not-there");
  await form.getByRole("button", { name: "Add provider" }).click();
  const card = page.locator('[data-testid="provider"][data-slug="corp"]');
  await expect(card).toBeVisible();
  await expect(card.getByTestId("redirect-uri")).toHaveValue(/\/auth\/corp\/callback$/);
  expect(await page.content()).not.toContain("corp-Secret-never-shown");

  // Nothing answers at that issuer: the test says so.
  await card.getByRole("button", { name: "Test discovery" }).click();
  await expect(card.getByTestId("test-result")).toHaveAttribute("data-ok", "false");

  await card.getByRole("button", { name: "Switch off" }).click();
  await expect(card.getByTestId("provider-state")).toHaveText("Off");
  const login = await (await browser.newContext()).newPage();
  await login.goto("/login");
  await expect(login.getByRole("link", { name: "Continue with GitHub" })).toBeVisible();
  await expect(login.getByRole("link", { name: "Continue with Corp SSO" })).toHaveCount(0);

  await card.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByTestId("delete-provider-dialog");
  await expect(dialog).toContainText("Delete Corp SSO?");
  await dialog.getByRole("button", { name: "Delete provider" }).click();
  await expect(card).toHaveCount(0);
});

test("the Linked Roles verification URL sends a signed-out member through the password sign-in to Discord and back", async ({ page, request }) => {
  // What Discord opens when a member picks a linked role.
  await page.goto("/discord/linked-role");
  await expect(page).toHaveURL(/\/login\?next=%2Fdiscord%2Flink|\/login\?next=\/discord\/link/);
  await hydrated(page);
  await page.getByLabel("Username or email").fill(ADMIN.login);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  // Back to Discord by itself, asking to write role connections.
  await expect(page).toHaveURL(/\/discord\/oauth2\/authorize\?.*scope=identify\+role_connections\.write/);
  await consent(page, "Discord", { id: "175928847299117063", login: "hedy-dc", email: "hedy@discord.example" });
  await expect(page).toHaveURL(/\/account\?discord=connected$/);
  const section = page.getByTestId("discord-connection");
  await expect(section.getByTestId("discord-state")).toContainText("Connected");
  await expect(section.getByTestId("discord-values")).toContainText("is_admin");
  // Discord holds exactly what Slipway sent.
  const provider = `http://127.0.0.1:${process.env.E2E_OAUTH_PORT ?? "8104"}`;
  const held = await request.get(`${provider}/test/discord/connections/175928847299117063`);
  expect(held.status()).toBe(200);
  const connection = await held.json();
  expect(connection.platform_name).toBe("Slipway");
  expect(connection.platform_username).toBe(ADMIN.login);
  expect(connection.metadata).toMatchObject({ running_deployments: "0", is_admin: "1" });
});
