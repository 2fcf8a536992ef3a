// A client generated from the live /openapi.json (openapi-typescript) driven
// through every operation with openapi-fetch, written as an application
// would write it. tsc --strict must accept it unchanged; node runs it against
// the live service. Each step prints one line; any surprise throws.
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.js";

type Task = components["schemas"]["Task"];
type Problem = components["schemas"]["Problem"];

const baseUrl = required("TASKS_API_URL");
const username = required("TASKS_API_USERNAME");
const password = required("TASKS_API_PASSWORD");
const bodies: string[] = [];
// The Python scenario shares the user: these tasks carry a tag of their own.
const tag = Math.random().toString(36).slice(2, 10);

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

// Records the media type of every request that carries a body.
async function recordingFetch(request: Request): Promise<Response> {
  if (request.body !== null) bodies.push(request.headers.get("Content-Type") ?? "");
  return fetch(request);
}

function problem(error: Problem | undefined, status: number): Problem {
  check(error !== undefined && error.status === status, `expected a ${status} problem, got ${JSON.stringify(error)}`);
  return error;
}

const anonymous = createClient<paths>({ baseUrl, fetch: recordingFetch });

const health = await anonymous.GET("/healthz");
check(health.data?.status === "ok", "healthz");
step("getHealth", health.response.status);
const ready = await anonymous.GET("/readyz");
check(ready.data?.status === "ok", "readyz");
step("getReadiness", ready.response.status);

const login = await anonymous.POST("/auth/token", { body: { username, password } });
check(login.data !== undefined, `login: ${login.response.status}`);
step("login", login.response.status);

const client = createClient<paths>({
  baseUrl,
  fetch: recordingFetch,
  headers: { Authorization: `Bearer ${login.data.token}` },
});

// Create with only a title, as the tutorial's clients do.
const created = await client.POST("/tasks", { body: { title: `${tag} buy milk` } });
check(created.data !== undefined && created.response.status === 201, "createTask");
const task: Task = created.data;
check(task.done === false, "a new task is not done");
check(created.response.headers.get("Location") === `/tasks/${task.id}`, "Location");
step("createTask", created.response.status);
for (const title of ["buy bread", "walk the dog", "buy eggs"]) {
  const more = await client.POST("/tasks", { body: { title: `${tag} ${title}`, done: title === "buy eggs" } });
  check(more.response.status === 201, `createTask ${title}`);
}

// List with filters and paging: the ids come back newest first, one per page.
const page = await client.GET("/tasks", {
  params: { query: { done: false, search: `${tag} BUY`, ordering: "-id", limit: 1, offset: 0 } },
});
check(page.data !== undefined, "listTasks");
check(page.data.total === 2 && page.data.items.length === 1, `listTasks total ${page.data.total}`);
check(page.data.next !== null && page.data.previous === null, "listTasks links");
check((page.response.headers.get("Link") ?? "").includes('rel="next"'), "Link header");
const second = await client.GET("/tasks", {
  params: { query: { done: false, search: `${tag} BUY`, ordering: "-id", limit: 1, offset: 1 } },
});
check(second.data?.items[0]?.id === task.id, "listTasks second page");
step("listTasks", page.response.status);

// Read, then read again with its ETag: 304, no body.
const read = await client.GET("/tasks/{id}", { params: { path: { id: task.id } } });
const etag = read.response.headers.get("ETag");
check(read.data?.title === `${tag} buy milk` && etag !== null, "getTask");
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

// Log out: the token no longer works.
const logout = await client.POST("/auth/logout");
check(logout.response.status === 204, "logout");
step("logout", logout.response.status);
const refused = await client.GET("/tasks");
problem(refused.error, 401);
check((refused.response.headers.get("WWW-Authenticate") ?? "").startsWith("Bearer"), "WWW-Authenticate");
step("listTasks after logout", refused.response.status);

check(bodies.length > 0 && bodies.every((type) => type === "application/json"), `bodies went out as ${bodies}`);
console.log(`ok bodies ${bodies.length} json`);
