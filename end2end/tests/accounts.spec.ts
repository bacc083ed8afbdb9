import { test, expect, type Page, type Browser } from "@playwright/test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

// One server and database for the whole suite: these steps build on each other.
test.describe.configure({ mode: "serial" });

const ADMIN = { username: "ada", email: "ada@example.com", password: "analytical engine notes" };
const USER = { username: "charles", email: "charles@example.com", password: "difference engine plans" };

function setupToken(): string {
  const dir = process.env.E2E_DATA_DIR ?? join(__dirname, "..", "..", ".data", "e2e");
  return readFileSync(join(dir, "setup-token"), "utf8").trim();
}

async function hydrated(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached" });
}

async function signIn(page: Page, login: string, password: string) {
  await hydrated(page);
  await page.getByLabel("Username or email").fill(login);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function newSignedInPage(browser: Browser, login: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/login");
  await signIn(page, login, password);
  await expect(page.getByTestId("user-menu")).toBeVisible();
  return page;
}

test("the first account needs the setup token and becomes admin", async ({ page }) => {
  await page.goto("/register");
  await hydrated(page);
  await page.getByLabel("Setup token").fill("not-the-token");
  await page.getByLabel("Username").fill(ADMIN.username);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password", { exact: true }).fill("short");
  // The rules react while typing, before anything is sent.
  await expect(page.getByTestId("password-rules").locator("li").first()).toHaveAttribute("data-ok", "false");
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await expect(page.getByTestId("password-rules").locator("li").first()).toHaveAttribute("data-ok", "true");
  await page.getByLabel("Confirm password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator('[data-error-for="setup_token"]')).toContainText("setup token");
  await expect(page).toHaveURL(/\/register$/);

  await page.getByLabel("Setup token").fill(setupToken());
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId("user-name")).toHaveText(ADMIN.username);
  await page.goto("/account");
  await expect(page.getByTestId("profile-role")).toHaveText("Admin");
});

test("registration is closed once an admin exists", async ({ page }) => {
  await page.goto("/register");
  await expect(page.getByTestId("registration-closed")).toBeVisible();
});

test("a protected page sends me to sign in and back again", async ({ page }) => {
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=%2Faccount|\/login\?next=\/account/);
  await signIn(page, ADMIN.email, "wrong password entirely");
  await expect(page.getByTestId("form-error")).toHaveText("Wrong username, email or password.");
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("profile-username")).toHaveText(ADMIN.username);

  await page.getByTestId("user-menu").getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login/);
});

test("changing the password signs out my other sessions", async ({ browser }) => {
  const laptop = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  const phone = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  await laptop.goto("/account");
  // This session, the phone's, and any left signed in by earlier steps.
  await expect(laptop.locator('[data-testid="session"][data-current="true"]')).toHaveCount(1);
  expect(await laptop.getByTestId("session").count()).toBeGreaterThanOrEqual(2);

  const newPassword = "a fresh analytical passphrase";
  await hydrated(laptop);
  await laptop.getByLabel("Current password").fill(ADMIN.password);
  await laptop.getByLabel("New password", { exact: true }).fill(newPassword);
  await laptop.getByLabel("Confirm new password").fill(newPassword);
  await laptop.getByRole("button", { name: "Change password" }).click();
  await expect(laptop.getByTestId("password-changed")).toBeVisible();
  await expect(laptop.getByTestId("session")).toHaveCount(1);
  ADMIN.password = newPassword;

  await phone.goto("/account");
  await expect(phone).toHaveURL(/\/login/);
});

