-- GET /tasks/{id}, a random id in 1..ROWS.
local common = require("common")
common.use(common.retrieve)
