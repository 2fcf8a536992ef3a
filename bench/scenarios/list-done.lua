-- GET /tasks?limit=20&done=true: the first page of a filtered list (half the tasks are done).
local common = require("common")
common.use(common.list_done)
