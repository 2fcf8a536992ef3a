-- GET /tasks?limit=20: the first page.
local common = require("common")
common.use(common.list)
