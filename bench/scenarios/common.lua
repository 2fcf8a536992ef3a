-- Shared by the scenario scripts (wrk 4, LuaJIT). Loaded with require("common"),
-- so wrk must run with bench/scenarios as its working directory.
--
-- Script arguments (after wrk's "--"): ROWS retrieve|noretrieve [NEXT]
--   ROWS        tasks seeded with ids 1..ROWS
--   noretrieve  the server has no GET /tasks/{id} (the FastAPI anchor)
--   NEXT        the path and query of the `next` link the deep-next scenario follows
--
-- The Authorization, X-Forwarded-Proto and Accept headers come from wrk -H.
-- Every response with a status >= 300 is counted (wrk itself only counts
-- >= 400), and done() prints one line for bench/run.py:
--   BENCH non2xx=<count> status=<last such status, 0 if none>

local common = {}

local threads = {}

-- Runs in wrk's setup environment, once per thread.
function common.setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

-- Runs in each thread before its first request.
function common.init(args)
   common.rows = tonumber(args[1]) or 10000
   common.has_retrieve = args[2] ~= "noretrieve"
   common.next_path = args[3]
   math.randomseed(os.time() * 100 + thread_number)
   non2xx = 0
   last_bad_status = 0
   created = 0
end

function common.response(status, headers, body)
   if status >= 300 then
      non2xx = non2xx + 1
      last_bad_status = status
   end
end

-- Runs in wrk's setup environment after the run.
function common.done(summary, latency, requests)
   local total, last = 0, 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("non2xx")
      local status = thread:get("last_bad_status")
      if status ~= 0 then
         last = status
      end
   end
   io.write(string.format("BENCH non2xx=%d status=%d\n", total, last))
end

-- A request with a JSON body, keeping the -H headers.
local function json_request(method, path, body)
   local headers = {}
   for name, value in pairs(wrk.headers) do
      headers[name] = value
   end
   headers["Content-Type"] = "application/json"
   return wrk.format(method, path, headers, body)
end

function common.random_id()
   return math.random(1, common.rows)
end

function common.list()
   return wrk.format("GET", "/tasks?limit=20")
end

function common.list_done()
   return wrk.format("GET", "/tasks?limit=20&done=true")
end

function common.deep()
   local offset = math.max(common.rows - 20, 0)
   return wrk.format("GET", "/tasks?limit=20&offset=" .. offset)
end

function common.deep_next()
   return wrk.format("GET", common.next_path)
end

function common.retrieve()
   return wrk.format("GET", "/tasks/" .. common.random_id())
end

function common.create()
   created = created + 1
   local title = string.format("bench task %d-%d", thread_number, created)
   return json_request("POST", "/tasks", '{"title": "' .. title .. '"}')
end

function common.patch()
   local done = "false"
   if math.random(2) == 1 then
      done = "true"
   end
   return json_request("PATCH", "/tasks/" .. common.random_id(), '{"done": ' .. done .. "}")
end

-- Installs the hooks every scenario shares, and `request` as given.
function common.use(request_function)
   setup = common.setup
   init = common.init
   response = common.response
   done = common.done
   request = request_function
end

return common
