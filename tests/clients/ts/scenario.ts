// A client generated from the live /openapi.json (openapi-typescript) driven
// through every operation with openapi-fetch, written as an application
// would write it. tsc --strict must accept it unchanged; node runs it against
// the live service. Each step prints one line and every request one
// `request METHOD PATH STATUS` line; any surprise throws.
import { randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { Client } from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Task = components["schemas"]["Task"];
type Problem = components["schemas"]["Problem"];
type Api = Client<paths>;

const baseUrl = required("TASKS_API_URL");
const username = required("TASKS_API_USERNAME");
const password = required("TASKS_API_PASSWORD");
const bodies: string[] = [];

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function step(name: string, status: number): void {
  console.log(`ok ${name} ${status}`);
}

// Records every request, and the media type of every one that carries a body.
async function recordingFetch(request: Request): Promise<Response> {
  if (request.body !== null) bodies.push(request.headers.get("Content-Type") ?? "");
  const response = await fetch(request);
  console.log(`request ${request.method} ${new URL(request.url).pathname} ${response.status}`);
  return response;
}

function problem(error: Problem | undefined, status: number): Problem {
  check(error !== undefined && error.status === status, `expected a ${status} problem, got ${JSON.stringify(error)}`);
  return error;
}

function anonymous(device: string): Api {
  return createClient<paths>({ baseUrl, fetch: recordingFetch, headers: { "User-Agent": device } });
}

// Each device logs in with a token of its own.
async function logIn(device: string, secret: string = password): Promise<Api> {
  const login = await anonymous(device).POST("/auth/token", { body: { username, password: secret } });
  check(login.data !== undefined, `login: ${login.response.status}`);
  step(`login ${device}`, login.response.status);
  return createClient<paths>({
    baseUrl,
    fetch: recordingFetch,
    headers: { Authorization: `Bearer ${login.data.token}`, "User-Agent": device },
  });
}

async function refused(client: Api, name: string): Promise<void> {
  const me = await client.GET("/auth/me");
  problem(me.error, 401);
  check((me.response.headers.get("WWW-Authenticate") ?? "").startsWith("Bearer"), "WWW-Authenticate");
  step(`${name}: getMe`, me.response.status);
}

async function probe(): Promise<void> {
  const health = await anonymous("tasks-monitor/1.0").GET("/healthz");
  check(health.data?.status === "ok", "healthz");
  step("getHealth", health.response.status);
  const ready = await anonymous("tasks-monitor/1.0").GET("/readyz");
  check(ready.data?.status === "ok", "readyz");
  step("getReadiness", ready.response.status);
}

async function tasks(client: Api): Promise<void> {
  // Create with only a title, as the tutorial's clients do.
  const created = await client.POST("/tasks", { body: { title: "buy milk" } });
  check(created.data !== undefined && created.response.status === 201, "createTask");
  const task: Task = created.data;
  check(task.done === false, "a new task is not done");
  check(created.response.headers.get("Location") === `/tasks/${task.id}`, "Location");
  step("createTask", created.response.status);
  for (const title of ["buy bread", "walk the dog", "buy eggs"]) {
    const more = await client.POST("/tasks", { body: { title, done: title === "buy eggs" } });
    check(more.response.status === 201, `createTask ${title}`);
  }

  // List with filters and paging: the ids come back newest first, one per page.
  const page = await client.GET("/tasks", {
    params: { query: { done: false, search: "BUY", ordering: "-id", limit: 1, offset: 0 } },
  });
  check(page.data !== undefined, "listTasks");
  check(page.data.total === 2 && page.data.items.length === 1, `listTasks total ${page.data.total}`);
  check(page.data.next !== null && page.data.previous === null, "listTasks links");
  check((page.response.headers.get("Link") ?? "").includes('rel="next"'), "Link header");
  const second = await client.GET("/tasks", {
    params: { query: { done: false, search: "BUY", ordering: "-id", limit: 1, offset: 1 } },
  });
  check(second.data?.items[0]?.id === task.id, "listTasks second page");
  step("listTasks", page.response.status);

  // Read, then read again with its ETag: 304, no body.
  const read = await client.GET("/tasks/{id}", { params: { path: { id: task.id } } });
  const etag = read.response.headers.get("ETag");
  check(read.data?.title === "buy milk" && etag !== null, "getTask");
  step("getTask", read.response.status);
  const unchanged = await client.GET("/tasks/{id}", {
    params: { path: { id: task.id }, header: { "If-None-Match": etag } },
  });
  check(unchanged.response.status === 304 && unchanged.data === undefined, `getTask 304: ${unchanged.response.status}`);
  step("getTask If-None-Match", unchanged.response.status);

  // PATCH with If-Match, then the same stale tag again: 412.
  const updated = await client.PATCH("/tasks/{id}", {
    params: { path: { id: task.id }, header: { "If-Match": etag } },
    body: { done: true },
  });
  check(updated.data?.done === true, "updateTask");
  check(updated.response.headers.get("ETag") !== etag, "a write changes the ETag");
  step("updateTask If-Match", updated.response.status);
  const stale = await client.PATCH("/tasks/{id}", {
    params: { path: { id: task.id }, header: { "If-Match": etag } },
    body: { title: "Lost update" },
  });
  problem(stale.error, 412);
  step("updateTask stale If-Match", stale.response.status);

  // PUT replaces: done goes back to false when left out.
  const replaced = await client.PUT("/tasks/{id}", { params: { path: { id: task.id } }, body: { title: "Buy oat milk" } });
  check(replaced.data?.title === "Buy oat milk" && replaced.data.done === false, "replaceTask");
  step("replaceTask", replaced.response.status);

  // DELETE, then the task is gone.
  const deleted = await client.DELETE("/tasks/{id}", { params: { path: { id: task.id } } });
  check(deleted.response.status === 204, "deleteTask");
  step("deleteTask", deleted.response.status);
  const gone = await client.GET("/tasks/{id}", { params: { path: { id: task.id } } });
  problem(gone.error, 404);
  step("getTask after delete", gone.response.status);

  // A 400 is a problem document naming the field.
  const invalid = await client.POST("/tasks", { body: { title: "x".repeat(201) } });
  const invalidProblem = problem(invalid.error, 400);
  check(invalidProblem.errors?.some((error) => error.pointer === "#/title") === true, "400 names #/title");
  step("createTask invalid", invalid.response.status);
}

// A create retried with its Idempotency-Key (say after a lost response)
// replays the first 201; the same key with another body is a 422.
async function retriedCreate(client: Api): Promise<void> {
  const key = randomUUID();
  const create = (title: string) =>
    client.POST("/tasks", { params: { header: { "Idempotency-Key": key } }, body: { title } });
  const first = await create("water the plants");
  const retry = await create("water the plants");
  check(first.data !== undefined && retry.data !== undefined, "createTask with Idempotency-Key");
  check(first.response.status === 201 && retry.response.status === 201, "the retry replays the 201");
  check(retry.data.id === first.data.id, `the retry created ${retry.data.id} besides ${first.data.id}`);
  for (const header of ["Location", "ETag"]) {
    check(retry.response.headers.get(header) === first.response.headers.get(header), `the retry's ${header}`);
  }
  step("createTask Idempotency-Key repeated", retry.response.status);

  const misused = await create("water the garden");
  problem(misused.error, 422);
  step("createTask Idempotency-Key another body", misused.response.status);

  const listed = await client.GET("/tasks", { params: { query: { search: "water" } } });
  check(listed.data?.items.map((task) => task.id).join() === `${first.data.id}`, "one task per key");
  step("listTasks after retries", listed.response.status);
}

// A local copy kept by listChanges, two changes a page: it ends equal to the
// list, and an incremental sync brings a create, a change and a deletion.
async function sync(client: Api): Promise<void> {
  const copy = new Map<number, Task>();
  const drain = async (from?: string): Promise<string> => {
    let cursor = from;
    for (;;) {
      const page = await client.GET("/tasks/changes", { params: { query: { cursor, limit: 2 } } });
      check(page.data !== undefined, `listChanges: ${page.response.status}`);
      for (const task of page.data.tasks) copy.set(task.id, task);
      for (const id of page.data.deleted) copy.delete(id);
      cursor = page.data.cursor;
      if (!page.data.more) return cursor;
    }
  };
  const sameAsServer = async (): Promise<boolean> => {
    const listed = await client.GET("/tasks", { params: { query: { limit: 100 } } });
    check(listed.data !== undefined, "listTasks for sync");
    const server = new Map(listed.data.items.map((task) => [task.id, JSON.stringify(task)]));
    return server.size === copy.size && [...copy].every(([id, task]) => server.get(id) === JSON.stringify(task));
  };

  const cursor = await drain();
  check(await sameAsServer(), "the synced copy is the server's tasks");
  step("listChanges from the beginning", 200);

  const added = await client.POST("/tasks", { body: { title: "sync me" } });
  check(added.data !== undefined, "createTask for sync");
  const some = [...copy.keys()].find((id) => id !== added.data.id);
  check(some !== undefined, "a task to change");
  await client.PATCH("/tasks/{id}", { params: { path: { id: some } }, body: { done: true } });
  await client.DELETE("/tasks/{id}", { params: { path: { id: added.data.id } } });
  await drain(cursor);
  check(await sameAsServer(), "the incremental sync caught up");
  check(copy.get(some)?.done === true && !copy.has(added.data.id), "change and deletion synced");
  step("listChanges incremental", 200);

  const madeUp = await client.GET("/tasks/changes", { params: { query: { cursor: "made-up" } } });
  const madeUpProblem = problem(madeUp.error, 400);
  check(madeUpProblem.errors?.some((error) => error.parameter === "cursor") === true, "400 names cursor");
  step("listChanges made-up cursor", madeUp.response.status);
}

// Who am I, and the tokens of each device: revoke one by its id, then all the others.
async function sessions(client: Api): Promise<void> {
  const me = await client.GET("/auth/me");
  check(me.data?.username === username && me.data.is_staff === false, `getMe: ${JSON.stringify(me.data)}`);
  step("getMe", me.response.status);

  const phone = await logIn("tasks-phone/2.0");
  const listed = await client.GET("/auth/tokens");
  check(listed.data !== undefined && listed.data.length === 2, `listTokens: ${JSON.stringify(listed.data)}`);
  check(listed.data.filter((token) => token.current).length === 1, "exactly one token is current");
  const other = listed.data.find((token) => !token.current);
  check(other !== undefined && other.user_agent === "tasks-phone/2.0", "the phone's token");
  check(listed.data[0]?.id === other.id, "newest first");
  step("listTokens", listed.response.status);

  const revoked = await client.DELETE("/auth/tokens/{id}", { params: { path: { id: other.id } } });
  check(revoked.response.status === 204, `revokeToken: ${revoked.response.status}`);
  step("revokeToken", revoked.response.status);
  await refused(phone, "revoked phone");
  const again = await client.DELETE("/auth/tokens/{id}", { params: { path: { id: other.id } } });
  problem(again.error, 404);
  step("revokeToken again", again.response.status);

  const tablet = await logIn("tasks-tablet/3.0");
  const others = await client.DELETE("/auth/tokens");
  check(others.response.status === 204, `revokeOtherTokens: ${others.response.status}`);
  step("revokeOtherTokens", others.response.status);
  await refused(tablet, "tablet after revokeOtherTokens");
  const remaining = await client.GET("/auth/tokens");
  check(remaining.data?.length === 1 && remaining.data[0]?.current === true, "only this token is left");
}

// A wrong old password names #/old_password; the right one changes it,
// logs the other devices out, and only the new password logs in.
async function changePassword(client: Api): Promise<void> {
  const newPassword = `correct horse ${randomUUID().slice(0, 8)} staple`;
  const phone = await logIn("tasks-phone/2.0");

  const wrong = await client.POST("/auth/password", {
    body: { old_password: "not the password", new_password: newPassword },
  });
  const wrongProblem = problem(wrong.error, 400);
  check(wrongProblem.errors?.map((error) => error.pointer).join() === "#/old_password", "400 names #/old_password");
  step("changePassword wrong old password", wrong.response.status);
  const weak = await client.POST("/auth/password", { body: { old_password: password, new_password: "12345678" } });
  const weakProblem = problem(weak.error, 400);
  check(weakProblem.errors?.every((error) => error.pointer === "#/new_password") === true, "400 names #/new_password");
  step("changePassword weak new password", weak.response.status);

  const changed = await client.POST("/auth/password", {
    body: { old_password: password, new_password: newPassword },
  });
  check(changed.response.status === 204, `changePassword: ${changed.response.status}`);
  step("changePassword", changed.response.status);
  const stillIn = await client.GET("/auth/me");
  check(stillIn.response.status === 200, "this token survives the change");
  await refused(phone, "phone after changePassword");

  const old = await anonymous("tasks-phone/2.0").POST("/auth/token", { body: { username, password } });
  problem(old.error, 400);
  step("login old password", old.response.status);
  const renewed = await logIn("tasks-phone/2.0", newPassword);
  const me = await renewed.GET("/auth/me");
  check(me.data?.username === username, "the new password logs in");
}

async function logOut(client: Api): Promise<void> {
  const logout = await client.POST("/auth/logout");
  check(logout.response.status === 204, "logout");
  step("logout", logout.response.status);
  const refusedList = await client.GET("/tasks");
  problem(refusedList.error, 401);
  check((refusedList.response.headers.get("WWW-Authenticate") ?? "").startsWith("Bearer"), "WWW-Authenticate");
  step("listTasks after logout", refusedList.response.status);
}

// The scenario: add a step by writing its function and calling it here.
await probe();
const laptop = await logIn("tasks-laptop/1.0");
await tasks(laptop);
await retriedCreate(laptop);
await sync(laptop);
await sessions(laptop);
await changePassword(laptop);
await logOut(laptop);

check(bodies.length > 0 && bodies.every((type) => type === "application/json"), `bodies went out as ${bodies}`);
step("bodies json", bodies.length);
