-- GET /tasks?limit=20&offset=ROWS-20: the last page, a deep offset.
local common = require("common")
common.use(common.deep)
