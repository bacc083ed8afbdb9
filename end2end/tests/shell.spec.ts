import { test, expect, type Page, type ConsoleMessage } from "@playwright/test";

// Every console error or uncaught exception fails the test that caused it.
function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (msg: ConsoleMessage) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return errors;
}

// The WASM front end marks <html data-hydrated> once it has taken over the page.
async function waitForHydration(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 15_000 });
}

test("home page renders the shell and the platform status", async ({ page }) => {
  const errors = collectErrors(page);
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Slipway");
  await expect(page.getByRole("navigation", { name: "Main" })).toContainText("Slipway");
  await expect(page.getByRole("heading", { name: "Platform status" })).toBeVisible();
  for (const name of ["postgres", "redis", "docker", "nginx"]) {
    await expect(page.locator(`[data-check="${name}"]`)).toHaveAttribute("data-ok", "true");
  }
  await expect(page.getByTestId("overall-status")).toHaveText("All systems operational");
  await waitForHydration(page);
  expect(errors).toEqual([]);
});

test("the interactive element responds once hydrated", async ({ page }) => {
  const errors = collectErrors(page);
  await page.goto("/");
  await waitForHydration(page);
  const checkedAt = page.getByTestId("checked-at");
  const before = await checkedAt.getAttribute("datetime");
  expect(before).toBeTruthy();
  await page.getByTestId("recheck").click();
  // Only the WASM front end can make this change: the server rendered the page once.
  await expect(checkedAt).not.toHaveAttribute("datetime", before!);
  await expect(page.getByTestId("recheck")).toBeEnabled();
  await expect(page.getByTestId("recheck")).toHaveText("Check again");
  expect(errors).toEqual([]);
});

test("an unknown path shows the 404 page with status 404", async ({ page }) => {
  const errors = collectErrors(page);
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByTestId("not-found")).toContainText("/no/such/page");
  await expect(page).toHaveTitle("Page not found · Slipway");
  await waitForHydration(page);
  // The 404 page's own load is expected to log its status; nothing else may.
  expect(errors.filter((e) => !e.includes("404"))).toEqual([]);
});

test("client-side navigation from the 404 page back home works", async ({ page }) => {
  await page.goto("/missing");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Back to the overview" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Platform status" })).toBeVisible();
});

test("the API reference shows every operation of the OpenAPI document", async ({ page, request }) => {
  const doc = await (await request.get("/api/v1/openapi.json")).json();
  const operations: string[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of ["get", "post", "put", "patch", "delete"]) {
      if (item[method]) operations.push(`${method.toUpperCase()} ${path}`);
    }
  }
  expect(operations.length).toBeGreaterThan(40);
  await page.goto("/api/docs");
  await waitForHydration(page);
  for (const op of operations) {
    await expect(page.locator(`[data-operation="${op}"]`)).toHaveCount(1);
  }
  // An operation opens to show its parameters and answers.
  const login = page.locator('[data-operation="POST /api/v1/auth/login"]');
  await login.locator("summary").click();
  await expect(login).toContainText("LoginRequest");
  await expect(login).toContainText("429");
});