test("an admin creates a user who signs in, then disables them and their open page signs out", async ({ browser }) => {
  const admin = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  await admin.getByRole("link", { name: "Admin" }).click();
  await expect(admin).toHaveURL(/\/admin\/users$/);
  await hydrated(admin);
  const form = admin.getByTestId("new-user-form");
  await form.getByLabel("Username").fill(USER.username);
  await form.getByLabel("Email").fill(USER.email);
  await form.getByLabel("Password").fill(USER.password);
  await form.getByRole("button", { name: "Create user" }).click();
  const row = admin.locator(`[data-testid="user-row"][data-username="${USER.username}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId("user-status")).toHaveText("Active");

  const user = await newSignedInPage(browser, USER.username, USER.password);
  await user.goto("/account");
  await expect(user.getByTestId("profile-username")).toHaveText(USER.username);
  // Not an admin: the admin pages say so.
  await user.goto("/admin/users");
  await expect(user.getByTestId("admins-only")).toBeVisible();
  await user.goto("/account");
  await hydrated(user);

  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row.getByTestId("user-status")).toHaveText("Disabled");

  // The next navigation inside the open page finds the session gone.
  await user.getByRole("link", { name: "Deployments" }).click();
  await expect(user.getByRole("link", { name: "Sign in" })).toBeVisible();
  await user.goto("/account");
  await expect(user).toHaveURL(/\/login/);
});

test("deleting a user asks first and names them", async ({ browser }) => {
  const admin = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/users");
  await hydrated(admin);
  const row = admin.locator(`[data-testid="user-row"][data-username="${USER.username}"]`);
  await row.getByRole("button", { name: "Delete", exact: true }).click();
  const dialog = row.getByRole("alertdialog");
  await expect(dialog).toContainText(`Delete ${USER.username} for good?`);
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(row).toBeVisible();

  await row.getByRole("button", { name: "Delete", exact: true }).click();
  await row.getByRole("button", { name: "Delete user" }).click();
  await expect(row).toHaveCount(0);
});

test("an admin opens registration by invite and the link registers one person", async ({ browser }) => {
  const admin = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  await admin.goto("/admin/settings");
  await hydrated(admin);
  await admin.getByLabel(/Invite only/).check();
  await admin.getByRole("button", { name: "Save" }).click();
  await expect(admin.getByTestId("registration-saved")).toBeVisible();
  await admin.getByRole("button", { name: "Create link" }).click();
  const path = (await admin.getByTestId("invite-link").textContent())!.trim();
  expect(path).toMatch(/^\/register\?invite=/);

  const guest = await (await browser.newContext()).newPage();
  await guest.goto("/register");
  await expect(guest.getByTestId("registration-closed")).toContainText("invite");
  await guest.goto(path);
  await hydrated(guest);
  await guest.getByLabel("Username").fill("grace");
  await guest.getByLabel("Email").fill("grace@example.com");
  await guest.getByLabel("Password", { exact: true }).fill("cobol compiler pioneer");
  await guest.getByLabel("Confirm password").fill("cobol compiler pioneer");
  await guest.getByRole("button", { name: "Create account" }).click();
  await expect(guest.getByTestId("user-name")).toHaveText("grace");

  await admin.goto("/admin/audit");
  await expect(admin.getByTestId("audit-row").first()).toContainText("user.registered");
});

test("a personal API token is shown once, works as a bearer token and can be revoked", async ({ browser }) => {
  const page = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  await page.goto("/account");
  await hydrated(page);
  const form = page.getByTestId("token-form");
  await form.getByLabel("Token name").fill("deploy script");
  await form.getByRole("button", { name: "Create token" }).click();
  const token = (await page.getByTestId("new-token").textContent())!.trim();
  expect(token).toMatch(/^slp_/);
  await expect(page.getByTestId("token")).toContainText("deploy script");

  // A fresh context has no cookie: only the token signs the request.
  const script = await browser.newContext();
  const me = await script.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe(ADMIN.username);

  await page.getByTestId("token").getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("token")).toHaveCount(0);
  const after = await script.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect(after.status()).toBe(401);
});

test("I change my display name and email on the account page", async ({ browser }) => {
  const page = await newSignedInPage(browser, ADMIN.username, ADMIN.password);
  await page.goto("/account");
  await hydrated(page);
  const form = page.getByTestId("profile-form");
  // The browser takes it as an address; the server does not (no dot in the domain).
  await form.getByLabel("Email").fill("someone@localhost");
  await form.getByRole("button", { name: "Save profile" }).click();
  await expect(form.locator('[data-error-for="email"]')).toContainText("not an email address");
  await form.getByLabel("Display name").fill("Ada Lovelace");
  await form.getByLabel("Email").fill("ada.lovelace@example.com");
  await form.getByRole("button", { name: "Save profile" }).click();
  await expect(form.getByTestId("profile-saved")).toBeVisible();
  // Read back from the server: the top bar and the form show the new values.
  await page.goto("/account");
  await hydrated(page);
  await expect(page.getByTestId("user-name")).toHaveText("Ada Lovelace");
  await expect(page.getByTestId("profile-form").getByLabel("Email")).toHaveValue("ada.lovelace@example.com");
});
